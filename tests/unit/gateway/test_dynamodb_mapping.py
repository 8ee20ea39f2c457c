# ruff: noqa: E501  (request bodies read best one per line)
"""DynamoDB: one test per operation row, then the fine-grained keys, attacks and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.errors import AccessDenied, ValidationError
from webfed.gateway.dynamodb import (
    DynamoDBRequest,
    KeySchema,
    map_dynamodb_request,
    operation_of,
    tables_of,
)
from webfed.gateway.dynamodb_expressions import key_condition_value, top_level_names
from webfed.gateway.dynamodb_proxy import parse_key_schema

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Scores"
SCHEMAS = {
    "Scores": KeySchema("player", {"by-game": "game", "by-time": "player"}),
    "Other": KeySchema("id"),
}
KEY = {"player": {"S": "alice"}, "game": {"S": "g1"}}


def mapped(operation: str, body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    request = DynamoDBRequest(operation, body, "us-east-1", "123456789012")
    return [(c.action, c.resource, dict(c.context)) for c in map_dynamodb_request(request, SCHEMAS)]


ROWS: list[tuple[str, dict[str, Any], str, str, tuple[str, ...] | None]] = [
    ("GetItem", {"TableName": "Scores", "Key": KEY}, "dynamodb:GetItem", TABLE, ("alice",)),
    ("PutItem", {"TableName": "Scores", "Item": {**KEY, "s": {"N": "1"}}}, "dynamodb:PutItem", TABLE, ("alice",)),
    ("UpdateItem", {"TableName": "Scores", "Key": KEY, "UpdateExpression": "SET s = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}}, "dynamodb:UpdateItem", TABLE, ("alice",)),
    ("DeleteItem", {"TableName": "Scores", "Key": KEY}, "dynamodb:DeleteItem", TABLE, ("alice",)),
    ("Query", {"TableName": "Scores", "KeyConditionExpression": "player = :p", "ExpressionAttributeValues": {":p": {"S": "alice"}}}, "dynamodb:Query", TABLE, ("alice",)),
    ("Query", {"TableName": "Scores", "IndexName": "by-game", "KeyConditionExpression": "#g = :g", "ExpressionAttributeNames": {"#g": "game"}, "ExpressionAttributeValues": {":g": {"S": "g1"}}}, "dynamodb:Query", TABLE + "/index/by-game", ("g1",)),
    ("Scan", {"TableName": "Scores"}, "dynamodb:Scan", TABLE, None),
    ("Scan", {"TableName": "Scores", "IndexName": "by-time"}, "dynamodb:Scan", TABLE + "/index/by-time", None),
    ("DescribeTable", {"TableName": "Scores"}, "dynamodb:DescribeTable", TABLE, None),
    ("CreateTable", {"TableName": "Scores"}, "dynamodb:CreateTable", TABLE, None),
    ("DeleteTable", {"TableName": "Scores"}, "dynamodb:DeleteTable", TABLE, None),
    ("UpdateTable", {"TableName": "Scores"}, "dynamodb:UpdateTable", TABLE, None),
    ("DescribeTimeToLive", {"TableName": "Scores"}, "dynamodb:DescribeTimeToLive", TABLE, None),
    ("UpdateTimeToLive", {"TableName": "Scores"}, "dynamodb:UpdateTimeToLive", TABLE, None),
    ("ListTables", {}, "dynamodb:ListTables", "*", None),
    ("DescribeLimits", {}, "dynamodb:DescribeLimits", "*", None),
    ("ListTagsOfResource", {"ResourceArn": TABLE}, "dynamodb:ListTagsOfResource", TABLE, None),
    ("TagResource", {"ResourceArn": TABLE, "Tags": []}, "dynamodb:TagResource", TABLE, None),
    ("UntagResource", {"ResourceArn": TABLE, "TagKeys": []}, "dynamodb:UntagResource", TABLE, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("operation", "body", "action", "resource", "leading"),
    ROWS,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(ROWS)],
)
def test_row(
    operation: str,
    body: dict[str, Any],
    action: str,
    resource: str,
    leading: tuple[str, ...] | None,
) -> None:
    ((got_action, got_resource, context),) = mapped(operation, body)
    assert (got_action, got_resource) == (action, resource)
    assert context.get("dynamodb:LeadingKeys") == leading


def test_batch_get_checks_each_table_with_its_keys() -> None:
    body = {
        "RequestItems": {
            "Scores": {"Keys": [KEY, {"player": {"S": "bob"}}], "ProjectionExpression": "s, #n", "ExpressionAttributeNames": {"#n": "name"}},
            "Other": {"Keys": [{"id": {"N": "7"}}]},
        }
    }  # fmt: skip
    checks = mapped("BatchGetItem", body)
    assert [(a, r) for a, r, _ in checks] == [
        ("dynamodb:BatchGetItem", TABLE),
        ("dynamodb:BatchGetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Other"),
    ]
    assert checks[0][2]["dynamodb:LeadingKeys"] == ("alice", "bob")
    assert checks[0][2]["dynamodb:Attributes"] == ("s", "name")
    assert checks[1][2]["dynamodb:LeadingKeys"] == ("7",)


def test_batch_write_leading_keys_and_attributes() -> None:
    body = {
        "RequestItems": {
            "Scores": [
                {"PutRequest": {"Item": {"player": {"S": "alice"}, "s": {"N": "1"}}}},
                {"DeleteRequest": {"Key": {"player": {"S": "carol"}}}},
            ]
        }
    }
    ((action, _, context),) = mapped("BatchWriteItem", body)
    assert action == "dynamodb:BatchWriteItem"
    assert context["dynamodb:LeadingKeys"] == ("alice", "carol")
    assert context["dynamodb:Attributes"] == ("player", "s")


def test_transactions_check_each_item_with_its_action() -> None:
    body = {
        "TransactItems": [
            {"Put": {"TableName": "Scores", "Item": {"player": {"S": "alice"}}}},
            {"Update": {"TableName": "Scores", "Key": KEY, "UpdateExpression": "ADD s :one"}},
            {"Delete": {"TableName": "Other", "Key": {"id": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": "Scores", "Key": {"player": {"S": "bob"}}}},
        ]
    }
    checks = mapped("TransactWriteItems", body)
    assert [(a, c["dynamodb:LeadingKeys"]) for a, _, c in checks] == [
        ("dynamodb:PutItem", ("alice",)),
        ("dynamodb:UpdateItem", ("alice",)),
        ("dynamodb:DeleteItem", ("x",)),
        ("dynamodb:ConditionCheckItem", ("bob",)),
    ]
    gets = mapped(
        "TransactGetItems", {"TransactItems": [{"Get": {"TableName": "Scores", "Key": KEY}}]}
    )
    assert gets[0][0] == "dynamodb:GetItem"


def test_fine_grained_keys() -> None:
    body = {
        "TableName": "Scores",
        "Key": KEY,
        "UpdateExpression": "SET #s = if_not_exists(#s, :z) + :one, stats.wins = :w REMOVE old[1]",
        "ExpressionAttributeNames": {"#s": "score"},
        "ReturnValues": "ALL_NEW",
    }
    ((_, _, context),) = mapped("UpdateItem", body)
    assert context["dynamodb:Attributes"] == ("player", "game", "score", "stats", "old")
    assert context["dynamodb:ReturnValues"] == "ALL_NEW"
    query = {"TableName": "Scores", "KeyConditions": {"player": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "alice"}]}}, "Select": "COUNT"}  # fmt: skip
    ((_, _, context),) = mapped("Query", query)
    assert context["dynamodb:Select"] == "COUNT"
    ((_, _, context),) = mapped("Query", {**query, "Select": None, "AttributesToGet": ["a"]})
    assert context["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert context["dynamodb:Attributes"] == ("a",)


def test_tables_of() -> None:
    assert tables_of("GetItem", {"TableName": "Scores"}) == ("Scores",)
    assert tables_of("BatchGetItem", {"RequestItems": {"A": {}, "B": {}}}) == ("A", "B")
    assert tables_of("ListTables", {}) == ()


@pytest.mark.parametrize(
    "target",
    [None, "Other_2020.GetItem", "DynamoDB_20120810.ExecuteStatement", "DynamoDB_20120810.Nope"],
    ids=["missing", "other-service", "partiql", "unknown"],
)
def test_unknown_targets_are_denied(target: str | None) -> None:
    with pytest.raises(AccessDenied):
        operation_of(target)


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("GetItem", {"TableName": "Scores", "Key": {"game": {"S": "g"}}}),
        ("GetItem", {"TableName": "Scores", "Key": {"player": {"M": {}}}}),
        ("GetItem", {"Key": KEY}),
        ("GetItem", {"TableName": "Missing", "Key": KEY}),
        ("Query", {"TableName": "Scores", "KeyConditionExpression": "player > :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
        ("Query", {"TableName": "Scores", "KeyConditionExpression": "player = :p OR player = :q", "ExpressionAttributeValues": {":p": {"S": "a"}, ":q": {"S": "b"}}}),
        ("Query", {"TableName": "Scores", "KeyConditionExpression": "player = :p"}),
        ("Query", {"TableName": "Scores", "KeyConditionExpression": "#x = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
        ("Query", {"TableName": "Scores", "IndexName": "nope", "KeyConditionExpression": "player = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
        ("BatchWriteItem", {"RequestItems": {"Scores": [{"UpdateRequest": {}}]}}),
        ("BatchWriteItem", {"RequestItems": {"Scores": [{"PutRequest": {"Item": {"player": {"S": str(i)}}}} for i in range(101)]}}),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "Scores", "Item": KEY}, "Delete": {"TableName": "Scores", "Key": KEY}}]}),
        ("TransactWriteItems", {"TransactItems": "no"}),
        ("ListTagsOfResource", {}),
    ],
    ids=[
        "key-without-partition-key", "key-not-scalar", "no-table", "unknown-table",
        "query-range-on-partition-key", "query-two-partitions", "query-undefined-value",
        "query-undefined-name", "query-unknown-index", "batch-unknown-request",
        "batch-too-many", "transact-two-kinds", "transact-not-a-list", "tags-without-arn",
    ],
)  # fmt: skip
def test_malformed_requests_are_refused(operation: str, body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        mapped(operation, body)


def test_parse_key_schema_from_describe_table() -> None:
    description = {
        "Table": {
            "KeySchema": [
                {"AttributeName": "sk", "KeyType": "RANGE"},
                {"AttributeName": "player", "KeyType": "HASH"},
            ],
            "GlobalSecondaryIndexes": [
                {"IndexName": "g", "KeySchema": [{"AttributeName": "game", "KeyType": "HASH"}]}
            ],
            "LocalSecondaryIndexes": [
                {"IndexName": "l", "KeySchema": [{"AttributeName": "player", "KeyType": "HASH"}]}
            ],
        }
    }
    assert parse_key_schema(description) == KeySchema("player", {"g": "game", "l": "player"})


def test_expression_helpers() -> None:
    names = {"#a": "alpha"}
    assert top_level_names("#a.b[2], size(c), :v, d", names) == ("alpha", "c", "d")
    values = {":v": {"N": "12"}}
    assert key_condition_value(":v = #a AND begins_with(sk, :x)", "alpha", names, values) == "12"


scalars = st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=8)


@given(players=st.lists(scalars, min_size=1, max_size=25))
def test_batch_write_leading_keys_are_exactly_the_players(players: list[str]) -> None:
    writes = [{"PutRequest": {"Item": {"player": {"S": p}}}} for p in players]
    ((_, _, context),) = mapped("BatchWriteItem", {"RequestItems": {"Scores": writes}})
    assert set(context["dynamodb:LeadingKeys"]) == set(players)


@given(player=scalars, name=st.sampled_from(["#p", "player"]), reverse=st.booleans())
def test_query_leading_key_in_any_spelling(player: str, name: str, reverse: bool) -> None:
    condition = f":v = {name}" if reverse else f"{name} = :v"
    body = {
        "TableName": "Scores",
        "KeyConditionExpression": f"{condition} AND begins_with(sk, :s)",
        "ExpressionAttributeNames": {"#p": "player"},
        "ExpressionAttributeValues": {":v": {"S": player}, ":s": {"S": "x"}},
    }
    ((_, _, context),) = mapped("Query", body)
    assert context["dynamodb:LeadingKeys"] == (player,)

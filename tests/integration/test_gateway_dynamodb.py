"""The DynamoDB gateway end to end: each player's own rows by ``dynamodb:LeadingKeys``, through
boto3 and the AWS CLI, a real webfed server, a real gateway process and a real moto upstream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.test_federation_harness import ACCOUNT, Federation, federation
from tests.integration.test_gateway_harness import (
    Game,
    Gateway,
    MotoServer,
    expired_credentials,
    game_role,
    module_servers,
    tampered,
)

__all__ = ["federation"]

TABLE = "Scores"
ITEM_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]


def game_statements(prefix: str) -> list[dict[str, Any]]:
    """The Cognito Developer Guide's per-identity rows policy, keyed by ``<provider>:sub``."""
    return [
        {
            "Effect": "Allow",
            "Action": ITEM_ACTIONS,
            "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${" + prefix + ":sub}"]}
            },
        }
    ]


@pytest.fixture(scope="module")
def servers(
    federation: Federation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MotoServer, Gateway]]:
    tmp = tmp_path_factory.mktemp("gateway-dynamodb")
    for pair in module_servers(federation, tmp, "dynamodb"):
        pair[0].client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "player", "KeyType": "HASH"},
                {"AttributeName": "slot", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "player", "AttributeType": "S"},
                {"AttributeName": "slot", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield pair


@pytest.fixture(scope="module")
def game(federation: Federation, servers: tuple[MotoServer, Gateway]) -> Game:
    return game_role(federation, game_statements(federation.prefix))


@pytest.fixture(scope="module")
def alice(game: Game) -> dict[str, Any]:
    return game.player("alice")


@pytest.fixture(scope="module")
def db(servers: tuple[MotoServer, Gateway], alice: dict[str, Any]) -> Any:
    return servers[1].client(alice)


def key(player: str, slot: str = "1") -> dict[str, Any]:
    return {"player": {"S": player}, "slot": {"S": slot}}


def code_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_own_rows(db: Any) -> None:
    db.put_item(TableName=TABLE, Item={**key("alice"), "score": {"N": "10"}})
    db.update_item(
        TableName=TABLE,
        Key=key("alice"),
        UpdateExpression="ADD score :five",
        ExpressionAttributeValues={":five": {"N": "5"}},
    )
    item = db.get_item(TableName=TABLE, Key=key("alice"))["Item"]
    assert item["score"] == {"N": "15"}
    found = db.query(
        TableName=TABLE,
        KeyConditionExpression="player = :me",
        ExpressionAttributeValues={":me": {"S": "alice"}},
    )
    assert found["Count"] == 1
    db.batch_write_item(
        RequestItems={TABLE: [{"PutRequest": {"Item": key("alice", str(n))}} for n in range(2, 5)]}
    )
    got = db.batch_get_item(RequestItems={TABLE: {"Keys": [key("alice", "2"), key("alice", "3")]}})
    assert len(got["Responses"][TABLE]) == 2
    db.delete_item(TableName=TABLE, Key=key("alice", "4"))


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.get_item(TableName=TABLE, Key=key("bob")),
        lambda db: db.put_item(TableName=TABLE, Item=key("bob")),
        lambda db: db.delete_item(TableName=TABLE, Key=key("bob")),
        lambda db: db.update_item(
            TableName=TABLE,
            Key=key("bob"),
            UpdateExpression="SET score = :z",
            ExpressionAttributeValues={":z": {"N": "0"}},
        ),
        lambda db: db.query(
            TableName=TABLE,
            KeyConditionExpression="#p = :who",
            ExpressionAttributeNames={"#p": "player"},
            ExpressionAttributeValues={":who": {"S": "bob"}},
        ),
        lambda db: db.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": key("alice")}},
                    {"PutRequest": {"Item": key("bob")}},
                ]
            }
        ),
        lambda db: db.batch_get_item(RequestItems={TABLE: {"Keys": [key("alice"), key("bob")]}}),
        lambda db: db.transact_write_items(
            TransactItems=[{"Put": {"TableName": TABLE, "Item": key("bob")}}]
        ),
        lambda db: db.scan(TableName=TABLE),
        lambda db: db.delete_table(TableName=TABLE),
    ],
    ids=[
        "get-other",
        "put-other",
        "delete-other",
        "update-other",
        "query-other",
        "batch-write-mixed",
        "batch-get-mixed",
        "transact-other",
        "scan",
        "delete-table",
    ],
)
def test_other_players_rows_are_denied(db: Any, call: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(db)
    assert code_of(caught) == "AccessDeniedException"
    assert "Encoded authorization failure message" in caught.value.response["Error"]["Message"]


def test_unknown_table_is_not_found(db: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        db.get_item(TableName="Nope", Key=key("alice"))
    assert code_of(caught) == "ResourceNotFoundException"


def test_expired_credentials_are_refused(
    federation: Federation, servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client(expired_credentials(federation, alice))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_item(TableName=TABLE, Key=key("alice"))
    assert code_of(caught) == "ExpiredTokenException"


def test_tampered_session_token_is_refused(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client(tampered(alice))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_item(TableName=TABLE, Key=key("alice"))
    assert code_of(caught) == "UnrecognizedClientException"


def test_wrong_secret_is_invalid_signature(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client({**alice, "SecretAccessKey": alice["SecretAccessKey"][::-1]})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_item(TableName=TABLE, Key=key("alice"))
    assert code_of(caught) == "InvalidSignatureException"


def test_session_policy_narrows_the_role(game: Game, servers: tuple[MotoServer, Gateway]) -> None:
    read_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}],
    }
    client = servers[1].client(game.player("carol", Policy=json.dumps(read_only)))
    assert "Item" not in client.get_item(TableName=TABLE, Key=key("carol"))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.put_item(TableName=TABLE, Item=key("carol"))
    assert code_of(caught) == "AccessDeniedException"


def test_role_policy_change_reaches_live_sessions(
    federation: Federation, servers: tuple[MotoServer, Gateway]
) -> None:
    game = game_role(federation, game_statements(federation.prefix))
    client = servers[1].client(game.player("dave"))
    client.put_item(TableName=TABLE, Item=key("dave"))
    statements = game_statements(federation.prefix)
    statements[0]["Action"] = ["dynamodb:GetItem"]
    game.set_policy({"Version": "2012-10-17", "Statement": statements})

    def put_is_denied() -> None:
        try:
            client.put_item(TableName=TABLE, Item=key("dave", "2"))
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDeniedException"
            return
        raise AssertionError("the live session may still write")

    federation.wait_for_iam(put_is_denied)
    assert client.get_item(TableName=TABLE, Key=key("dave"))["Item"]["player"] == {"S": "dave"}


def test_aws_cli_own_row_and_denial(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], db: Any
) -> None:
    db.put_item(TableName=TABLE, Item={**key("alice", "cli"), "n": {"N": "1"}})
    gateway = servers[1]
    own = gateway.aws(
        alice,
        "dynamodb",
        "get-item",
        "--table-name",
        TABLE,
        "--key",
        json.dumps(key("alice", "cli")),
    )
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout)["Item"]["n"] == {"N": "1"}
    other = gateway.aws(
        alice, "dynamodb", "get-item", "--table-name", TABLE, "--key", json.dumps(key("bob"))
    )
    assert other.returncode != 0
    assert "AccessDeniedException" in other.stderr

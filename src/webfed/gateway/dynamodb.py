"""Map a DynamoDB JSON request to the IAM actions, resources and condition keys it needs.

The operation is the ``X-Amz-Target`` header (``DynamoDB_20120810.GetItem``); the action is
``dynamodb:<Operation>`` and the resource ``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`` or
``.../table/NAME/index/INDEX`` ("Actions, resources, and condition keys for Amazon DynamoDB",
Service Authorization Reference). Batch operations are checked per table; transactions per item
with the item-level action (``dynamodb:GetItem`` for ``TransactGetItems``; ``PutItem``,
``UpdateItem``, ``DeleteItem``, ``ConditionCheckItem`` for ``TransactWriteItems``).

Fine-grained access keys ("Using IAM policy conditions for fine-grained access control"):

* ``dynamodb:LeadingKeys``: the partition-key values of every item the request touches, which
  needs each table's key schema (:class:`KeySchema`, learned from the upstream once);
* ``dynamodb:Attributes``: the top-level attribute names the request reads or writes;
* ``dynamodb:Select`` and ``dynamodb:ReturnValues``: the request's parameters.

``Scan`` touches every partition and sets no ``LeadingKeys``; policies that restrict rows must
not grant it (as in AWS). PartiQL operations are refused: their rows cannot be known up front.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from webfed.errors import AccessDenied, ValidationError
from webfed.gateway.checks import AccessCheck, ContextValue
from webfed.gateway.dynamodb_expressions import (
    attribute_value_text,
    key_condition_value,
    top_level_names,
)

__all__ = [
    "ITEM_OPERATIONS",
    "TABLE_OPERATIONS",
    "TARGET_PREFIX",
    "DynamoDBRequest",
    "KeySchema",
    "map_dynamodb_request",
    "operation_of",
    "tables_of",
]

TARGET_PREFIX = "DynamoDB_20120810."
Json = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class KeySchema:
    """A table's partition key attribute, and each index's (``None`` for an unknown table)."""

    partition_key: str
    index_partition_keys: Mapping[str, str] = field(default_factory=dict)

    def for_index(self, index: str | None) -> str:
        if index is None:
            return self.partition_key
        if index not in self.index_partition_keys:
            raise ValidationError(f"The table does not have the specified index: {index}")
        return self.index_partition_keys[index]


@dataclass(frozen=True, slots=True)
class DynamoDBRequest:
    operation: str
    body: Json
    region: str
    account: str


ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"})
TABLE_OPERATIONS = frozenset(
    {
        "DescribeTable", "CreateTable", "DeleteTable", "UpdateTable", "DescribeTimeToLive",
        "UpdateTimeToLive", "DescribeContinuousBackups", "UpdateContinuousBackups",
        "DescribeKinesisStreamingDestination", "DescribeTableReplicaAutoScaling",
        "DescribeContributorInsights", "CreateBackup", "ListBackups",
    }
)  # fmt: skip
_ACCOUNT_OPERATIONS = frozenset({"ListTables", "DescribeLimits", "DescribeEndpoints"})
_TAG_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsOfResource"})
_BATCH_OPERATIONS = frozenset({"BatchGetItem", "BatchWriteItem"})
_TRANSACT_ACTIONS = {
    "Get": "dynamodb:GetItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_TRANSACT_OPERATIONS = frozenset({"TransactGetItems", "TransactWriteItems"})
MAX_BATCH_ITEMS = 100


def operation_of(target: str | None) -> str:
    """The operation named by ``X-Amz-Target``; anything else is refused."""
    if not target or not target.startswith(TARGET_PREFIX):
        raise AccessDenied("The gateway serves DynamoDB_20120810 operations only.")
    operation = target[len(TARGET_PREFIX) :]
    known = (
        ITEM_OPERATIONS | TABLE_OPERATIONS | _ACCOUNT_OPERATIONS | _TAG_OPERATIONS
        | _BATCH_OPERATIONS | _TRANSACT_OPERATIONS
    )  # fmt: skip
    if operation not in known:
        raise AccessDenied(f"The gateway does not support DynamoDB operation {operation[:64]}.")
    return operation


def table_arn(region: str, account: str, table: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _text(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a non-empty string.")
    return value


def _mapping(value: object, what: str) -> Json:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be an object.")
    return value


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValidationError(f"{what} must be a list.")
    return value


def _names(body: Json) -> Mapping[str, str]:
    names = body.get("ExpressionAttributeNames") or {}
    mapping = _mapping(names, "ExpressionAttributeNames")
    return {str(k): str(v) for k, v in mapping.items()}


def _required_table(body: Json) -> str:
    table = _text(body, "TableName")
    if table is None:
        raise ValidationError("TableName is required.")
    return table


def tables_of(operation: str, body: Json) -> tuple[str, ...]:
    """The tables whose key schema the mapping needs (item-level operations only)."""
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"):
        return (_required_table(body),)
    if operation in _BATCH_OPERATIONS:
        return tuple(_mapping(body.get("RequestItems"), "RequestItems"))
    if operation in _TRANSACT_OPERATIONS:
        return tuple(dict.fromkeys(table for _, table, _ in _transact_items(body)))
    return ()


def _leading_key(item: object, schema: KeySchema, index: str | None = None) -> str:
    key = schema.for_index(index)
    value = _mapping(item, "Key").get(key)
    if value is None:
        raise ValidationError(f"The provided key element does not match the schema: {key}")
    return attribute_value_text(value)


def _projection(body: Json) -> tuple[str, ...] | None:
    expression = _text(body, "ProjectionExpression")
    if expression is not None:
        return top_level_names(expression, _names(body))
    listed = body.get("AttributesToGet")
    if listed is not None:
        return tuple(str(name) for name in _list(listed, "AttributesToGet"))
    return None


def _written_names(operation: str, body: Json, key_names: Iterable[str]) -> tuple[str, ...]:
    if operation == "PutItem":
        return tuple(_mapping(body.get("Item"), "Item"))
    names = dict.fromkeys(key_names)
    if operation == "UpdateItem":
        expression = _text(body, "UpdateExpression")
        if expression is not None:
            names.update(dict.fromkeys(top_level_names(expression, _names(body))))
        updates = body.get("AttributeUpdates")
        if updates is not None:
            names.update(dict.fromkeys(_mapping(updates, "AttributeUpdates")))
    return tuple(names)


def _common_keys(
    operation: str, body: Json, attributes: tuple[str, ...] | None
) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    if attributes is not None:
        context["dynamodb:Attributes"] = attributes
    for parameter, key in (
        ("ReturnValues", "dynamodb:ReturnValues"),
        ("Select", "dynamodb:Select"),
    ):
        value = _text(body, parameter)
        if value is not None:
            context[key] = value
    if operation in ("Query", "Scan") and "dynamodb:Select" not in context:
        projected = body.get("ProjectionExpression") or body.get("AttributesToGet")
        context["dynamodb:Select"] = "SPECIFIC_ATTRIBUTES" if projected else "ALL_ATTRIBUTES"
    return context


def _item_check(request: DynamoDBRequest, schemas: Mapping[str, KeySchema]) -> AccessCheck:
    operation, body = request.operation, request.body
    table = _required_table(body)
    index = _text(body, "IndexName") if operation in ("Query", "Scan") else None
    resource = table_arn(request.region, request.account, table, index)
    if operation == "Scan":
        return AccessCheck.of(
            "dynamodb:Scan", resource, _common_keys(operation, body, _projection(body))
        )
    schema = _schema(schemas, table)
    if operation == "Query":
        leading = _query_leading_key(body, schema.for_index(index))
        attributes = _projection(body)
    else:
        item = body.get("Item") if operation == "PutItem" else body.get("Key")
        leading = _leading_key(item, schema)
        keys = _mapping(item, "Key")
        attributes = (
            _projection(body) if operation == "GetItem" else _written_names(operation, body, keys)
        )
    context = _common_keys(operation, body, attributes)
    context["dynamodb:LeadingKeys"] = (leading,)
    return AccessCheck.of(f"dynamodb:{operation}", resource, context)


def _query_leading_key(body: Json, partition_key: str) -> str:
    expression = _text(body, "KeyConditionExpression")
    if expression is not None:
        values = _mapping(body.get("ExpressionAttributeValues") or {}, "ExpressionAttributeValues")
        return key_condition_value(expression, partition_key, _names(body), values)
    conditions = _mapping(body.get("KeyConditions") or {}, "KeyConditions")
    condition = _mapping(conditions.get(partition_key) or {}, "KeyConditions")
    listed = condition.get("AttributeValueList")
    if (
        condition.get("ComparisonOperator") != "EQ"
        or not isinstance(listed, list)
        or len(listed) != 1
    ):
        raise ValidationError("Query condition missed key schema element: " + partition_key)
    return attribute_value_text(listed[0])


def _schema(schemas: Mapping[str, KeySchema], table: str) -> KeySchema:
    if table not in schemas:
        raise ValidationError(f"Requested resource not found: Table: {table} not found")
    return schemas[table]


def _batch_checks(request: DynamoDBRequest, schemas: Mapping[str, KeySchema]) -> list[AccessCheck]:
    items = _mapping(request.body.get("RequestItems"), "RequestItems")
    checks: list[AccessCheck] = []
    total = 0
    for table, entry in items.items():
        schema = _schema(schemas, table)
        if request.operation == "BatchGetItem":
            spec = _mapping(entry, "KeysAndAttributes")
            keys = _list(spec.get("Keys"), "Keys")
            leading = [_leading_key(key, schema) for key in keys]
            attributes = _projection(spec)
        else:
            writes = [_mapping(w, "WriteRequest") for w in _list(entry, "WriteRequests")]
            keys = [_write_item(write) for write in writes]
            leading = [_leading_key(key, schema) for key in keys]
            attributes = tuple(
                dict.fromkeys(name for key in keys for name in _mapping(key, "Item"))
            )
        total += len(keys)
        context = _common_keys(request.operation, {}, attributes)
        context["dynamodb:LeadingKeys"] = tuple(dict.fromkeys(leading))
        resource = table_arn(request.region, request.account, table)
        checks.append(AccessCheck.of(f"dynamodb:{request.operation}", resource, context))
    if total > MAX_BATCH_ITEMS:
        raise ValidationError("Too many items requested for the batch operation.")
    return checks


def _write_item(write: Json) -> object:
    if "PutRequest" in write:
        return _mapping(write["PutRequest"], "PutRequest").get("Item")
    if "DeleteRequest" in write:
        return _mapping(write["DeleteRequest"], "DeleteRequest").get("Key")
    raise ValidationError("A write request must be a PutRequest or a DeleteRequest.")


def _transact_items(body: Json) -> list[tuple[str, str, Json]]:
    found: list[tuple[str, str, Json]] = []
    for entry in _list(body.get("TransactItems"), "TransactItems"):
        item = _mapping(entry, "TransactItem")
        kinds = [kind for kind in item if kind in _TRANSACT_ACTIONS]
        if len(item) != 1 or len(kinds) != 1:
            raise ValidationError(
                "A transaction item must be one of Get, Put, Update, Delete or ConditionCheck."
            )
        details = _mapping(item[kinds[0]], kinds[0])
        found.append((kinds[0], _required_table(details), details))
    if len(found) > MAX_BATCH_ITEMS:
        raise ValidationError("Too many items in the transaction.")
    return found


def _transact_checks(
    request: DynamoDBRequest, schemas: Mapping[str, KeySchema]
) -> list[AccessCheck]:
    checks: list[AccessCheck] = []
    for kind, table, details in _transact_items(request.body):
        action = _TRANSACT_ACTIONS[kind]
        operation = action.removeprefix("dynamodb:")
        item = details.get("Item") if kind == "Put" else details.get("Key")
        leading = _leading_key(item, _schema(schemas, table))
        if operation == "GetItem":
            attributes = _projection(details)
        elif operation == "ConditionCheckItem":
            attributes = tuple(_mapping(item, "Key"))
        else:
            attributes = _written_names(operation, details, _mapping(item, "Key"))
        context = _common_keys(operation, details, attributes)
        context["dynamodb:LeadingKeys"] = (leading,)
        resource = table_arn(request.region, request.account, table)
        checks.append(AccessCheck.of(action, resource, context))
    return checks


def map_dynamodb_request(
    request: DynamoDBRequest, schemas: Mapping[str, KeySchema]
) -> tuple[AccessCheck, ...]:
    """Every check the request needs; ``schemas`` must cover :func:`tables_of` the request."""
    operation, body = request.operation, request.body
    if operation in ITEM_OPERATIONS:
        return (_item_check(request, schemas),)
    if operation in _BATCH_OPERATIONS:
        return tuple(_batch_checks(request, schemas))
    if operation in _TRANSACT_OPERATIONS:
        return tuple(_transact_checks(request, schemas))
    action = f"dynamodb:{operation}"
    if operation in _ACCOUNT_OPERATIONS:
        return (AccessCheck.of(action, "*"),)
    if operation in _TAG_OPERATIONS:
        arn = _text(body, "ResourceArn")
        if arn is None:
            raise ValidationError("ResourceArn is required.")
        return (AccessCheck.of(action, arn),)
    table = _required_table(body)
    return (AccessCheck.of(action, table_arn(request.region, request.account, table)),)

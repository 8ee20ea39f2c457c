"""Fuzz the DynamoDB gateway's request mapping and its reading of ``DescribeTable`` answers.

Two shapes of input, chosen by the first byte:

0. **request**: an ``X-Amz-Target`` (one of the DynamoDB operations, or fuzzed text) and a
   JSON body, mapped as :class:`webfed.gateway.dynamodb_proxy.DynamoDBGateway` maps them:
   :func:`~webfed.gateway.dynamodb.operation_of`, the strict body reader, the tables whose key
   schemas are needed (:func:`~webfed.gateway.dynamodb.tables_of`, answered from a fixed set of
   schemas, as the schema cache would) and :func:`~webfed.gateway.dynamodb.map_dynamodb_request`.
   Every check must be a ``dynamodb:`` action; an item-level check must carry
   ``dynamodb:LeadingKeys``.
1. **schema**: the rest is the bytes of an upstream ``DescribeTable`` answer, read with
   :func:`~webfed.gateway.dynamodb_proxy.read_key_schema` (an unusable answer is the
   upstream's fault: ``ServiceUnavailable`` is its documented refusal).

Run: ``.venv/bin/python tests/fuzz/fuzz_dynamodb.py -runs=1000000 tests/fuzz/corpus/dynamodb``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import contextlib

from tests.fuzz._common import FuzzFailure, Input, expect_client_error, instrumented, main
from webfed.errors import ServiceUnavailable

with instrumented(__name__ == "__main__"):
    from webfed.gateway.dynamodb import (
        ITEM_OPERATIONS,
        TABLE_OPERATIONS,
        TARGET_PREFIX,
        DynamoDBRequest,
        KeySchema,
        map_dynamodb_request,
        operation_of,
        tables_of,
    )
    from webfed.gateway.dynamodb_proxy import json_body, read_key_schema

__all__ = ["OPERATIONS", "SCHEMAS", "check"]

OPERATIONS = tuple(
    sorted(
        ITEM_OPERATIONS
        | TABLE_OPERATIONS
        | {"ListTables", "TagResource", "ListTagsOfResource", "BatchGetItem", "BatchWriteItem"}
        | {"TransactGetItems", "TransactWriteItems", "DescribeLimits", "UntagResource"}
    )
)
SCHEMAS = {
    "Music": KeySchema("Artist", {"ByAlbum": "Album", "ByYear": "Year"}),
    "Users": KeySchema("UserId"),
    "T": KeySchema("pk", {"gsi": "gpk"}),
}


def _request(reader: Input) -> None:
    if reader.boolean():
        target: str | None = TARGET_PREFIX + reader.pick(OPERATIONS)
    else:
        target = reader.text(256) if reader.boolean() else None
    body = reader.rest()

    def run() -> None:
        operation = operation_of(target)
        document = json_body(body)
        tables = tables_of(operation, document)
        schemas = {table: SCHEMAS[table] for table in tables if table in SCHEMAS}
        if len(schemas) != len(set(tables)):
            return  # the gateway answers ResourceNotFound for an unknown table
        request = DynamoDBRequest(operation, document, "us-east-1", "123456789012")
        for access in map_dynamodb_request(request, schemas):
            if not access.action.startswith("dynamodb:"):
                raise FuzzFailure(f"a check for a non-DynamoDB action: {access.action!r}")
            item_level = access.action.removeprefix("dynamodb:") in ITEM_OPERATIONS - {"Scan"}
            if item_level and "dynamodb:LeadingKeys" not in access.context:
                raise FuzzFailure(f"{access.action} checked without dynamodb:LeadingKeys")

    expect_client_error(run)


def _schema(reader: Input) -> None:
    with contextlib.suppress(ServiceUnavailable):
        read_key_schema(reader.rest())


def check(data: bytes) -> None:
    """Map a fuzzed DynamoDB request or read a fuzzed schema; raise only on a crash."""
    reader = Input(data)
    (_request, _schema)[reader.int_in(0, 1)](reader)


if __name__ == "__main__":
    main(check)

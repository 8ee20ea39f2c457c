"""One DynamoDB request through the gateway: verify, learn key schemas, authorize, forward.

DynamoDB bodies are small JSON documents (at most 16 MB, "Service, account, and table quotas"):
the body is read whole, since the signature covers its SHA-256 and the condition keys come from
it. Key schemas are learned from the upstream with ``DescribeTable`` the first time a table is
seen, and remembered for :data:`SCHEMA_TTL_SECONDS` (a table deleted and re-created with
another key through the gateway is forgotten at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from webfed.core import sigv4
from webfed.errors import ResourceNotFound, SerializationError, ServiceUnavailable
from webfed.gateway.access import GatewayAccess
from webfed.gateway.audit import GatewayRecord
from webfed.gateway.body import Receive, read_all
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.dynamodb import (
    TARGET_PREFIX,
    DynamoDBRequest,
    KeySchema,
    map_dynamodb_request,
    operation_of,
    tables_of,
)
from webfed.gateway.proxy import Send, Upstream, forwarded_request_headers, relay_response
from webfed.gateway.s3_proxy import http_request

__all__ = [
    "MAX_BODY",
    "SCHEMA_TTL_SECONDS",
    "DynamoDBGateway",
    "KeySchemaCache",
    "json_body",
    "parse_key_schema",
    "read_key_schema",
]

MAX_BODY = 16 * 1024 * 1024
SCHEMA_TTL_SECONDS = 300.0
_SCHEMA_CHANGES = frozenset({"CreateTable", "DeleteTable", "UpdateTable"})
Scope = MutableMapping[str, Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _hash_key(schema: object) -> str | None:
    if not isinstance(schema, list):
        return None
    for element in schema:
        if isinstance(element, dict) and element.get("KeyType") == "HASH":
            name = element.get("AttributeName")
            return name if isinstance(name, str) else None
    return None


def parse_key_schema(description: object) -> KeySchema:
    """The partition keys of a ``DescribeTable`` answer (table, global and local indexes)."""
    table = description.get("Table") if isinstance(description, dict) else None
    if not isinstance(table, dict):
        raise ServiceUnavailable("The upstream's DescribeTable answer has no Table.")
    partition = _hash_key(table.get("KeySchema"))
    if partition is None:
        raise ServiceUnavailable("The upstream's DescribeTable answer has no partition key.")
    indexes: dict[str, str] = {}
    for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in table.get(group) or []:
            if isinstance(index, dict) and isinstance(index.get("IndexName"), str):
                key = _hash_key(index.get("KeySchema"))
                if key is not None:
                    indexes[index["IndexName"]] = key
    return KeySchema(partition, indexes)


def read_key_schema(content: bytes) -> KeySchema:
    """:func:`parse_key_schema` of a ``DescribeTable`` answer's bytes. An answer that is not
    JSON is the upstream's failure, like one without a table: ``ServiceUnavailable``."""
    try:
        description = json.loads(content)
    except (ValueError, RecursionError):
        raise ServiceUnavailable("The upstream's DescribeTable answer is not JSON.") from None
    return parse_key_schema(description)


@dataclass(slots=True, eq=False)
class KeySchemaCache:
    """Key schemas by table name; one ``DescribeTable`` in flight per table at a time."""

    fetch: Callable[[str], Awaitable[KeySchema | None]]
    monotonic: Callable[[], float]
    ttl: float = SCHEMA_TTL_SECONDS
    _entries: dict[str, tuple[float, KeySchema]] = field(default_factory=dict)
    _pending: dict[str, asyncio.Future[KeySchema | None]] = field(default_factory=dict)

    async def get(self, table: str) -> KeySchema | None:
        entry = self._entries.get(table)
        if entry is not None and self.monotonic() - entry[0] < self.ttl:
            return entry[1]
        pending = self._pending.get(table)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[KeySchema | None] = asyncio.get_running_loop().create_future()
        self._pending[table] = future
        try:
            schema = await self.fetch(table)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
            raise
        finally:
            self._pending.pop(table, None)
        if schema is not None:
            self._entries[table] = (self.monotonic(), schema)
        future.set_result(schema)
        return schema

    def forget(self, table: str) -> None:
        self._entries.pop(table, None)


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """Refuse a repeated member: parsers differ on which one wins (first or last), so the
    gateway and the upstream could read different keys."""
    document = dict(pairs)
    if len(document) != len(pairs):
        raise SerializationError("The request body repeats a member name.")
    return document


def json_body(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body or b"{}", object_pairs_hook=_unique_members)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise SerializationError("The request body must be a JSON object.")
    return document


@dataclass(slots=True, eq=False)
class DynamoDBGateway:
    access: GatewayAccess
    upstream: Upstream
    region: str
    account: str
    cors: CorsPolicy
    clock: Callable[[], datetime] = _utc_now
    schemas: KeySchemaCache = field(init=False)

    def __post_init__(self) -> None:
        self.schemas = KeySchemaCache(self._describe, time.monotonic)

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, record: GatewayRecord
    ) -> None:
        body = await read_all(receive, MAX_BODY)
        request = http_request(scope)
        signed = sigv4.HttpRequest(
            request.method, request.raw_path, request.raw_query, request.headers, body
        )
        target = signed.header_values("x-amz-target")
        if len(target) == 1 and target[0].strip().startswith(TARGET_PREFIX):
            record.operation = target[0].strip()[len(TARGET_PREFIX) :][:64]
        caller, _ = self.access.verify(
            signed, rules=sigv4.STANDARD_RULES, service="dynamodb", region=self.region
        )
        record.caller = caller
        operation = operation_of(target[0].strip() if len(target) == 1 else None)
        document = json_body(body)
        if isinstance(document.get("TableName"), str):
            record.parameters["tableName"] = document["TableName"]
        schemas: dict[str, KeySchema] = {}
        for table in tables_of(operation, document):
            schema = await self.schemas.get(table)
            if schema is None:
                raise ResourceNotFound(f"Requested resource not found: Table: {table} not found")
            schemas[table] = schema
        checks = map_dynamodb_request(
            DynamoDBRequest(operation, document, self.region, self.account), schemas
        )
        client = scope.get("client")
        await self.access.authorize(
            caller,
            checks,
            source_ip=str(client[0]) if client else "0.0.0.0",  # noqa: S104 - a value
            secure_transport=scope.get("scheme") == "https",
        )
        if operation in _SCHEMA_CHANGES and isinstance(document.get("TableName"), str):
            self.schemas.forget(str(document["TableName"]))
        record.status = await self._forward(scope, send, body)

    async def _forward(self, scope: Scope, send: Send, body: bytes) -> int:
        headers = forwarded_request_headers(scope["headers"])
        headers.append(("content-length", str(len(body))))
        response = await self.upstream.send(
            "POST", "/", "", headers, body, payload_hash=hashlib.sha256(body).hexdigest()
        )
        origin = {name.lower(): value for name, value in scope["headers"]}.get(b"origin")
        await relay_response(
            response,
            send,
            extra_headers=self.cors.response_headers(origin.decode("latin-1") if origin else None),
        )
        return response.status_code

    async def _describe(self, table: str) -> KeySchema | None:
        body = json.dumps({"TableName": table}).encode()
        headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", TARGET_PREFIX + "DescribeTable"),
            ("content-length", str(len(body))),
        ]
        response = await self.upstream.send(
            "POST", "/", "", headers, body, payload_hash=hashlib.sha256(body).hexdigest()
        )
        try:
            content = await response.read()
        finally:
            await response.aclose()
        if response.status_code == 400 and b"ResourceNotFoundException" in content:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable("The upstream did not describe the table.")
        return read_key_schema(content)

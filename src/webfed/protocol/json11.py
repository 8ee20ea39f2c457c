"""The AWS JSON 1.0/1.1 protocols (Cognito Identity): ``X-Amz-Target`` plus a JSON body.

A request is ``POST /`` with ``Content-Type: application/x-amz-json-1.1`` and
``X-Amz-Target: <targetPrefix>.<Operation>``; the body is a JSON object keyed by member names
(botocore ``json`` protocol tests). Timestamps are epoch seconds, blobs base64 text. Errors are
``{"__type": "<Code>", "message": "..."}`` with the error's HTTP status.

Decoding is strict: the body must be UTF-8 JSON (no ``NaN``/``Infinity``, no duplicate keys, no
lone surrogate escapes) whose top level is an object, and every modelled member must have its
JSON type; anything else is ``SerializationException``. Unknown members and ``null`` values are
ignored. Constraint violations raise the service's validation error
(``InvalidParameterException`` for Cognito Identity).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from webfed.errors import RequestEntityTooLarge, SerializationError, UnknownOperation, WebfedError
from webfed.protocol.models import OperationSpec, ServiceSpec
from webfed.protocol.scalars import epoch_seconds
from webfed.protocol.shapes import Kind, ListNode, MapNode, Node, Scalar, Structure, resolve
from webfed.protocol.validate import raise_violations, validate

__all__ = [
    "MAX_JSON_BYTES",
    "decode_json",
    "encode_json_error",
    "encode_json_response",
    "json_content_type",
    "resolve_target",
]

MAX_JSON_BYTES = 2 * 1024 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_FLOAT_WORDS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_BOUNDS = {Kind.INTEGER: (-(2**31), 2**31 - 1), Kind.LONG: (-(2**63), 2**63 - 1)}


def json_content_type(service: ServiceSpec) -> str:
    """``application/x-amz-json-1.1`` (or ``-1.0``), as the model's ``jsonVersion`` says."""
    return f"application/x-amz-json-{service.meta.json_version}"


def resolve_target(service: ServiceSpec, target: str | None) -> OperationSpec:
    """The operation named by an ``X-Amz-Target`` header, or ``UnknownOperationException``."""
    prefix, dot, name = (target or "").partition(".")
    operation = service.operation(name) if dot else None
    if operation is None or prefix != service.meta.target_prefix:
        raise UnknownOperation("The operation in X-Amz-Target is not known to this service.")
    return operation


def _reject_constant(word: str) -> Any:
    raise SerializationError(f"{word} is not valid JSON.")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise SerializationError("A JSON object has a duplicate key.")
    return result


# Built once: ``json.loads`` with these options builds a new decoder for every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_object)


def _parse_body(body: bytes) -> Any:
    if len(body) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"The request body exceeds {MAX_JSON_BYTES} bytes.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SerializationError("The request body is not UTF-8.") from None
    if not text.strip():
        return {}
    try:
        return _DECODER.decode(text)  # a BOM is refused too, as by json.loads
    except (ValueError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None


def _type_error(path: str, expected: str) -> SerializationError:
    return SerializationError(f"Expected {expected} at '{path or 'body'}'.")


def _decode_number(node: Scalar, value: Any, path: str) -> Any:
    if node.kind in _BOUNDS:
        low, high = _BOUNDS[node.kind]
        if type(value) is not int or not low <= value <= high:
            raise _type_error(path, "an integer")
        return value
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return _FLOAT_WORDS[value]
    if type(value) not in (int, float):
        raise _type_error(path, "a number")
    return float(value)


def _decode_timestamp(value: Any, path: str) -> datetime:
    if type(value) not in (int, float):
        raise _type_error(path, "epoch seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _type_error(path, "epoch seconds in range") from None


def _decode_text(node: Scalar, value: Any, path: str) -> Any:
    if not isinstance(value, str):
        raise _type_error(path, "a string")
    if not value.isascii() and _LONE_SURROGATE.search(value) is not None:
        raise SerializationError(f"A string at '{path}' holds an unpaired surrogate.")
    if node.kind is Kind.STRING:
        return value
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _type_error(path, "base64 text") from None


def _decode_scalar(node: Scalar, value: Any, path: str) -> Any:
    if node.kind in (Kind.STRING, Kind.BLOB):
        return _decode_text(node, value, path)
    if node.kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise _type_error(path, "a boolean")
        return value
    if node.kind is Kind.TIMESTAMP:
        return _decode_timestamp(value, path)
    return _decode_number(node, value, path)


def _decode_structure(node: Structure, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(path, "an object")
    result: dict[str, Any] = {}
    for member in node.members:
        item = value.get(member.json_name)
        if item is not None:
            member_path = f"{path}.{member.label}" if path else member.label
            result[member.name] = _decode(member.node, item, member_path)
    return result


def _decode_map(node: MapNode, value: Any, path: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _type_error(path, "an object")
    return {
        _decode(node.key, key, path): _decode(node.value, item, f"{path}.{key}")
        for key, item in value.items()
        if item is not None
    }


def _decode(node: Node, value: Any, path: str) -> Any:
    if type(node) is Scalar:  # most nodes: skips resolve()'s call
        return _decode_scalar(node, value, path)
    node = resolve(node)
    if isinstance(node, Scalar):
        return _decode_scalar(node, value, path)
    if isinstance(node, Structure):
        return _decode_structure(node, value, path)
    if isinstance(node, MapNode):
        return _decode_map(node, value, path)
    if not isinstance(value, list):
        raise _type_error(path, "an array")
    return [_decode(node.member, item, f"{path}.{i}.member") for i, item in enumerate(value, 1)]


def decode_json(operation: OperationSpec, body: bytes) -> dict[str, Any]:
    """Decode and validate a JSON request body; an empty body is the empty object."""
    decoded = _decode_structure(operation.input, _parse_body(body), "")
    raise_violations(operation.service.validation_error, validate(operation.input, decoded))
    return decoded


def _encode_scalar(node: Scalar, value: Any) -> Any:
    kind = node.kind
    if kind is Kind.STRING:
        return str(value)
    if kind is Kind.TIMESTAMP and isinstance(value, datetime):
        return epoch_seconds(value)
    if kind is Kind.BLOB:
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind in (Kind.FLOAT, Kind.DOUBLE) and isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _listed(value: Any) -> Iterable[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return ()
    return (item for item in value if item is not None)


def _encode(node: Node, value: Any) -> Any:
    if type(node) is Scalar:  # most nodes: skips resolve()'s call
        return _encode_scalar(node, value)
    node = resolve(node)
    if isinstance(node, Scalar):
        return _encode_scalar(node, value)
    if isinstance(node, ListNode):
        return [_encode(node.member, item) for item in _listed(value)]
    if not isinstance(value, Mapping):
        return {}
    if isinstance(node, MapNode):
        return {
            str(_encode(node.key, key)): _encode(node.value, item)
            for key, item in value.items()
            if item is not None
        }
    return {
        member.json_name: _encode(member.node, value[member.name])
        for member in node.members
        if value.get(member.name) is not None
    }


# What ``json.dumps(document, separators=(",", ":"))`` writes, without a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode_json_response(operation: OperationSpec, result: Mapping[str, Any]) -> bytes:
    """The JSON body of a result; unknown keys and ``None`` values are skipped."""
    document = {} if operation.output is None else _encode(operation.output, result)
    return _ENCODER.encode(document).encode("ascii")


def encode_json_error(error: WebfedError) -> bytes:
    """``{"__type": code, "message": text}``, the JSON protocols' error body."""
    document = {"__type": error.wire_json_code, "message": error.full_message}
    return _ENCODER.encode(document).encode("ascii")

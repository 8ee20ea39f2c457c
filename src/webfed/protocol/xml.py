"""The AWS Query protocol, response side: XML documents for results and errors.

A Query service answers (botocore ``query`` output tests; "Query API responses", AWS General
Reference) with::

    <OpResponse xmlns="NS"><OpResult>...</OpResult>
      <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>

where lists are ``<member>`` children (or repeated elements when flattened), maps are
``<entry><key/><value/></entry>``, timestamps ISO 8601 in UTC with ``Z`` and booleans
``true``/``false``. An operation without output returns only ``ResponseMetadata``. Errors::

    <ErrorResponse xmlns="NS"><Error><Type>Sender</Type><Code/><Message/></Error>
      <RequestId/></ErrorResponse>

Text is escaped; characters that XML 1.0 cannot carry at all (most C0 controls, lone
surrogates, U+FFFE/U+FFFF) become U+FFFD, and carriage returns are written as ``&#xD;`` so
XML end-of-line handling cannot turn them into line feeds.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from webfed.errors import WebfedError
from webfed.protocol.models import OperationSpec, ServiceSpec
from webfed.protocol.scalars import iso8601
from webfed.protocol.shapes import Kind, ListNode, MapNode, Node, Scalar, Structure, resolve

__all__ = ["XML_CONTENT_TYPE", "encode_query_error", "encode_query_response", "escape_text"]

XML_CONTENT_TYPE = "text/xml"


def _escape_table() -> dict[int, str]:
    table = {code: "\ufffd" for code in range(0x20) if code not in (0x09, 0x0A)}
    table.update(dict.fromkeys(range(0xD800, 0xE000), "\ufffd"))
    table.update({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})
    table.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", 0x0D: "&#xD;"})
    return table


_ESCAPES = _escape_table()
# The ASCII characters the table changes. Most text (ids, ARNs, base64 credentials and session
# tokens) has none of them: deleting them from its bytes is a table lookup per byte, several
# times cheaper than ``str.translate``'s per-character dictionary lookup.
_ASCII_ESCAPED = bytes(code for code in range(0x80) if code in _ESCAPES)


def escape_text(text: str) -> str:
    """Escape text for an XML 1.0 element body; never produces an ill-formed document."""
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw.translate(None, _ASCII_ESCAPED)) == len(raw):
            return text
    return text.translate(_ESCAPES)


def _scalar_text(node: Scalar, value: Any) -> str:
    kind = node.kind
    if kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if kind is Kind.TIMESTAMP and isinstance(value, datetime):
        return iso8601(value)
    if kind is Kind.BLOB:
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind in (Kind.FLOAT, Kind.DOUBLE) and isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    return escape_text(str(value))


def _element(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>"


def _structure_body(node: Structure, value: Any, out: list[str]) -> None:
    if not isinstance(value, Mapping):
        return
    for member in node.members:
        item = value.get(member.name)
        if item is None:
            continue
        target = resolve(member.node)
        if isinstance(target, ListNode) and target.flattened:
            for element in _items(item):
                out.append(_element(member.query_name, _body(target.member, element)))
        elif isinstance(target, MapNode) and target.flattened:
            out.extend(_element(member.query_name, entry) for entry in _entries(target, item))
        else:
            out.append(_element(member.query_name, _body(target, item)))


def _items(value: Any) -> Iterable[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return ()
    return (item for item in value if item is not None)


def _entries(node: MapNode, value: Any) -> Iterable[str]:
    if not isinstance(value, Mapping):
        return ()
    return (
        _element(node.key_name, _body(node.key, key))
        + _element(node.value_name, _body(node.value, item))
        for key, item in value.items()
        if item is not None
    )


def _body(node: Node, value: Any) -> str:
    """The inner XML of one value of ``node``; values of the wrong type are skipped."""
    node = resolve(node)
    if isinstance(node, Scalar):
        return _scalar_text(node, value)
    out: list[str] = []
    if isinstance(node, Structure):
        _structure_body(node, value, out)
    elif isinstance(node, ListNode):
        out.extend(_element(node.member_name, _body(node.member, item)) for item in _items(value))
    else:
        out.extend(_element("entry", entry) for entry in _entries(node, value))
    return "".join(out)


def _metadata(request_id: str) -> str:
    return _element("ResponseMetadata", _element("RequestId", escape_text(request_id)))


def _generic_result(operation: OperationSpec, result: Mapping[str, Any]) -> str:
    """The result element, walked from the compiled output shape (every operation)."""
    assert operation.output is not None
    inner = _body(operation.output, result)
    if operation.result_wrapper:
        inner = _element(operation.result_wrapper, inner)
    return inner


# --- the one hand-tuned result: AssumeRoleWithWebIdentity (the federation hot path) -------------

_WEB_IDENTITY = "AssumeRoleWithWebIdentity"
_WEB_IDENTITY_MEMBERS = frozenset(
    {
        "Credentials",
        "SubjectFromWebIdentityToken",
        "AssumedRoleUser",
        "PackedPolicySize",
        "Provider",
        "Audience",
        "SourceIdentity",
    }
)
_CREDENTIAL_TEXT = ("AccessKeyId", "SecretAccessKey", "SessionToken")
_USER_TEXT = ("AssumedRoleId", "Arn")
_OPTIONAL_TEXT = ("SubjectFromWebIdentityToken", "Provider", "Audience", "SourceIdentity")


def _exactly_texts(value: object, names: tuple[str, ...], extra: int) -> bool:
    """``value`` is a dict holding exactly ``names`` (plus ``extra`` more keys) as ``str``."""
    return (
        type(value) is dict
        and len(value) == len(names) + extra
        and all(type(value.get(name)) is str for name in names)
    )


def _fits_web_identity(result: Mapping[str, Any]) -> bool:
    """Whether ``result`` has exactly the shape the hand-tuned encoder writes."""
    if type(result) is not dict or not result.keys() <= _WEB_IDENTITY_MEMBERS:
        return False
    credentials = result.get("Credentials")
    if not _exactly_texts(credentials, _CREDENTIAL_TEXT, 1):
        return False
    assert isinstance(credentials, dict)
    size = result.get("PackedPolicySize")
    return (
        isinstance(credentials.get("Expiration"), datetime)
        and _exactly_texts(result.get("AssumedRoleUser"), _USER_TEXT, 0)
        and (size is None or type(size) is int)
        and all(type(result.get(name)) in (str, type(None)) for name in _OPTIONAL_TEXT)
    )


def _optional_text(parts: list[str], result: Mapping[str, Any], name: str) -> None:
    value = result.get(name)
    if value is not None:
        parts += ("<", name, ">", escape_text(value), "</", name, ">")


def _web_identity_result(result: Mapping[str, Any]) -> str:
    """``AssumeRoleWithWebIdentityResult`` written directly, members in the model's order;
    byte for byte what :func:`_generic_result` writes (a property test holds them together)."""
    credentials, user = result["Credentials"], result["AssumedRoleUser"]
    parts = ["<AssumeRoleWithWebIdentityResult><Credentials>"]
    for name in _CREDENTIAL_TEXT:
        _optional_text(parts, credentials, name)
    parts += ("<Expiration>", iso8601(credentials["Expiration"]), "</Expiration></Credentials>")
    _optional_text(parts, result, "SubjectFromWebIdentityToken")
    parts.append("<AssumedRoleUser>")
    for name in _USER_TEXT:
        _optional_text(parts, user, name)
    parts.append("</AssumedRoleUser>")
    size = result.get("PackedPolicySize")
    if size is not None:
        parts += ("<PackedPolicySize>", str(size), "</PackedPolicySize>")
    for name in ("Provider", "Audience", "SourceIdentity"):
        _optional_text(parts, result, name)
    parts.append("</AssumeRoleWithWebIdentityResult>")
    return "".join(parts)


def _result(operation: OperationSpec, result: Mapping[str, Any]) -> str:
    if operation.name == _WEB_IDENTITY and _fits_web_identity(result):
        return _web_identity_result(result)
    return _generic_result(operation, result)


def encode_query_response(
    operation: OperationSpec, result: Mapping[str, Any], request_id: str
) -> bytes:
    """The XML success document of ``operation``; unknown keys and ``None`` values are skipped."""
    parts = [f'<{operation.name}Response xmlns="{operation.service.xml_namespace}">']
    if operation.output is not None:
        parts.append(_result(operation, result))
    parts.append(_metadata(request_id))
    parts.append(f"</{operation.name}Response>")
    return "".join(parts).encode("utf-8")


def encode_query_error(service: ServiceSpec, error: WebfedError, request_id: str) -> bytes:
    """The ``ErrorResponse`` document for ``error`` (``Type`` is Sender or Receiver)."""
    fault = "Sender" if error.sender_fault else "Receiver"
    body = (
        _element("Type", fault)
        + _element("Code", escape_text(error.code))
        + _element("Message", escape_text(error.full_message))
    )
    document = (
        f'<ErrorResponse xmlns="{service.meta.xml_namespace}">'
        + _element("Error", body)
        + _element("RequestId", escape_text(request_id))
        + "</ErrorResponse>"
    )
    return document.encode("utf-8")

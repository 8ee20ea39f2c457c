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


def _is_plain(text: str) -> bool:
    """Whether escaping leaves ``text`` as it is."""
    if not text.isascii():
        return False
    raw = text.encode("ascii")
    return len(raw.translate(None, _ASCII_ESCAPED)) == len(raw)


def escape_text(text: str) -> str:
    """Escape text for an XML 1.0 element body; never produces an ill-formed document."""
    return text if _is_plain(text) else text.translate(_ESCAPES)


def _escape_all(texts: list[str]) -> list[str]:
    """:func:`escape_text` of each text, with one check of them all when none needs escaping
    (the usual case) instead of one per text."""
    if _is_plain("".join(texts)):
        return texts
    return [escape_text(text) for text in texts]


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


_TEXT_TYPES = frozenset({str})
_OPTIONAL_TEXT_TYPES = frozenset({str, type(None)})


def _exactly_texts(value: object, names: tuple[str, ...], extra: int) -> bool:
    """``value`` is a dict holding exactly ``names`` (plus ``extra`` more keys) as ``str``."""
    return (
        type(value) is dict
        and len(value) == len(names) + extra
        and set(map(type, map(value.get, names))) == _TEXT_TYPES
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
        and set(map(type, map(result.get, _OPTIONAL_TEXT))) <= _OPTIONAL_TEXT_TYPES
    )


def _optional_element(name: str, given: str | None, text: str) -> str:
    return "" if given is None else f"<{name}>{text}</{name}>"


def _web_identity_result(result: Mapping[str, Any]) -> str:
    """``AssumeRoleWithWebIdentityResult`` written from one template, members in the model's
    order; byte for byte what :func:`_generic_result` writes (a property test holds them
    together)."""
    credentials, user = result["Credentials"], result["AssumedRoleUser"]
    subject, provider, audience, source = map(result.get, _OPTIONAL_TEXT)
    key, secret, token, role_id, arn, *optional = _escape_all(
        [
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
            user["AssumedRoleId"],
            user["Arn"],
            subject or "",
            provider or "",
            audience or "",
            source or "",
        ]
    )
    size = result.get("PackedPolicySize")
    return (
        f"<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{key}</AccessKeyId>"
        f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
        f"<Expiration>{iso8601(credentials['Expiration'])}</Expiration></Credentials>"
        f"{_optional_element('SubjectFromWebIdentityToken', subject, optional[0])}"
        f"<AssumedRoleUser><AssumedRoleId>{role_id}</AssumedRoleId><Arn>{arn}</Arn>"
        "</AssumedRoleUser>"
        f"{'' if size is None else f'<PackedPolicySize>{size}</PackedPolicySize>'}"
        f"{_optional_element('Provider', provider, optional[1])}"
        f"{_optional_element('Audience', audience, optional[2])}"
        f"{_optional_element('SourceIdentity', source, optional[3])}"
        "</AssumeRoleWithWebIdentityResult>"
    )


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

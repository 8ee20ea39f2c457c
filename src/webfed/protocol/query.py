"""The AWS Query protocol, request side: form body (or query string) in, parameters out.

STS and IAM take ``application/x-www-form-urlencoded`` bodies (or the same text as a GET query
string) whose keys flatten the input shape ("Query requests", AWS General Reference; botocore's
``query`` protocol tests):

* a structure member ``A.B``; a list ``X.member.N`` (1-based, contiguous), flattened ``X.N``;
  an empty list ``X=``; a map ``X.entry.N.key`` / ``X.entry.N.value``;
* ``Action`` names the operation and ``Version`` must be the service's API version;
* keys that the input shape does not name are ignored, as AWS does.

The decoder walks a trie of the keys alongside the compiled input shape, converts the text of
each scalar, then validates the whole value; every problem is reported in one error of the
service's validation class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from webfed.errors import InvalidAction, MalformedQueryString, MissingAction, RequestEntityTooLarge
from webfed.protocol.models import OperationSpec, ServiceSpec
from webfed.protocol.scalars import BadScalar, parse_query_scalar
from webfed.protocol.shapes import Kind, ListNode, MapNode, Node, Scalar, Structure, resolve
from webfed.protocol.validate import Violation, raise_violations, validate, violation

__all__ = [
    "MAX_FORM_BYTES",
    "MAX_FORM_FIELDS",
    "decode_query",
    "parse_form",
    "resolve_action",
]

MAX_FORM_BYTES = 2 * 1024 * 1024
MAX_FORM_FIELDS = 2000
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# A malformed escape, or an escaped ``&`` or ``=`` (a separator inside a key or value).
_UNUSUAL_ESCAPE = re.compile(rb"%(?:(?![0-9A-Fa-f]{2})|26|3[Dd])")
_INDEX = re.compile(r"[1-9][0-9]{0,5}")
_ECHO_LIMIT = 128


def _echo(text: str) -> str:
    """A client-supplied name, shortened for an error message."""
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "..."


def _unquote(raw: bytes) -> str:
    if b"%" in raw or b"+" in raw:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedQueryString("The request contains bytes that are not UTF-8.") from None


def parse_form(body: bytes) -> dict[str, str]:
    """Parse ``application/x-www-form-urlencoded`` text strictly (WHATWG URL, form parsing).

    ``+`` is a space; a ``%`` not followed by two hex digits, bytes that are not UTF-8 after
    decoding, or a key given twice raise ``MalformedQueryString``. Empty ``&&`` pieces are
    skipped; a key without ``=`` has the empty value.
    """
    if not body:
        return {}
    if len(body) > MAX_FORM_BYTES:
        raise RequestEntityTooLarge(f"The request body exceeds {MAX_FORM_BYTES} bytes.")
    if _UNUSUAL_ESCAPE.search(body) is None:
        params = _parse_whole_form(body)
        if params is not None:
            return params
    elif _BAD_ESCAPE.search(body) is not None:
        raise MalformedQueryString("The request contains a malformed percent-encoding.")
    return _parse_form_pieces(body)


def _parse_whole_form(body: bytes) -> dict[str, str] | None:
    """A form without unusual escapes decoded in one pass, or ``None`` for the careful parse.

    Splitting after decoding finds the same fields when no ``&`` or ``=`` was escaped, and
    UTF-8 is valid over the whole body exactly when it is in every key and value (those
    characters are ASCII, never inside a multi-byte sequence). Anything else (bad UTF-8, too
    many fields, a repeated key) goes to :func:`_parse_form_pieces`, which raises the error it
    finds first."""
    try:
        text = _unquote(body)
    except MalformedQueryString:
        return None
    pieces = [piece for piece in text.split("&") if piece]
    if len(pieces) > MAX_FORM_FIELDS:
        return None
    params: dict[str, str] = {}
    for piece in pieces:
        key, _, value = piece.partition("=")
        params[key] = value
    return params if len(params) == len(pieces) else None


def _parse_form_pieces(body: bytes) -> dict[str, str]:
    """Field by field: the first malformed field or repeated key is the error reported."""
    pieces = [piece for piece in body.split(b"&") if piece]
    if len(pieces) > MAX_FORM_FIELDS:
        raise RequestEntityTooLarge(f"The request has more than {MAX_FORM_FIELDS} parameters.")
    params: dict[str, str] = {}
    for piece in pieces:
        raw_key, _, raw_value = piece.partition(b"=")
        key = _unquote(raw_key)
        if key in params:
            raise MalformedQueryString(f"The parameter {_echo(key)} is given more than once.")
        params[key] = _unquote(raw_value)
    return params


def resolve_action(service: ServiceSpec, params: Mapping[str, str]) -> OperationSpec:
    """The operation named by ``Action``, which must exist at the ``Version`` given.

    A missing or empty ``Action`` is ``MissingAction``; an unknown one, or a missing or other
    ``Version``, is ``InvalidAction`` in AWS's words ("Could not find operation X for version V").
    """
    action = params.get("Action")
    if not action:
        raise MissingAction("The request must contain the parameter Action.")
    version = params.get("Version") or "NO_VERSION_SPECIFIED"
    operation = service.operation(action)
    if operation is None or version != service.meta.api_version:
        raise InvalidAction(
            f"Could not find operation {_echo(action)} for version {_echo(version)}"
        )
    return operation


class _Trie:
    """The form keys split on ``.``: ``Tags.member.1.Key`` is root→Tags→member→1→Key."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Trie] = {}


def _build_trie(params: Mapping[str, str]) -> _Trie:
    root = _Trie()
    top = root.children
    for key, value in params.items():
        if "." not in key:  # most keys: a top-level member, one level down
            leaf = top.get(key)
            if leaf is None:
                leaf = top[key] = _Trie()
            leaf.value = value
            continue
        node = root
        for part in key.split("."):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Trie()
            node = child
        node.value = value
    return root


class _Absent:
    """Marks a member that the form does not carry."""


_ABSENT = _Absent()


def _decode_scalar(node: Scalar, trie: _Trie, path: str, out: list[Violation]) -> Any:
    if trie.value is None:
        return _ABSENT
    try:
        return parse_query_scalar(trie.value, node.kind)
    except BadScalar as bad:
        out.append(violation(node, trie.value, path, bad.constraint))
        return _ABSENT


def _decode_structure(
    node: Structure, trie: _Trie, path: str, out: list[Violation]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for member in node.members:
        child = trie.children.get(member.query_name)
        if child is None:
            continue
        target = member.node
        if type(target) is Scalar and target.kind is Kind.STRING:  # text as sent: nothing to parse
            if child.value is not None:
                result[member.name] = child.value
            continue
        member_path = f"{path}.{member.label}" if path else member.label
        value = _decode(member.node, child, member_path, out)
        if value is not _ABSENT:
            result[member.name] = value
    return result


def _elements(
    node: ListNode | MapNode, container: _Trie | None, path: str, out: list[Violation]
) -> list[_Trie] | None:
    """The numbered children ``1..N`` of a list or map; ``None`` (and a violation) if not 1..N."""
    if container is None:
        return []
    numbered = {key: child for key, child in container.children.items() if key.isdecimal()}
    count = len(numbered)
    if any(_INDEX.fullmatch(key) is None or int(key) > count for key in numbered):
        constraint = "Member must be numbered contiguously from 1"
        out.append(violation(node, sorted(numbered), path, constraint))
        return None
    return [numbered[str(index)] for index in range(1, count + 1)]


def _empty(node: ListNode | MapNode, trie: _Trie, path: str, out: list[Violation]) -> Any:
    """``X=`` is the empty list (or map); any other text where one is expected is an error."""
    if trie.value is None:
        return _ABSENT
    if trie.value:
        kind = "list" if isinstance(node, ListNode) else "map"
        out.append(violation(node, trie.value, path, f"Member must be a {kind}"))
        return _ABSENT
    return [] if isinstance(node, ListNode) else {}


def _decode_list(node: ListNode, trie: _Trie, path: str, out: list[Violation]) -> Any:
    container = trie if node.flattened else trie.children.get(node.member_name)
    elements = _elements(node, container, path, out)
    if elements is None:
        return _ABSENT
    if not elements:
        return _empty(node, trie, path, out)
    decoded = []
    for index, element in enumerate(elements, 1):
        value = _decode(node.member, element, f"{path}.{index}.member", out)
        if value is not _ABSENT:
            decoded.append(value)
    return decoded


def _decode_map(node: MapNode, trie: _Trie, path: str, out: list[Violation]) -> Any:
    container = trie if node.flattened else trie.children.get("entry")
    entries = _elements(node, container, path, out)
    if entries is None:
        return _ABSENT
    if not entries:
        return _empty(node, trie, path, out)
    decoded: dict[Any, Any] = {}
    for index, entry in enumerate(entries, 1):
        key_trie, value_trie = (
            entry.children.get(node.key_name),
            entry.children.get(node.value_name),
        )
        entry_path = f"{path}.entry.{index}"
        key = _ABSENT if key_trie is None else _decode(node.key, key_trie, entry_path, out)
        value = _ABSENT if value_trie is None else _decode(node.value, value_trie, entry_path, out)
        if key is _ABSENT or value is _ABSENT:
            out.append(Violation(entry_path, "Map entries must have a key and a value"))
        elif key in decoded:
            out.append(violation(node.key, key, path, "Map keys must be unique"))
        else:
            decoded[key] = value
    return decoded


def _decode(node: Node, trie: _Trie, path: str, out: list[Violation]) -> Any:
    node = resolve(node)
    if isinstance(node, Scalar):
        return _decode_scalar(node, trie, path, out)
    if isinstance(node, Structure):
        return _decode_structure(node, trie, path, out)
    if isinstance(node, ListNode):
        return _decode_list(node, trie, path, out)
    return _decode_map(node, trie, path, out)


def decode_query(operation: OperationSpec, params: Mapping[str, str]) -> dict[str, Any]:
    """Decode and validate the parameters of ``operation`` from parsed form fields.

    Returns members keyed by their model names. Raises the service's validation error
    (``ValidationError`` for STS and IAM) listing every problem, values of sensitive members
    redacted.
    """
    out: list[Violation] = []
    decoded = _decode_structure(operation.input, _build_trie(params), "", out)
    out.extend(validate(operation.input, decoded))
    raise_violations(operation.service.validation_error, out)
    return decoded

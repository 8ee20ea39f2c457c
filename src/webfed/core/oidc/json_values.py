"""Strict JSON for token headers and claims, parsed into frozen values.

RFC 7519 section 7.2 step 10 and RFC 7515 section 5.2 leave duplicate member names to the
implementation; two readers that disagree on which duplicate wins are a classic confusion
attack, so duplicates are refused outright. ``NaN`` and ``Infinity`` are not JSON (RFC 8259
section 6) and are refused too. Arrays become tuples and objects read-only mappings, so a
validated token cannot be edited after the fact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TypeAlias

__all__ = ["MAX_JSON_DEPTH", "JsonObject", "JsonValue", "MalformedJson", "parse_json_object"]

JsonValue: TypeAlias = (
    bool | int | float | str | tuple["JsonValue", ...] | Mapping[str, "JsonValue"] | None
)
JsonObject: TypeAlias = Mapping[str, JsonValue]

#: Deepest nesting accepted; real ID tokens nest two or three levels.
MAX_JSON_DEPTH = 16


class MalformedJson(ValueError):
    """The text is not one strict JSON object (the reason says why, never the text)."""


def _refuse_constant(name: str) -> object:
    raise MalformedJson(f"non-standard JSON constant {name}")


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):  # a name given twice collapsed into one entry
        raise MalformedJson("duplicate member name")
    return result


# Made once: ``json.loads`` with hooks builds a new decoder at every call.
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant
)
# The decoder's own scanner: ``JSONDecoder.__init__`` sets it, typeshed does not declare it.
_SCAN_ONCE: Callable[[str, int], tuple[object, int]]
_SCAN_ONCE = _STRICT_DECODER.scan_once  # type: ignore[attr-defined]
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _freeze(value: object, depth: int) -> JsonValue:
    """``value`` (just decoded, so owned by nobody else) with its objects wrapped read-only
    in place and its arrays made tuples."""
    if depth > MAX_JSON_DEPTH:
        raise MalformedJson("nesting too deep")
    if isinstance(value, dict):
        # Scalar members need no deeper call (claims mostly are); replacing a member's value
        # while iterating is safe, as no member is added or removed.
        for key, item in value.items():
            if depth == MAX_JSON_DEPTH or type(item) not in _SCALAR_TYPES:
                value[key] = _freeze(item, depth + 1)
        return MappingProxyType(value)
    if isinstance(value, list):
        return tuple(_freeze(item, depth + 1) for item in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise MalformedJson("unexpected JSON value")  # pragma: no cover - json.loads yields no other


def _decode(text: str) -> object:
    """``_STRICT_DECODER.decode(text)``, with its scanner called directly when the text is
    one value and nothing else (as issuers send it): the full decoder's whitespace handling
    runs only for other text, where it also produces the error."""
    try:
        parsed, end = _SCAN_ONCE(text, 0)
    except StopIteration:  # not a value at index 0: leading whitespace, or not JSON
        end = -1
    return parsed if end == len(text) else _STRICT_DECODER.decode(text)


def parse_json_object(data: bytes) -> JsonObject:
    """Parse UTF-8 ``data`` as exactly one JSON object, strictly, into frozen values."""
    try:
        parsed = _decode(data.decode("utf-8"))
    except MalformedJson:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJson(type(exc).__name__) from None
    if not isinstance(parsed, dict):
        raise MalformedJson("not a JSON object")
    frozen = _freeze(parsed, 0)
    assert isinstance(frozen, Mapping)
    return frozen

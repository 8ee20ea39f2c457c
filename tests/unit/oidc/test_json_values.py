"""Strict JSON for token parts: duplicates and non-standard constants refused, nesting capped,
everything frozen."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.core.oidc.json_values import MAX_JSON_DEPTH, MalformedJson, parse_json_object


def _nested(levels: int, leaf: object) -> object:
    """``levels`` objects around ``leaf``: ``{"a": {"a": ... leaf}}``."""
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("leaf", [1, "text", None, True, 1.5, [1]], ids=repr)
def test_the_deepest_accepted_nesting_is_the_cap(leaf: object) -> None:
    deepest = 1 if isinstance(leaf, list) else 0  # a list is one more level
    accepted = _nested(MAX_JSON_DEPTH - deepest, leaf)
    assert parse_json_object(json.dumps(accepted).encode()) is not None
    with pytest.raises(MalformedJson, match="nesting too deep"):
        parse_json_object(json.dumps({"b": accepted}).encode())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'{"a": 1, "a": 2}', "duplicate member name"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate member name"),
        (b'{"a": NaN}', "non-standard JSON constant NaN"),
        (b"[1]", "not a JSON object"),
        (b"\xff{}", "UnicodeDecodeError"),
    ],
    ids=["duplicate", "nested-duplicate", "nan", "array", "not-utf8"],
)
def test_confusing_json_is_refused(text: bytes, reason: str) -> None:
    with pytest.raises(MalformedJson, match=reason):
        parse_json_object(text)


@pytest.mark.parametrize(
    "text",
    [b' {"a": 1}', b'{"a": 1}\n', b'\t{"a": 1} \r\n', b'{"a": 1}{}', b'{"a": 1} x', b"", b" "],
    ids=[
        "leading-space",
        "trailing-newline",
        "both",
        "two-objects",
        "trailing-junk",
        "empty",
        "blank",
    ],
)
def test_surrounding_text_is_read_like_json_loads(text: bytes) -> None:
    """Whitespace around the object is JSON (RFC 8259 section 2); anything else is refused."""
    try:
        expected: object = json.loads(text)
    except ValueError:
        with pytest.raises(MalformedJson, match="JSONDecodeError"):
            parse_json_object(text)
    else:
        assert parse_json_object(text) == expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


def _thawed(value: object) -> object:
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    return value


def _all_frozen(value: object) -> bool:
    if isinstance(value, Mapping):
        return not isinstance(value, dict) and all(_all_frozen(v) for v in value.values())
    if isinstance(value, list):
        return False
    return not isinstance(value, tuple) or all(_all_frozen(v) for v in value)


@given(st.dictionaries(st.text(max_size=4), _JSON, max_size=5))
def test_any_object_round_trips_frozen(document: dict[str, object]) -> None:
    parsed = parse_json_object(json.dumps(document).encode())
    assert _thawed(parsed) == document
    assert _all_frozen(parsed)

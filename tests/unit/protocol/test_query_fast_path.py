"""``parse_form``'s one-pass decoding gives what the field-by-field parse gives, error included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.errors import MalformedQueryString, WebfedError
from webfed.protocol import query

# Pieces that matter to form parsing: separators plain and escaped, good and bad escapes, bad
# UTF-8 (alone and split across fields), plus and ordinary text.
_PIECES = st.sampled_from(
    [
        b"a",
        b"b",
        b"Key",
        b"=",
        b"&",
        b"&&",
        b"+",
        b"%26",
        b"%3d",
        b"%3D",
        b"%2B",
        b"%20",
        b"%",
        b"%z",
        b"%4",
        b"%C3%A9",
        b"%C3",
        b"%A9",
        b"%FF",
        b"\xc3\xa9",
        b"\xff",
        b".",
        b"1",
    ]
)


def _field_by_field(body: bytes) -> dict[str, str]:
    """The checks ``parse_form`` makes, then every field decoded on its own."""
    if query._BAD_ESCAPE.search(body) is not None:
        raise MalformedQueryString("The request contains a malformed percent-encoding.")
    return query._parse_form_pieces(body)


def _outcome(parse: object, body: bytes) -> object:
    try:
        return parse(body)  # type: ignore[operator]
    except WebfedError as error:
        return (type(error), error.code, error.full_message)


@given(st.lists(_PIECES, max_size=12).map(b"".join))
def test_one_pass_and_field_by_field_agree(body: bytes) -> None:
    assert _outcome(query.parse_form, body) == _outcome(_field_by_field, body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a=%26&b=%3D", {"a": "&", "b": "="}),
        (b"a=1&a=2", "The parameter a is given more than once."),
        (b"a=1&a=%FF", "The parameter a is given more than once."),
        (b"a=1&b=%FF", "The request contains bytes that are not UTF-8."),
        (b"a=%2&a=1", "The request contains a malformed percent-encoding."),
        (b"a+b=c+d&&e", {"a b": "c d", "e": ""}),
    ],
    ids=[
        "escaped-separators",
        "repeated",
        "repeated-before-bad-utf8",
        "bad-utf8",
        "bad-escape",
        "plus-and-empty",
    ],
)
def test_unusual_forms(body: bytes, expected: object) -> None:
    outcome = _outcome(query.parse_form, body)
    if isinstance(expected, str):
        assert isinstance(outcome, tuple) and outcome[2] == expected
    else:
        assert outcome == expected

"""``escape_text``'s ASCII shortcut answers exactly what the full translation table answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.protocol.xml import _ESCAPES, escape_text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        pytest.param(
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln-_", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln-_", id="token"
        ),
        pytest.param("a&b<c>d", "a&amp;b&lt;c&gt;d", id="markup"),
        pytest.param("line\r\nnext\ttab", "line&#xD;\nnext\ttab", id="carriage-return"),
        pytest.param("bell\x07", "bell\ufffd", id="control"),
        pytest.param("del\x7f", "del\x7f", id="delete-is-allowed"),
        pytest.param("caf\u00e9 & co", "caf\u00e9 &amp; co", id="non-ascii"),
        pytest.param("\ud800\ufffe", "\ufffd\ufffd", id="not-xml-characters"),
        pytest.param("", "", id="empty"),
    ],
)
def test_escape_text(text: str, escaped: str) -> None:
    assert escape_text(text) == escaped


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_shortcut_matches_the_table(text: str) -> None:
    assert escape_text(text) == text.translate(_ESCAPES)

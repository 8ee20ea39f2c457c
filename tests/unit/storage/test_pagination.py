"""Markers: round trip, refusal of foreign or edited markers, and page cutting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.errors import InvalidInput
from webfed.storage.pagination import decode_marker, encode_marker, page_of

_KINDS = st.sampled_from(["roles", "policies", "tags", "role-policies"])


def test_first_page_has_no_marker() -> None:
    assert decode_marker("roles", None) is None


@pytest.mark.parametrize(
    "marker",
    ["", "%%%", "cm9sZXM", encode_marker("tags", "x"), encode_marker("roles", "x") + "="],
    ids=["empty", "not-base64", "no-separator", "other-kind", "padded"],
)
def test_bad_markers(marker: str) -> None:
    with pytest.raises(InvalidInput):
        decode_marker("roles", marker)


def test_page_of_cuts_and_marks() -> None:
    page = page_of("roles", ["a", "b", "c"], 2, lambda item: item)
    assert page.items == ("a", "b") and page.is_truncated
    assert decode_marker("roles", page.marker) == "b"
    last = page_of("roles", ["c"], 2, lambda item: item)
    assert last.items == ("c",) and last.marker is None and not last.is_truncated


@given(kind=_KINDS, key=st.text(max_size=130).filter(lambda text: "\x00" not in text))
def test_round_trip(kind: str, key: str) -> None:
    marker = encode_marker(kind, key)
    assert decode_marker(kind, marker) == key
    assert len(marker) <= 320 or len(key.encode()) > 200


@given(kind=_KINDS, marker=st.text(max_size=64))
def test_arbitrary_markers_never_crash(kind: str, marker: str) -> None:
    try:
        key = decode_marker(kind, marker)
    except InvalidInput:
        return
    assert encode_marker(kind, key or "") == marker

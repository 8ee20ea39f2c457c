"""The hot path's shortcuts give exactly the answers of the plain definitions they replace.

Each shortcut (the per-request header index, the table-driven percent-encoder, the path
normaliser's early exit, the string-method validators) is checked against a reference written
the obvious way: fixed cases first, then attack-shaped input, then Hypothesis on arbitrary text.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core.sigv4 import HttpRequest, canonical_headers

FAST_SETTINGS = settings(max_examples=300, deadline=None)

header_names = st.sampled_from(["Host", "host", "HOST", "X-Amz-Date", "x-amz-date", "X-A", "İx"])
header_lists = st.lists(st.tuples(header_names, st.text(max_size=6)), max_size=8).map(tuple)


def scanned_values(headers: tuple[tuple[str, str], ...], name: str) -> tuple[str, ...]:
    """The definition: every value whose name matches case-insensitively, in arrival order."""
    return tuple(value for key, value in headers if key.lower() == name.lower())


# --- the header index -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "name", "expected"),
    [
        ((("Host", "a"),), "HOST", ("a",)),
        ((("X-Amz-Date", "1"), ("x-amz-date", "2")), "x-amz-date", ("1", "2")),
        ((("Host", "a"),), "authorization", ()),
        ((), "host", ()),
    ],
    ids=["case-insensitive", "repeated-in-arrival-order", "absent", "no-headers"],
)
def test_header_values(
    headers: tuple[tuple[str, str], ...], name: str, expected: tuple[str, ...]
) -> None:
    assert HttpRequest("GET", "/", "", headers).header_values(name) == expected


def test_the_index_is_read_only_and_not_carried_by_replace() -> None:
    request = HttpRequest("GET", "/", "", (("Host", "a"),))
    index = request.headers_by_name()
    with pytest.raises(TypeError):
        index["host"] = ("b",)  # type: ignore[index]  # proving the mapping refuses writes
    changed = replace(request, headers=(("Host", "b"),))
    assert changed.header_values("host") == ("b",)
    assert request.header_values("host") == ("a",)
    assert changed != request and replace(request) == request


@FAST_SETTINGS
@given(headers=header_lists, name=header_names)
def test_index_agrees_with_a_scan(headers: tuple[tuple[str, str], ...], name: str) -> None:
    request = HttpRequest("GET", "/", "", headers)
    assert request.header_values(name) == scanned_values(headers, name)
    assert request.header_names() == frozenset(key.lower() for key, _ in headers)


@FAST_SETTINGS
@given(headers=header_lists, signed=st.lists(header_names.map(str.lower), unique=True))
def test_canonical_headers_from_the_index_agree(
    headers: tuple[tuple[str, str], ...], signed: list[str]
) -> None:
    expected = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in scanned_values(headers, name))}\n"
        for name in signed
    )
    assert canonical_headers(headers, signed) == expected

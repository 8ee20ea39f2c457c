"""The canonicalisation shortcuts give exactly the answers of the plain definitions they replace.

The per-request header index, the table-driven percent-encoder and the path normaliser's early
exit are each checked against a reference written the obvious way (the code they replaced):
fixed and attack-shaped cases first, then Hypothesis on arbitrary text and bytes.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core.sigv4 import HttpRequest, canonical_headers, normalize_path
from webfed.core.sigv4.encoding import (
    canonical_component,
    decode_component,
    encode_path_once,
    encode_path_twice,
    wire_bytes,
)

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


# --- percent-encoding and path normalisation ---------------------------------------------------


def reference_component(raw: str) -> str:
    """The definition: decode (``+`` is a space), then ``quote`` with nothing but unreserved."""
    return quote_from_bytes(unquote_to_bytes(wire_bytes(raw.replace("+", " "))), safe="")


def reference_path_twice(path: str) -> str:
    return quote_from_bytes(wire_bytes(path), safe="/")


def reference_path_once(path: str) -> str:
    pieces = re.split(r"(%[0-9A-Fa-f]{2})", path)
    return "".join(
        piece if index % 2 else quote_from_bytes(wire_bytes(piece), safe="/")
        for index, piece in enumerate(pieces)
    )


def reference_decode(raw: str) -> str:
    return unquote_to_bytes(wire_bytes(raw.replace("+", " "))).decode("utf-8", "replace")


def reference_normalize(path: str) -> str:
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


# Wire text: printable ASCII with the characters that matter, escapes (well-formed or not),
# non-ASCII, and lone surrogates as surrogateescape leaves them for bytes that are not UTF-8.
wire_text = st.text(
    alphabet=st.sampled_from(list("aZ09-_.~/%+ :=&?#!*'()é€ሴ\udc80\udcff\x00\x7f")), max_size=24
) | st.text(max_size=16)

TRICKY = [
    "",
    "abc-_.~XYZ",
    "a b",
    "a+b",
    "%2B",
    "%2b",
    "%zz",
    "%",
    "%4",
    "/a//b/./c/../d/",
    "é",
    "\udcff",
    "\ud800",
    "/~user/file name;v=1",
    "%E2%82%AC",
]


@pytest.mark.parametrize("text", TRICKY, ids=[repr(text) for text in TRICKY])
def test_encoders_agree_on_tricky_text(text: str) -> None:
    assert canonical_component(text) == reference_component(text)
    assert encode_path_twice(text) == reference_path_twice(text)
    assert encode_path_once(text) == reference_path_once(text)
    assert decode_component(text) == reference_decode(text)


@FAST_SETTINGS
@given(text=wire_text)
def test_component_encoder_agrees_with_quote(text: str) -> None:
    assert canonical_component(text) == reference_component(text)
    assert decode_component(text) == reference_decode(text)


@FAST_SETTINGS
@given(text=wire_text)
def test_path_encoders_agree_with_quote(text: str) -> None:
    assert encode_path_twice(text) == reference_path_twice(text)
    assert encode_path_once(text) == reference_path_once(text)


@FAST_SETTINGS
@given(data=st.binary(max_size=32))
def test_every_byte_escapes_like_quote(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    assert encode_path_twice(text) == quote_from_bytes(data, safe="/")
    assert canonical_component(text.replace("%", "%25").replace("+", "%2B")) == quote_from_bytes(
        data, safe=""
    )


@pytest.mark.parametrize(
    "path",
    ["/", "/a/b", "/a/b/", "a/b", "", "//", "/a//b", "/./a", "/a/..", "/a/.b", "/..", "/a/b/."],
    ids=repr,
)
def test_normalize_path_agrees_on_edges(path: str) -> None:
    assert normalize_path(path) == reference_normalize(path)


@FAST_SETTINGS
@given(path=st.text(alphabet=st.sampled_from(list("/.ab%")), max_size=16))
def test_normalize_path_agrees(path: str) -> None:
    assert normalize_path(path) == reference_normalize(path)

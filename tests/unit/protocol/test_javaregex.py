"""Java regex patterns of the models, translated for Python's ``re``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.protocol.javaregex import compile_java_pattern, translate_java_pattern

XML_CHARS = (
    "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+"
)
TAG = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
MATCHES = [
    ("ascii word", "[\\w+=,.@-]+", "role_Name+=,.@-1", True),
    ("\\w is ASCII as in Java", "[\\w+=,.@-]+", "rôle", False),
    ("\\d is ASCII as in Java", "\\d{12}", "١٢٣٤٥٦٧٨٩٠١٢", False),
    ("twelve digits", "\\d{12}", "123456789012", True),
    ("full match, not search", "[\\w]+", "abc def", False),
    ("no trailing newline", "^[A-Za-z][A-Za-z0-9/_-]*$", "abc\n", False),
    ("anchored pattern", "^[A-Za-z][A-Za-z0-9/_-]*$", "abc/def", True),
    ("\\p{L} letters", TAG, "Ünïcødé tag 9", True),
    ("\\p{Z} includes no-break space", TAG, "a\u00a0b", True),
    ("\\p{L} excludes symbols", TAG, "a!", False),
    ("\\p{N} includes other digits", TAG, "٣", True),
    ("supplementary code point", XML_CHARS, "emoji \U0001f600", True),
    ("C0 control rejected", XML_CHARS, "a\x01", False),
    ("printable range", "[\\u0020-\\u00FF]+", "héllo", True),
    ("escaped slash", "[\\w+=,.@:\\/-]*", "a/b:c", True),
    ("lookahead", "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", "a--b", False),
    ("lookahead accepts", "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", "a-b-c", True),
    ("\\S", "[\\S]+", "a\u00a0", True),
    ("\\S rejects space", "[\\S]+", "a b", False),
    (
        "surrogate pair escapes",
        "[\\u0020-\\uD7FF\\uD800\\uDC00-\\uDBFF\\uDFFF]+",
        "a\U0001f600",
        True,
    ),
    ("\\p{M}\\p{S}\\p{P}", "[\\p{L}\\p{M}\\p{S}\\p{P}]+", "e\u0301$!", True),
]


@pytest.mark.parametrize(
    ("pattern", "text", "matches"), [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES]
)
def test_pattern_semantics(pattern: str, text: str, matches: bool) -> None:
    assert (compile_java_pattern(pattern).fullmatch(text) is not None) is matches


def test_patterns_without_java_only_syntax_are_unchanged() -> None:
    assert translate_java_pattern("[\\w+=,.@-]+") == "[\\w+=,.@-]+"


def test_negated_property_outside_a_class() -> None:
    assert compile_java_pattern("\\P{L}+").fullmatch("123 !") is not None
    assert compile_java_pattern("\\P{L}+").fullmatch("a") is None


@pytest.mark.parametrize(
    "pattern",
    ["[\\P{L}]", "\\p{Xx}", "abc\\"],
    ids=["negated property in class", "unknown property", "trailing backslash"],
)
def test_unsupported_patterns_fail_at_load(pattern: str) -> None:
    with pytest.raises(ValueError):
        translate_java_pattern(pattern)


@given(st.text(max_size=30))
def test_tag_pattern_agrees_with_unicode_categories(text: str) -> None:
    import unicodedata

    expected = all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in text)
    assert (compile_java_pattern(TAG).fullmatch(text) is not None) is expected


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("\\p{Print}+", "a b~", True),
        ("\\p{Print}+", "é", False),
        ("\\p{Alnum}+", "a1", True),
        ("\\p{Punct}", "a", False),
    ],
    ids=["print", "print is ASCII", "alnum", "punct"],
)
def test_posix_classes(pattern: str, text: str, matches: bool) -> None:
    assert (compile_java_pattern(pattern).fullmatch(text) is not None) is matches

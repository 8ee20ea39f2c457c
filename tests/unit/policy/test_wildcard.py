"""The wildcard matchers, against AWS's examples and a simple recursive reference matcher."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core.policy.variables import DynamicGlob, parse_template
from webfed.core.policy.wildcard import (
    Token,
    Wildcard,
    compile_glob,
    join_tokens,
    match_tokens,
    tokenize,
)


def reference(tokens: Sequence[Token], text: str) -> bool:
    """Obviously-correct recursive matcher: one unit of pattern at a time."""
    units: list[Token] = []
    for token in tokens:
        units.extend(token if isinstance(token, str) else (token,))

    def walk(index: int, position: int) -> bool:
        if index == len(units):
            return position == len(text)
        unit = units[index]
        if unit is Wildcard.ANY:
            return any(walk(index + 1, later) for later in range(position, len(text) + 1))
        if position == len(text):
            return False
        if unit is Wildcard.ONE or unit == text[position]:
            return walk(index + 1, position + 1)
        return False

    return walk(0, 0)


# IAM User Guide, Resource element: "DOC-EXAMPLE-BUCKET/*/test/*"
AWS_EXAMPLES = [
    (
        "multi-slash",
        "DOC-EXAMPLE-BUCKET/*/test/*",
        "DOC-EXAMPLE-BUCKET/1///test///object.jpg",
        True,
    ),
    ("empty-middle", "DOC-EXAMPLE-BUCKET/*/test/*", "DOC-EXAMPLE-BUCKET//test/object.jpg", True),
    ("no-middle", "DOC-EXAMPLE-BUCKET/*/test/*", "DOC-EXAMPLE-BUCKET/test/object.jpg", False),
    ("star-crosses-slash", "home/*", "home/a/b/c", True),
    ("question-one", "file?.txt", "file1.txt", True),
    ("question-not-zero", "file?.txt", "file.txt", False),
    ("regex-chars-literal", "a.b+(c)", "a.b+(c)", True),
    ("regex-dot-not-any", "a.b", "axb", False),
    ("exact", "abc", "abc", True),
    ("exact-prefix", "abc", "abcd", False),
    ("only-star", "*", "", True),
    ("suffix", "*.jpg", "x/y.jpg", True),
    ("newline", "a*b", "a\nb", True),
]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [case[1:] for case in AWS_EXAMPLES],
    ids=[case[0] for case in AWS_EXAMPLES],
)
def test_examples_all_matchers_agree(pattern: str, text: str, expected: bool) -> None:
    tokens = join_tokens(tokenize(pattern))
    assert compile_glob(pattern).matches(text) is expected
    assert match_tokens(tokens, text) is expected
    assert (
        DynamicGlob(pattern, parse_template(pattern, variables=True, wildcards=True)).matches(
            text, {}
        )
        is expected
    )
    assert reference(tokens, text) is expected


def test_lowercased_glob_for_actions() -> None:
    assert compile_glob("IAM:*AccessKey*", lowercase=True).matches("iam:listaccesskeys")


def test_dynamic_glob_substitutes_literally_and_reports_unresolved() -> None:
    glob = DynamicGlob("${u}/*", parse_template("${u}/*", variables=True, wildcards=True))
    assert glob.matches("alice/x", {"u": "alice"}) is True
    assert glob.matches("bob/x", {"u": "alice"}) is False
    assert glob.matches("alice/x", {}) is None
    assert glob.matches("anything/x", {"u": "*"}) is False


patterns = st.lists(
    st.sampled_from(["a", "b", "ab", "/", Wildcard.ANY, Wildcard.ONE]), max_size=7
).map(join_tokens)
texts = st.text(alphabet="ab/", max_size=10)


@settings(max_examples=500, deadline=None)
@given(tokens=patterns, text=texts)
def test_linear_matcher_agrees_with_reference(tokens: tuple[Token, ...], text: str) -> None:
    assert match_tokens(tokens, text) == reference(tokens, text)


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="ab/*?.", max_size=8), text=texts)
def test_static_glob_agrees_with_reference(pattern: str, text: str) -> None:
    tokens = join_tokens(tokenize(pattern))
    assert compile_glob(pattern).matches(text) == reference(tokens, text)


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.text(alphabet="ab/*?{}", max_size=6),
    value=st.text(alphabet="ab*?", max_size=3),
    text=texts,
)
def test_dynamic_glob_agrees_with_reference(pattern: str, value: str, text: str) -> None:
    source = pattern + "${v}" + pattern
    glob = DynamicGlob(source, parse_template(source, variables=True, wildcards=True))
    expected_tokens = join_tokens([*tokenize(pattern), value, *tokenize(pattern)])
    assert glob.matches(text, {"v": value}) == reference(expected_tokens, text)

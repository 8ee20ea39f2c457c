"""The scrubber: secrets never survive, sizes stay bounded, output is always JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.audit.scrubber import (
    HIDDEN,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING,
    TOO_DEEP,
    is_secret_key,
    scrub,
    scrub_mapping,
)

SECRET = "s3cr3t-VALUE-that-must-never-appear"
SECRET_KEYS = [
    "secretAccessKey",
    "SecretAccessKey",
    "SecretKey",
    "sessionToken",
    "SessionToken",
    "webIdentityToken",
    "WebIdentityToken",
    "token",
    "TOKEN",
    "id_token",
    "access-token",
    "X-Amz-Security-Token",
    "password",
    "userPassword",
    "client_secret",
    "Authorization",
    "X-Amz-Signature",
    "masterKey",
    "private_key",
    "Cookie",
    "passphrase",
]
INNOCENT_KEYS = [
    "roleArn",
    "roleSessionName",
    "accessKeyId",
    "tokenFingerprint",
    "sub",
    "aud",
    "providerId",
    "durationSeconds",
    "tokens_issued_count",
]


@pytest.mark.parametrize("key", SECRET_KEYS, ids=SECRET_KEYS)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)
    assert scrub_mapping({key: SECRET}) == {key: HIDDEN}


@pytest.mark.parametrize("key", INNOCENT_KEYS, ids=INNOCENT_KEYS)
def test_innocent_keys_keep_their_values(key: str) -> None:
    assert not is_secret_key(key)
    assert scrub_mapping({key: "value"}) == {key: "value"}


@pytest.mark.parametrize(
    "value",
    [SECRET, 12345, {"nested": SECRET}, [SECRET, SECRET], None, b"raw"],
    ids=["string", "number", "mapping", "list", "none", "bytes"],
)
def test_any_value_under_a_secret_key_is_hidden(value: object) -> None:
    assert scrub_mapping({"sessionToken": value}) == {"sessionToken": HIDDEN}


def test_cognito_logins_keep_provider_names_and_hide_tokens() -> None:
    logins = {"accounts.google.com": SECRET, "graph.facebook.com": "EAAopaque"}
    assert scrub_mapping({"Logins": logins}) == {
        "Logins": {"accounts.google.com": HIDDEN, "graph.facebook.com": HIDDEN}
    }


@pytest.mark.parametrize(
    "text",
    [
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.AbC-_d",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ],
    ids=["jwt", "jwt-in-text", "unsigned-jwt"],
)
def test_jwt_shaped_strings_are_hidden_under_any_key(text: str) -> None:
    cleaned = scrub_mapping({"comment": text, text: "as a key"})
    assert "eyJ" not in json.dumps(cleaned)


def test_long_strings_are_cut() -> None:
    cleaned = scrub("x" * 10_000)
    assert isinstance(cleaned, str)
    assert len(cleaned) == MAX_STRING
    assert cleaned.endswith("[truncated]")


def test_containers_are_cut_to_max_items() -> None:
    assert len(scrub(list(range(1000)))) == MAX_ITEMS  # type: ignore[arg-type]
    assert len(scrub_mapping({str(i): i for i in range(1000)})) == MAX_ITEMS


def test_deep_nesting_is_cut() -> None:
    value: object = "leaf"
    for _ in range(50):
        value = {"a": value}
    text = json.dumps(scrub(value))
    assert TOO_DEEP in text
    assert text.count("{") == MAX_DEPTH


class Colour(Enum):
    RED = "red"


class Leaky:
    def __str__(self) -> str:
        return SECRET

    def __repr__(self) -> str:
        return SECRET


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05+00:00"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Colour.RED, "red"),
        (float("nan"), "nan"),
        (b"\x00\x01", "[2 bytes]"),
        ((1, "a"), [1, "a"]),
        (frozenset({"b", "a"}), ["a", "b"]),  # sorted, so records are deterministic
        (Leaky(), "<Leaky>"),
    ],
    ids=["datetime", "uuid", "enum", "nan", "bytes", "tuple", "set", "unknown-object"],
)
def test_other_types_become_json(value: object, expected: object) -> None:
    result = scrub(value)
    assert result == expected
    assert SECRET not in json.dumps(result)


# --- properties ---------------------------------------------------------------------------------

_secret_keys = st.sampled_from(SECRET_KEYS) | st.builds(
    lambda prefix, word: prefix + word,
    st.text(alphabet="abcXYZ_-", max_size=6),
    st.sampled_from(["token", "Token", "secret", "Secret", "password", "PASSWORD"]),
)
_plain_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).filter(
    lambda key: not is_secret_key(key) and key != "logins"
)
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
_trees = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_plain_keys, children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def _planted(draw: st.DrawFn) -> dict[str, object]:
    """A random tree with the secret planted under a secret-named key at a random depth."""
    path = draw(st.lists(st.one_of(_plain_keys, st.just(0)), max_size=12))
    leaf: object = {draw(_secret_keys): draw(st.sampled_from([SECRET, [SECRET], {"v": SECRET}]))}
    for step in reversed(path):
        sibling = draw(_trees)
        leaf = [leaf, sibling] if step == 0 else {str(step): leaf, "sibling": sibling}
    return {"root": leaf}


@settings(max_examples=300, deadline=None)
@given(_planted())
def test_a_planted_secret_never_survives(tree: dict[str, object]) -> None:
    assert SECRET not in json.dumps(scrub_mapping(tree))


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_output_is_always_bounded_json(tree: object) -> None:
    result = scrub(tree)
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_strings_never_exceed_the_cap(text: str) -> None:
    result = scrub(text)
    assert isinstance(result, str)
    assert len(result) <= MAX_STRING


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_plain_keys, _leaves, max_size=10))
def test_innocent_flat_mappings_pass_unchanged(mapping: dict[str, object]) -> None:
    texts = [v for v in mapping.values() if isinstance(v, str)]
    if any("eyJ" in text for text in texts):
        return
    assert scrub_mapping(mapping) == mapping


def test_keys_past_the_remembered_limit_are_still_classified() -> None:
    many = {f"plainKey{index}": "value" for index in range(5_000)}
    assert scrub_mapping(many)  # fills the remembered keys well past their limit
    late = {"lateSessionToken": SECRET, "L_O_G_I_N_S": {"accounts.example.com": SECRET}}
    scrubbed = scrub_mapping(late)
    assert scrubbed == {"lateSessionToken": HIDDEN, "L_O_G_I_N_S": {"accounts.example.com": HIDDEN}}


def test_nested_plain_dicts_stop_at_the_depth_limit() -> None:
    nested: dict[str, object] = {"leaf": "x"}
    for _ in range(MAX_DEPTH + 2):
        nested = {"child": nested}
    text = json.dumps(scrub_mapping(nested))
    assert TOO_DEEP in text and "leaf" not in text
    assert text.count("child") == MAX_DEPTH

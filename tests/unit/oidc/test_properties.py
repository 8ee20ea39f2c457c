"""Property tests: nothing but a ``WebfedError`` ever escapes, and no altered token passes."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.tokens import SigningKey, generate_signing_key, jwks_document, sign
from tests.unit.oidc.conftest import CLIENT, ISSUER, NOW, claims
from webfed.core.oidc import (
    IssuerKeySet,
    TrustedProvider,
    parse_key_set,
    peek_token,
    validate_token,
    web_identity_condition_keys,
)
from webfed.errors import WebfedError

KEY: SigningKey = generate_signing_key("ES256", "prop-1")
KEY_SET: IssuerKeySet = parse_key_set(jwks_document(KEY))
PROVIDER = TrustedProvider(ISSUER, (CLIENT,))
VALID = sign(claims(), KEY)
TOKEN_ALPHABET = st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é"
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refused(raw: str) -> None:
    with pytest.raises(WebfedError):
        validate_token(raw, PROVIDER, KEY_SET, now=NOW)


def test_the_unaltered_token_is_valid() -> None:
    assert validate_token(VALID, PROVIDER, KEY_SET, now=NOW).subject == "user-1"


@FAST
@given(st.text(max_size=300) | st.text(alphabet=TOKEN_ALPHABET, max_size=300))
def test_arbitrary_text_is_refused(raw: str) -> None:
    _refused(raw)
    with pytest.raises(WebfedError):
        peek_token(raw)


@FAST
@given(st.integers(min_value=0, max_value=len(VALID) - 1), TOKEN_ALPHABET)
def test_replacing_one_character_is_refused(position: int, char: str) -> None:
    mutated = VALID[:position] + char + VALID[position + 1 :]
    if mutated != VALID:
        _refused(mutated)


@FAST
@given(
    st.integers(min_value=0, max_value=len(VALID)), st.text(TOKEN_ALPHABET, min_size=1, max_size=4)
)
def test_inserting_characters_is_refused(position: int, text: str) -> None:
    _refused(VALID[:position] + text + VALID[position:])


@FAST
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=1, max_value=8))
def test_deleting_characters_is_refused(position: int, count: int) -> None:
    _refused(VALID[:position] + VALID[position + count :])


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
CLAIM_NAMES = st.sampled_from(
    [
        "iss",
        "aud",
        "sub",
        "exp",
        "iat",
        "nbf",
        "azp",
        "amr",
        "https://aws.amazon.com/tags",
        "https://aws.amazon.com/source_identity",
        "x",
    ]
)


@FAST
@given(st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=6))
def test_signed_arbitrary_claims_are_accepted_or_refused_cleanly(
    changes: dict[str, object],
) -> None:
    """Properly signed tokens with arbitrary claim values never crash the validator, and
    when accepted, their condition keys are strings or lists of strings."""
    payload = json.dumps({**claims(), **changes}, allow_nan=True).encode()
    raw = sign(payload, KEY)
    try:
        result = validate_token(raw, PROVIDER, KEY_SET, now=NOW)
    except WebfedError:
        return
    assert result.issuer == ISSUER
    assert result.audience == CLIENT
    for value in web_identity_condition_keys(result).values():
        assert isinstance(value, str) or all(isinstance(item, str) for item in value)

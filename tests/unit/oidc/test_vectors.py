"""RFC 7515 Appendix A.2 through webfed's own parsing, key selection and verification."""

from __future__ import annotations

import pytest

from tests.support.tokens import tamper_payload
from tests.unit.oidc.vectors import (
    RFC7515_A2_EXP,
    RFC7515_A2_ISSUER,
    RFC7515_A2_PUBLIC_JWK,
    RFC7515_A2_TOKEN,
)
from webfed.core.oidc import TrustedProvider, parse_key_set, peek_token, select_key, validate_token
from webfed.core.oidc.validate import verify_signature
from webfed.errors import ExpiredTokenException, InvalidIdentityToken


def test_peek_reads_the_rfc_token() -> None:
    unverified = peek_token(RFC7515_A2_TOKEN)
    assert (unverified.issuer, unverified.kid, unverified.algorithm) == ("joe", None, "RS256")
    assert unverified.claims["http://example.com/is_root"] is True
    assert unverified.claims["exp"] == RFC7515_A2_EXP


def test_rfc_signature_verifies_with_the_rfc_key() -> None:
    key_set = parse_key_set({"keys": [RFC7515_A2_PUBLIC_JWK]})
    key = select_key(key_set, None, "RS256", fingerprint="f")
    verify_signature(RFC7515_A2_TOKEN, key, "RS256", fingerprint="f")  # returns None or raises


def test_rfc_token_passes_signature_and_time_then_fails_on_missing_audience() -> None:
    key_set = parse_key_set({"keys": [RFC7515_A2_PUBLIC_JWK]})
    provider = TrustedProvider(RFC7515_A2_ISSUER, ("bob",))
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(RFC7515_A2_TOKEN, provider, key_set, now=RFC7515_A2_EXP - 60)
    assert failure.value.explanation is not None
    assert failure.value.explanation["check"] == "audience"


def test_rfc_token_is_expired_after_the_grace() -> None:
    key_set = parse_key_set({"keys": [RFC7515_A2_PUBLIC_JWK]})
    provider = TrustedProvider(RFC7515_A2_ISSUER, ("bob",))
    with pytest.raises(ExpiredTokenException):
        validate_token(RFC7515_A2_TOKEN, provider, key_set, now=RFC7515_A2_EXP + 300)


def test_rfc_token_with_edited_payload_fails_signature() -> None:
    key_set = parse_key_set({"keys": [RFC7515_A2_PUBLIC_JWK]})
    forged = tamper_payload(RFC7515_A2_TOKEN, aud="bob")
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(forged, TrustedProvider("joe", ("bob",)), key_set, now=RFC7515_A2_EXP)
    assert failure.value.explanation is not None
    assert failure.value.explanation["check"] == "signature"

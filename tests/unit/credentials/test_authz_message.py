"""Encoded authorization messages: round trip, tampering, foreign rings, scrubbing, size cap.

Decision (documented in the module and ``docs/credentials.md``): a token or secret put into an
explanation by mistake is *scrubbed*, not rejected, so that explaining a denial can never fail.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Collection

import pytest

from tests.unit.credentials.conftest import FIXED_KEY, NOW, full_session
from webfed.core.authz_message import (
    MAX_ENCODED_MESSAGE_CHARS,
    REDACTED,
    decode_authorization_message,
    encode_authorization_message,
    explain_denial,
)
from webfed.core.credentials import mint_credentials, unseal_session_token
from webfed.core.keys import KeyRing, new_sealing_key
from webfed.errors import InvalidAuthorizationMessage, InvalidClientTokenId

JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiMTIzIn0"
    ".c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLW1vcmU"
)


def _denial() -> dict[str, object]:
    return explain_denial(
        check="identity-policy",
        reason="no statement allows s3:PutObject on this resource",
        principal={"id": "AROACLKWSDQRAOEXAMPLE:app1", "arn": full_session().assumed_role_arn},
        action="s3:PutObject",
        resource="arn:aws:s3:::scores/app1/high.json",
        conditions={"aws:SourceIp": "192.0.2.7", "aws:TagKeys": ["Project", "Team"]},
        explicit_deny=True,
        matched_statements=[{"sid": "DenyWrites", "effect": "DENY"}],
    )


def _encode(explanation: dict[str, object], ring: KeyRing, scrub: Collection[str] = ()) -> str:
    return encode_authorization_message(
        explanation, key_ring=ring, rng=random.Random(9), now=NOW, scrub=scrub
    )


def _invalid(text: str, ring: KeyRing) -> None:
    with pytest.raises(InvalidAuthorizationMessage) as caught:
        decode_authorization_message(text, ring)
    assert caught.value.code == "InvalidAuthorizationMessageException"
    assert caught.value.status == 400


def test_round_trip_has_the_aws_shape(ring: KeyRing) -> None:
    decoded = decode_authorization_message(_encode(_denial(), ring), ring)
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is True
    assert decoded["check"] == "identity-policy"
    assert decoded["matchedStatements"] == {"items": [{"sid": "DenyWrites", "effect": "DENY"}]}
    assert decoded["failures"] == {"items": []}
    assert decoded["encodedAt"] == "2026-11-26T06:00:00+00:00"
    context = decoded["context"]
    assert isinstance(context, dict)
    assert context["action"] == "s3:PutObject"
    assert context["conditions"] == {
        "items": [
            {"key": "aws:SourceIp", "values": {"items": [{"value": "192.0.2.7"}]}},
            {"key": "aws:TagKeys", "values": {"items": [{"value": "Project"}, {"value": "Team"}]}},
        ]
    }


def test_a_free_form_explanation_is_kept_and_marked_denied(ring: KeyRing) -> None:
    decoded = decode_authorization_message(
        _encode({"check": "web-identity-token", "reason": "aud mismatch", "wanted": ["a"]}, ring),
        ring,
    )
    assert decoded["wanted"] == ["a"]
    assert decoded["allowed"] is False


def test_message_is_opaque(ring: KeyRing) -> None:
    text = _encode(_denial(), ring)
    assert "s3:PutObject" not in text
    assert b"PutObject" not in base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("offset", [0, 1, 8, 9, 20, 21, -1], ids=lambda o: f"byte-{o}")
def test_tampered_messages_are_invalid(offset: int, ring: KeyRing) -> None:
    text = _encode(_denial(), ring)
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[offset] ^= 0x04
    _invalid(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), ring)


def test_foreign_key_ring_cannot_decode(ring: KeyRing) -> None:
    foreign = KeyRing([new_sealing_key(random.Random(11), NOW)], NOW)
    _invalid(_encode(_denial(), ring), foreign)


def test_session_tokens_are_not_authorization_messages(ring: KeyRing) -> None:
    minted = mint_credentials(full_session(), key_ring=ring, rng=random.Random(1))
    _invalid(minted.session_token, ring)


def test_authorization_messages_are_not_session_tokens(ring: KeyRing) -> None:
    text = _encode(_denial(), ring)
    with pytest.raises(InvalidClientTokenId):
        unseal_session_token(text, "ASIAUJZDEGXDNCF32EPF", ring)


def test_retired_key_still_decodes(ring: KeyRing) -> None:
    text = _encode(_denial(), ring)
    successor = new_sealing_key(random.Random(12), NOW)
    later_ring = KeyRing([FIXED_KEY.retire(NOW), successor], NOW)
    assert decode_authorization_message(text, later_ring)["check"] == "identity-policy"


@pytest.mark.parametrize(
    "text",
    ["", "x", "not base64!", "A" * (MAX_ENCODED_MESSAGE_CHARS + 1), "line\nbreak", "é" * 64],
    ids=["empty", "one-char", "punctuation", "over-cap", "line-break", "non-ascii"],
)
def test_garbage_is_invalid(text: str, ring: KeyRing) -> None:
    _invalid(text, ring)


def test_surrounding_whitespace_from_a_paste_is_tolerated(ring: KeyRing) -> None:
    text = _encode(_denial(), ring)
    assert decode_authorization_message(f"  {text}\n", ring)["allowed"] is False


# --- scrubbing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["token", "WebIdentityToken", "sessionToken", "SecretAccessKey", "password", "Authorization"],
    ids=["token", "web-identity-token", "session-token", "secret", "password", "authorization"],
)
def test_fields_named_like_credentials_are_redacted(field: str, ring: KeyRing) -> None:
    explanation = {"check": "x", "reason": "y", "context": {field: "very-secret-value"}}
    decoded = decode_authorization_message(_encode(explanation, ring), ring)
    assert decoded["context"] == {field: REDACTED}


def test_token_values_are_redacted_wherever_they_hide(ring: KeyRing) -> None:
    minted = mint_credentials(full_session(), key_ring=ring, rng=random.Random(1))
    explanation = {
        "check": "web-identity-token",
        "reason": f"could not verify {JWT} for aud x",
        "context": {"conditions": {"items": [{"key": "k", "values": [minted.session_token]}]}},
        "note": minted.secret_access_key,
    }
    text = _encode(explanation, ring, scrub=[minted.secret_access_key])
    decoded = decode_authorization_message(text, ring)
    flat = str(decoded)
    assert JWT not in flat
    assert minted.session_token not in flat
    assert minted.secret_access_key not in flat
    assert decoded["reason"] == f"could not verify {REDACTED} for aud x"
    assert decoded["note"] == REDACTED


def test_ordinary_values_survive_scrubbing(ring: KeyRing) -> None:
    decoded = decode_authorization_message(_encode(_denial(), ring), ring)
    assert decoded == {**_denial(), "encodedAt": NOW.isoformat()}


def test_deeply_nested_input_is_cut(ring: KeyRing) -> None:
    nested: dict[str, object] = {"leaf": 1}
    for _ in range(40):
        nested = {"inner": nested}
    decoded = decode_authorization_message(_encode({"check": "c", "deep": nested}, ring), ring)
    assert "[too deep]" in str(decoded)


def test_unserializable_values_become_text(ring: KeyRing) -> None:
    decoded = decode_authorization_message(_encode({"check": "c", "when": NOW}, ring), ring)
    assert decoded["when"] == str(NOW)


# --- size cap ---------------------------------------------------------------------------------


def test_huge_explanations_are_trimmed_under_the_cap(ring: KeyRing) -> None:
    rng = random.Random(13)
    noise = ["".join(rng.choice("abcdefghij:/ ") for _ in range(60)) for _ in range(400)]
    explanation = explain_denial(
        check="identity-policy",
        reason="denied",
        conditions={f"key{i}": value for i, value in enumerate(noise)},
        matched_statements=[{"sid": value} for value in noise],
    )
    text = _encode(explanation, ring)
    assert len(text) <= MAX_ENCODED_MESSAGE_CHARS
    decoded = decode_authorization_message(text, ring)
    assert decoded["truncated"] is True
    assert decoded["check"] == "identity-policy"


def test_even_a_huge_reason_fits(ring: KeyRing) -> None:
    rng = random.Random(14)
    reason = "".join(rng.choice("abcdefghij :/") for _ in range(60_000))
    text = _encode({"check": "c", "reason": reason}, ring)
    assert len(text) <= MAX_ENCODED_MESSAGE_CHARS
    assert decode_authorization_message(text, ring)["truncated"] is True

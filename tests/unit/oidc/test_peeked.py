"""The token is read once: ``validate_token`` accepts what ``peek_token`` made of it.

The peeked path must be exactly as strict as the text path: same vectors verify, the same
forgeries fail on the signature, and a peeked value that does not carry the token it was made
from can never verify.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.tokens import SigningKey, jwks_document, sign_raw, tamper_payload
from tests.unit.oidc.conftest import CLIENT, ISSUER, NOW, claims, token
from tests.unit.oidc.vectors import RFC7515_A2_EXP, RFC7515_A2_PUBLIC_JWK, RFC7515_A2_TOKEN
from webfed.core.oidc import (
    IssuerKeySet,
    TrustedProvider,
    parse_key_set,
    peek_token,
    select_key,
    validate_token,
)
from webfed.core.oidc.token import _decode_segment
from webfed.core.oidc.validate import verify_peeked_signature
from webfed.errors import InvalidIdentityToken


def _signature_check(failure: pytest.ExceptionInfo[InvalidIdentityToken]) -> object:
    assert failure.value.explanation is not None
    return failure.value.explanation["check"]


def test_rfc_vector_verifies_from_its_peeked_form() -> None:
    key = select_key(
        parse_key_set({"keys": [RFC7515_A2_PUBLIC_JWK]}), None, "RS256", fingerprint="f"
    )
    verify_peeked_signature(peek_token(RFC7515_A2_TOKEN), key)  # returns None or raises


@pytest.mark.parametrize("key_name", ["rsa_key", "es256_key"], ids=["rs256", "es256"])
def test_peeked_and_text_give_the_same_validated_token(
    key_name: str,
    request: pytest.FixtureRequest,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    text = token(request.getfixturevalue(key_name))
    assert validate_token(peek_token(text), provider, key_set, now=NOW) == validate_token(
        text, provider, key_set, now=NOW
    )


def test_peeked_value_repr_shows_no_token_part(rsa_key: SigningKey) -> None:
    text = token(rsa_key)
    shown = repr(peek_token(text))
    assert all(segment not in shown for segment in text.split("."))


@pytest.mark.parametrize(
    "forge",
    [
        lambda text: tamper_payload(text, aud="client-2"),
        lambda text: text[: text.rindex(".") + 1] + ("A" if text[-1] != "A" else "B") * 8,
        lambda text: text.rsplit(".", 1)[0] + "." + text.split(".")[0],
    ],
    ids=["edited-payload", "garbled-signature", "signature-swapped"],
)
def test_forgeries_fail_on_the_signature_from_the_peeked_form(
    forge: object, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    assert callable(forge)
    forged = forge(token(rsa_key))
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(peek_token(forged), provider, key_set, now=NOW)
    assert _signature_check(failure) == "signature"


def test_claims_swapped_into_a_peeked_value_do_not_verify(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    genuine = peek_token(token(rsa_key))
    other = peek_token(token(rsa_key, sub="someone-else"))
    mixed = dataclasses.replace(genuine, segments=(other.segments[0], other.segments[1], "x"))
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(mixed, provider, key_set, now=NOW)
    assert _signature_check(failure) == "signature"


def test_a_hand_made_value_without_segments_never_verifies(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    genuine = peek_token(token(rsa_key))
    bare = type(genuine)(
        genuine.issuer,
        genuine.kid,
        genuine.algorithm,
        genuine.fingerprint,
        genuine.header,
        genuine.claims,
    )
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(bare, provider, key_set, now=NOW)
    assert _signature_check(failure) == "signature"


def test_refused_header_member_is_refused_from_the_peeked_form(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    header = {"alg": "RS256", "kid": rsa_key.kid, "jku": 5}  # jku must be a string
    forged = sign_raw(header, _payload(), rsa_key)
    with pytest.raises(InvalidIdentityToken) as failure:
        validate_token(peek_token(forged), provider, key_set, now=NOW)
    assert _signature_check(failure) == "signature"


def _payload() -> bytes:
    return json.dumps(claims()).encode()


@settings(max_examples=40, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-"))
def test_any_single_character_change_is_refused(
    position: int, replacement: str, rsa_key: SigningKey
) -> None:
    key_set = parse_key_set(jwks_document(rsa_key))
    text = token(rsa_key)
    index = position % len(text)
    if text[index] in (".", replacement):
        return
    altered = text[:index] + replacement + text[index + 1 :]
    provider = TrustedProvider(ISSUER, (CLIENT,))
    with pytest.raises(InvalidIdentityToken):
        validate_token(peek_token(altered), provider, key_set, now=NOW)


def test_rfc_vector_expiry_is_read_from_the_peeked_form() -> None:
    assert peek_token(RFC7515_A2_TOKEN).claims["exp"] == RFC7515_A2_EXP


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _canonical_by_reencoding(segment: str) -> bool:
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() == segment


@given(data=st.binary(min_size=1, max_size=64), last=st.sampled_from(_ALPHABET))
def test_only_the_canonical_spelling_of_a_segment_is_accepted(data: bytes, last: str) -> None:
    """RFC 4648 section 3.5: unused bits of the last character must be zero; any other last
    character either spells other bytes or is a second spelling, which is refused."""
    segment = base64.urlsafe_b64encode(data).rstrip(b"=").decode()[:-1] + last
    if _canonical_by_reencoding(segment):
        assert _decode_segment(segment, "payload", "f") == base64.urlsafe_b64decode(
            segment + "=" * (-len(segment) % 4)
        )
    else:
        with pytest.raises(InvalidIdentityToken) as failure:
            _decode_segment(segment, "payload", "f")
        assert failure.value.explanation is not None
        assert "not canonical" in str(failure.value.explanation["reason"])


@pytest.mark.parametrize(
    ("segment", "accepted"),
    [("QQ", True), ("QR", False), ("QUE", True), ("QUF", False), ("QUFB", True), ("", True)],
    ids=["one-byte", "one-byte-stray-bits", "two-bytes", "two-bytes-stray-bits", "three", "empty"],
)
def test_rfc4648_spellings(segment: str, accepted: bool) -> None:
    if accepted:
        _decode_segment(segment, "payload", "f")
    else:
        with pytest.raises(InvalidIdentityToken):
            _decode_segment(segment, "payload", "f")


def _reference_decode(segment: str) -> bytes | str:
    """RFC 4648 section 5 read the plain way: the alphabet by a regular expression, then a
    lenient decode, then the canonical check; the bytes, or the reason for refusing."""
    if len(segment) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9_-]*", segment):
        return "payload is not base64url"
    if not _canonical_by_reencoding(segment):
        return "payload is not canonical base64url"
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@settings(max_examples=500, deadline=None)
@given(
    segment=st.text(alphabet=_ALPHABET + "+/=.*! \n\x00é\ud800", max_size=40)
    | st.binary(max_size=30).map(lambda data: base64.urlsafe_b64encode(data).decode())
)
def test_segments_decode_exactly_like_the_plain_reference(segment: str) -> None:
    """The strict C decoder accepts the same segments as the regular-expression reference and
    refuses the others with the same reason (padding, ``+``, ``/``, non-ASCII, stray bits)."""
    expected = _reference_decode(segment)
    if isinstance(expected, bytes):
        assert _decode_segment(segment, "payload", "f") == expected
    else:
        with pytest.raises(InvalidIdentityToken) as failure:
            _decode_segment(segment, "payload", "f")
        assert failure.value.explanation is not None
        assert failure.value.explanation["reason"] == expected

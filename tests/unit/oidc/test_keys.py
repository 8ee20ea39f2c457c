"""JWK Set parsing: which keys are kept, which are skipped, and the key-count cap."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import OctKey, OKPKey

from tests.support.tokens import SigningKey, b64url, generate_signing_key
from tests.unit.oidc.helpers import rejection
from webfed.core.oidc import MAX_KEYS_PER_SET, parse_key_set, select_key
from webfed.errors import InvalidIdentityToken


def test_public_members_only_are_kept(rsa_key: SigningKey) -> None:
    private = dict(rsa_key.private.as_dict(private=True), kid="rsa-1")
    key_set = parse_key_set({"keys": [private]})
    (key,) = key_set.keys
    assert not key.key.is_private
    assert key.kid == "rsa-1"
    assert key.thumbprint == rsa_key.private.thumbprint()


def _jwk(key: SigningKey, **extra: Any) -> dict[str, Any]:
    return {name: value for name, value in key.public_jwk(**extra).items() if value is not None}


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, "key type"),
        (dict(OKPKey.generate_key("Ed25519").as_dict(), kid="ed"), "key type"),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "bad"}, "cannot import"),
        ("not-an-object", "not a JSON object"),
    ],
    ids=["hmac", "ed25519", "invalid-rsa", "string"],
)
def test_unusable_keys_are_skipped(member: object, reason: str) -> None:
    key_set = parse_key_set({"keys": [member]})
    assert key_set.keys == ()
    (skipped_reason,) = key_set.skipped.values()
    assert reason in skipped_reason


@pytest.mark.parametrize(
    ("extra", "kept"),
    [
        ({"use": "sig"}, True),
        ({"use": None}, True),
        ({"use": "enc"}, False),
        ({"key_ops": ["verify"]}, True),
        ({"key_ops": ["encrypt"]}, False),
        ({"key_ops": "verify"}, False),
        ({"alg": "HS256"}, False),
        ({"alg": None}, True),
        ({"kid": 7}, False),
    ],
    ids=[
        "use-sig",
        "use-absent",
        "use-enc",
        "ops-verify",
        "ops-encrypt",
        "ops-string",
        "alg-hmac",
        "alg-absent",
        "kid-number",
    ],
)
def test_key_use_rules(extra: dict[str, Any], kept: bool, rsa_key: SigningKey) -> None:
    key_set = parse_key_set({"keys": [_jwk(rsa_key, **extra)]})
    assert bool(key_set.keys) is kept


@pytest.mark.parametrize("bits", [1024, 1536, 2040], ids=["1024", "1536", "2040"])
def test_small_rsa_keys_are_skipped(bits: int) -> None:
    numbers = rsa.generate_private_key(65537, bits).public_key().public_numbers()
    member = {"kty": "RSA", "kid": "weak", "e": "AQAB", "n": b64url(numbers.n.to_bytes(bits // 8))}
    key_set = parse_key_set({"keys": [member]})
    assert key_set.keys == ()
    assert "2048" in key_set.skipped["weak"]


def test_secp256k1_is_skipped() -> None:
    from joserfc.jwk import ECKey

    member = dict(ECKey.generate_key("secp256k1").as_dict(private=False), kid="k1")
    assert parse_key_set({"keys": [member]}).keys == ()


def test_every_allowed_key_kind_is_kept() -> None:
    keys = [generate_signing_key(alg, alg) for alg in ("RS256", "PS384", "ES256", "ES384", "ES512")]
    key_set = parse_key_set({"keys": [key.public_jwk() for key in keys]})
    assert key_set.kids == {"RS256", "PS384", "ES256", "ES384", "ES512"}


@pytest.mark.parametrize(
    "document",
    [{}, {"keys": "x"}, [], "keys", None, {"keys": {"a": 1}}],
    ids=["no-keys", "keys-string", "array", "string", "null", "keys-object"],
)
def test_not_a_key_set(document: object) -> None:
    rejection(lambda: parse_key_set(document), "IDPCommunicationError", "key_set")


def test_key_count_is_capped(rsa_key: SigningKey) -> None:
    member = rsa_key.public_jwk()
    assert len(parse_key_set({"keys": [member] * MAX_KEYS_PER_SET}).keys) == MAX_KEYS_PER_SET
    rejection(
        lambda: parse_key_set({"keys": [member] * (MAX_KEYS_PER_SET + 1)}),
        "IDPCommunicationError",
        "key_set",
    )
    rejection(
        lambda: parse_key_set({"keys": [member] * 3}, max_keys=2),
        "IDPCommunicationError",
        "key_set",
    )


def test_duplicate_kid_is_ambiguous(rsa_key: SigningKey, other_rsa_key: SigningKey) -> None:
    key_set = parse_key_set({"keys": [rsa_key.public_jwk(), other_rsa_key.public_jwk(kid="rsa-1")]})
    rejection(
        lambda: select_key(key_set, "rsa-1", "RS256", fingerprint="f"),
        "InvalidIdentityToken",
        "ambiguous_kid",
    )


def test_curve_must_match_the_algorithm(es256_key: SigningKey) -> None:
    key_set = parse_key_set({"keys": [_jwk(es256_key, alg=None)]})
    assert select_key(key_set, "ec-1", "ES256", fingerprint="f").kid == "ec-1"
    for algorithm in ("ES384", "ES512", "RS256"):
        with pytest.raises(InvalidIdentityToken) as failure:
            select_key(key_set, "ec-1", algorithm, fingerprint="f")
        assert failure.value.explanation is not None
        assert failure.value.explanation["check"] == "unknown_kid"


def test_oct_key_class_is_never_produced() -> None:
    key_set = parse_key_set({"keys": [OctKey.generate_key(256).as_dict()]})
    assert key_set.keys == ()

"""Issuer keys: wrapping, the private key never shown, publication and signing-key choice."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from joserfc.jwk import KeySet, RSAKey

from tests.unit.issuer.conftest import NOW, signing_key
from webfed.core.keys import MasterKey, unwrap_bytes, wrap_bytes
from webfed.errors import MasterKeyError
from webfed.issuer import (
    ISSUER_SIGNING,
    JWKS_MAX_AGE_SECONDS,
    MAX_TOKEN_LIFETIME,
    PUBLISH_GRACE,
    SIGNING_LEAD,
    IssuerKeys,
    SigningKey,
)

MASTER = MasterKey(bytes(range(32)))
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def test_wrap_bytes_round_trip() -> None:
    blob = wrap_bytes(
        MASTER, b"secret der", purpose=ISSUER_SIGNING, key_id="AAAAAAAA", rng=random.Random(3)
    )
    assert b"secret der" not in blob
    assert unwrap_bytes(MASTER, blob, purpose=ISSUER_SIGNING, key_id="AAAAAAAA") == b"secret der"


def _blob() -> bytes:
    return wrap_bytes(
        MASTER, b"x" * 40, purpose=ISSUER_SIGNING, key_id="AAAAAAAA", rng=random.Random(3)
    )


@pytest.mark.parametrize(
    ("master", "blob", "purpose", "key_id"),
    [
        (MasterKey(bytes(32)), _blob(), ISSUER_SIGNING, "AAAAAAAA"),
        (MASTER, _blob(), "sealing", "AAAAAAAA"),
        (MASTER, _blob(), ISSUER_SIGNING, "BBBBBBBB"),
        (MASTER, _blob()[:-1] + bytes([_blob()[-1] ^ 1]), ISSUER_SIGNING, "AAAAAAAA"),
        (MASTER, _blob()[:20], ISSUER_SIGNING, "AAAAAAAA"),
        (MASTER, b"\x01" + _blob()[1:], ISSUER_SIGNING, "AAAAAAAA"),
        (MASTER, b"", ISSUER_SIGNING, "AAAAAAAA"),
    ],
    ids=[
        "other-master",
        "other-purpose",
        "other-key-id",
        "tampered",
        "truncated",
        "wrong-version",
        "empty",
    ],
)
def test_unwrap_bytes_refuses(master: MasterKey, blob: bytes, purpose: str, key_id: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        unwrap_bytes(master, blob, purpose=purpose, key_id=key_id)
    assert "xxxx" not in str(caught.value)


def test_purpose_and_key_id_cannot_be_reframed() -> None:
    """The associated data is length-prefixed: ("ab", "c") is not ("a", "bc")."""
    blob = wrap_bytes(MASTER, b"k", purpose="ab", key_id="c", rng=random.Random(1))
    with pytest.raises(MasterKeyError):
        unwrap_bytes(MASTER, blob, purpose="a", key_id="bc")


def test_repr_hides_private_key(key: SigningKey) -> None:
    private_d = str(key.private.as_dict(private=True)["d"])
    assert private_d not in repr(key)
    assert private_d not in repr(IssuerKeys([key], NOW))
    assert key.kid in repr(key)


def test_pkcs8_round_trip(key: SigningKey) -> None:
    again = SigningKey.from_pkcs8(key.kid, key.pkcs8(), key.created_at, None)
    assert again.public_jwk() == key.public_jwk()


def test_public_jwk_has_no_private_member(key: SigningKey) -> None:
    jwk = key.public_jwk()
    assert not set(_PRIVATE_MEMBERS) & set(jwk)
    assert jwk["kid"] == key.kid and jwk["use"] == "sig" and jwk["alg"] == "RS256"
    assert jwk["kty"] == "RSA" and jwk["e"] == "AQAB"


def test_small_rsa_key_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="2048"):
        SigningKey.from_private_key("AAAAAAAA", small, NOW, None)


def test_public_only_key_refused(rsa_keys: tuple[RSAPrivateKey, ...]) -> None:
    public = RSAKey.import_key(rsa_keys[0].public_key())
    with pytest.raises(ValueError, match="private"):
        SigningKey("AAAAAAAA", public, NOW)


@pytest.mark.parametrize(
    "kid", ["", "SHORT", "NINECHARS", "ÀAAAAAAA"], ids=["empty", "short", "long", "non-ascii"]
)
def test_bad_kid_refused(rsa_keys: tuple[RSAPrivateKey, ...], kid: str) -> None:
    with pytest.raises(ValueError, match="kid"):
        SigningKey.from_private_key(kid, rsa_keys[0], NOW, None)


def test_not_a_pkcs8_rsa_key_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="RSA"):
        SigningKey.from_pkcs8("AAAAAAAA", der, NOW, None)


def test_grace_covers_the_longest_token_and_the_lead() -> None:
    assert SIGNING_LEAD + MAX_TOKEN_LIFETIME + timedelta(minutes=5) < PUBLISH_GRACE
    assert timedelta(seconds=JWKS_MAX_AGE_SECONDS) < SIGNING_LEAD


def test_keys_need_a_current_key(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="unretired"):
        IssuerKeys([key.retire(NOW)], NOW)
    with pytest.raises(ValueError, match="unretired"):
        IssuerKeys([], NOW)


def test_first_key_signs_at_once(key: SigningKey) -> None:
    assert IssuerKeys([key], NOW).signing_key(NOW).kid == key.kid


def test_rotation_soon_after_the_first_key_keeps_signing_with_the_older_key(
    rsa_keys: tuple[RSAPrivateKey, ...],
) -> None:
    first = signing_key(rsa_keys[0], 1, created_at=NOW)
    second = signing_key(rsa_keys[1], 2, created_at=NOW + timedelta(seconds=5))
    keys = IssuerKeys([first.retire(second.created_at), second], second.created_at)
    assert keys.signing_key(second.created_at).kid == first.kid
    assert keys.signing_key(second.created_at + SIGNING_LEAD).kid == second.kid


def test_rotation_publishes_first_and_signs_after_the_lead(
    rsa_keys: tuple[RSAPrivateKey, ...],
) -> None:
    old = signing_key(rsa_keys[0], 1, created_at=NOW - timedelta(days=3))
    rotated_at = NOW
    new = signing_key(rsa_keys[1], 2, created_at=rotated_at)
    keys = IssuerKeys([old.retire(rotated_at), new], rotated_at)
    assert keys.kids == (old.kid, new.kid)
    assert keys.current.kid == new.kid
    assert keys.signing_key(rotated_at).kid == old.kid
    assert keys.signing_key(rotated_at + SIGNING_LEAD - timedelta(seconds=1)).kid == old.kid
    assert keys.signing_key(rotated_at + SIGNING_LEAD).kid == new.kid


@pytest.mark.parametrize(
    ("offset", "published"),
    [
        (timedelta(0), True),
        (MAX_TOKEN_LIFETIME + timedelta(minutes=5), True),
        (PUBLISH_GRACE - timedelta(seconds=1), True),
        (PUBLISH_GRACE, False),
    ],
    ids=["just-retired", "after-longest-token", "last-second", "grace-over"],
)
def test_retired_key_stays_published_for_the_grace(
    rsa_keys: tuple[RSAPrivateKey, ...], offset: timedelta, published: bool
) -> None:
    old = signing_key(rsa_keys[0], 1, created_at=NOW - timedelta(days=3)).retire(NOW)
    new = signing_key(rsa_keys[1], 2, created_at=NOW)
    keys = IssuerKeys([old, new], NOW + offset)
    assert (old.kid in keys.kids) is published
    assert (old.kid in keys.key_set.kids) is published


def test_jwks_document_imports_as_a_public_key_set(rsa_keys: tuple[RSAPrivateKey, ...]) -> None:
    keys = IssuerKeys(
        [
            signing_key(rsa_keys[0], 1, created_at=NOW - timedelta(hours=1)).retire(NOW),
            signing_key(rsa_keys[1], 2),
        ],
        NOW,
    )
    document = json.loads(keys.jwks_body)
    assert dict(keys.jwks()) == document
    assert [member["kid"] for member in document["keys"]] == list(keys.kids)
    for member in document["keys"]:
        assert not set(_PRIVATE_MEMBERS) & set(member)
    imported = KeySet.import_key_set(document)
    assert all(not member.is_private for member in imported.keys)

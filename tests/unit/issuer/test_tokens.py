"""Minting webfed's OpenID tokens and validating them, inside and as an outside verifier would."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.unit.issuer.conftest import IDENTITY, ISSUER, NOW, POOL, signing_key
from webfed.core.oidc import token_fingerprint
from webfed.errors import ExpiredTokenException, InvalidIdentityToken
from webfed.issuer import (
    DEVELOPER_TOKEN_LIFETIME,
    MAX_TOKEN_LIFETIME,
    OPEN_ID_TOKEN_LIFETIME,
    IssuerKeys,
    SigningKey,
    mint_identity_token,
    validate_identity_token,
)

EPOCH_NOW = int(NOW.timestamp())
POOL_ARN_CLAIM = "https://cognito-identity.amazonaws.com/identity-pool-arn"


def _mint(key: SigningKey, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "issuer": ISSUER,
        "pool_id": POOL,
        "identity_id": IDENTITY,
        "amr": ["unauthenticated"],
        "lifetime": OPEN_ID_TOKEN_LIFETIME,
        "now": NOW,
        "key": key,
        "extra_claims": None,
    }
    arguments.update(overrides)
    return mint_identity_token(**arguments)  # type: ignore[arg-type]  # test helper, typed above


def _segment(token: str, index: int) -> dict[str, object]:
    part = token.split(".")[index]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_token_has_the_documented_shape(key: SigningKey) -> None:
    """Cognito Identity's token: iss, aud = pool id, sub = identity id, amr, iat, exp."""
    token = _mint(
        key,
        amr=["authenticated", "accounts.google.com"],
        extra_claims={
            POOL_ARN_CLAIM: "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/x"
        },
    )
    assert _segment(token, 0) == {"alg": "RS256", "kid": key.kid, "typ": "JWS"}
    assert _segment(token, 1) == {
        "iss": ISSUER,
        "sub": IDENTITY,
        "aud": POOL,
        "amr": ["authenticated", "accounts.google.com"],
        "iat": EPOCH_NOW,
        "exp": EPOCH_NOW + 600,
        POOL_ARN_CLAIM: "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/x",
    }


@pytest.mark.parametrize(
    ("lifetime", "seconds"),
    [
        (OPEN_ID_TOKEN_LIFETIME, 600),
        (DEVELOPER_TOKEN_LIFETIME, 900),
        (MAX_TOKEN_LIFETIME, 86_400),
        (timedelta(seconds=1), 1),
    ],
    ids=["get-open-id-token-10min", "developer-default-15min", "developer-max-24h", "one-second"],
)
def test_lifetimes(key: SigningKey, lifetime: timedelta, seconds: int) -> None:
    claims = _segment(_mint(key, lifetime=lifetime), 1)
    assert claims["exp"] == EPOCH_NOW + seconds


@pytest.mark.parametrize(
    "lifetime",
    [
        timedelta(0),
        timedelta(seconds=-1),
        MAX_TOKEN_LIFETIME + timedelta(seconds=1),
        timedelta(seconds=1.5),
    ],
    ids=["zero", "negative", "over-24h", "fractional"],
)
def test_lifetime_outside_the_range_is_refused(key: SigningKey, lifetime: timedelta) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        _mint(key, lifetime=lifetime)


@pytest.mark.parametrize(
    "amr",
    [
        [],
        ["authenticated", "unauthenticated"],
        ["unauthenticated", "x"],
        ["google"],
        ["authenticated", ""],
    ],
    ids=["empty", "both", "unauth-with-provider", "no-marker", "empty-provider"],
)
def test_malformed_amr_is_refused(key: SigningKey, amr: list[str]) -> None:
    with pytest.raises(ValueError, match="amr"):
        _mint(key, amr=amr)


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "amr", "exp", "iat", "nbf"], ids=str)
def test_extra_claims_cannot_override_registered_ones(key: SigningKey, claim: str) -> None:
    with pytest.raises(ValueError, match="extra claims"):
        _mint(key, extra_claims={claim: "attacker"})


@pytest.mark.parametrize("field", ["issuer", "pool_id", "identity_id"], ids=str)
def test_empty_identifiers_are_refused(key: SigningKey, field: str) -> None:
    with pytest.raises(ValueError, match="required"):
        _mint(key, **{field: ""})


def test_validates_with_the_in_memory_key_set(key: SigningKey) -> None:
    token = _mint(key, amr=["authenticated", "graph.facebook.com"])
    validated = validate_identity_token(
        token, IssuerKeys([key], NOW), issuer=ISSUER, pool_ids=[POOL], now=EPOCH_NOW + 1
    )
    assert validated.subject == IDENTITY
    assert validated.audience == POOL
    assert validated.amr == ("authenticated", "graph.facebook.com")
    assert validated.key_id == key.kid
    assert validated.expires_at - (validated.issued_at or 0) == 600


def test_an_outside_verifier_accepts_it_with_the_published_jwks(key: SigningKey) -> None:
    token = _mint(key)
    published = KeySet.import_key_set(json.loads(IssuerKeys([key], NOW).jwks_body))
    decoded = jwt.decode(token, published, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        now=EPOCH_NOW + 5, iss={"essential": True, "value": ISSUER}, aud={"value": POOL}
    ).validate(decoded.claims)
    assert decoded.header["kid"] == key.kid


def _attack_cases(key: SigningKey, other: SigningKey) -> dict[str, tuple[str, str]]:
    token = _mint(key)
    header, payload, signature = token.split(".")
    forged_payload = (
        base64.urlsafe_b64encode(
            json.dumps({**_segment(token, 1), "sub": "us-east-1:someone-else"}).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    return {
        "wrong-pool": (token, "audience"),
        "signed-by-unpublished-key": (_mint(other), "unknown_kid"),
        "payload-swapped": (f"{header}.{forged_payload}.{signature}", "signature"),
        "alg-none": (f"eyJhbGciOiJub25lIiwia2lkIjoiIn0.{payload}.", "structure"),
        "other-issuer": (_mint(key, issuer="https://evil.example"), "issuer"),
    }


@pytest.mark.parametrize(
    "case",
    ["wrong-pool", "signed-by-unpublished-key", "payload-swapped", "alg-none", "other-issuer"],
    ids=str,
)
def test_attacks_are_refused(rsa_keys: tuple[RSAPrivateKey, ...], case: str) -> None:
    key, other = signing_key(rsa_keys[0], 1), signing_key(rsa_keys[1], 2)
    token, check = _attack_cases(key, other)[case]
    pools = ["us-east-1:another-pool"] if case == "wrong-pool" else [POOL]
    with pytest.raises(InvalidIdentityToken) as caught:
        validate_identity_token(
            token, IssuerKeys([key], NOW), issuer=ISSUER, pool_ids=pools, now=EPOCH_NOW
        )
    explanation = caught.value.explanation or {}
    assert explanation.get("check") == check
    _assert_token_not_echoed(token, caught.value)


def _assert_token_not_echoed(token: str, error: Exception) -> None:
    """Tokens are never logged: the error and its explanation carry a fingerprint only."""
    signature = token.rsplit(".", 1)[1]
    shown = f"{error} {getattr(error, 'explanation', '')} {error!r}"
    assert token not in shown
    assert not signature or signature not in shown
    assert token_fingerprint(token) in shown


def test_expired_token(key: SigningKey) -> None:
    token = _mint(key)
    with pytest.raises(ExpiredTokenException) as caught:
        validate_identity_token(
            token, IssuerKeys([key], NOW), issuer=ISSUER, pool_ids=[POOL], now=EPOCH_NOW + 600 + 300
        )
    _assert_token_not_echoed(token, caught.value)


def test_token_of_a_retired_key_validates_until_its_grace_ends(
    rsa_keys: tuple[RSAPrivateKey, ...],
) -> None:
    old = signing_key(rsa_keys[0], 1, created_at=NOW - timedelta(days=2))
    token = _mint(old, lifetime=MAX_TOKEN_LIFETIME)
    new = signing_key(rsa_keys[1], 2)
    later = NOW + MAX_TOKEN_LIFETIME
    keys = IssuerKeys([old.retire(NOW), new], later)
    validated = validate_identity_token(
        token, keys, issuer=ISSUER, pool_ids=[POOL], now=int(later.timestamp())
    )
    assert validated.key_id == old.kid


_PROVIDER = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FFF), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None)
@given(
    providers=st.lists(_PROVIDER, max_size=4),
    seconds=st.integers(min_value=1, max_value=86_400),
    elapsed=st.integers(min_value=0, max_value=86_400),
    identity=st.from_regex(r"us-east-1:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", fullmatch=True),
)
def test_round_trip_property(
    rsa_keys: tuple[RSAPrivateKey, ...],
    providers: list[str],
    seconds: int,
    elapsed: int,
    identity: str,
) -> None:
    """Any well-formed token validates exactly while ``now < exp + skew``, with its claims."""
    key = signing_key(rsa_keys[0], 1)
    amr = ["authenticated", *providers] if providers else ["unauthenticated"]
    token = _mint(key, amr=amr, identity_id=identity, lifetime=timedelta(seconds=seconds))
    now = EPOCH_NOW + elapsed
    keys = IssuerKeys([key], NOW)
    if elapsed >= seconds + 300:
        with pytest.raises(ExpiredTokenException):
            validate_identity_token(token, keys, issuer=ISSUER, pool_ids=[POOL], now=now)
        return
    validated = validate_identity_token(token, keys, issuer=ISSUER, pool_ids=[POOL], now=now)
    assert (validated.subject, validated.amr) == (identity, tuple(amr))
    assert validated.expires_at == EPOCH_NOW + seconds

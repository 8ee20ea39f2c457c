"""Keys and helpers for the token-validation unit tests (keys are made once per session)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tokens import SigningKey, generate_signing_key, jwks_document, sign
from webfed.core.oidc import IssuerKeySet, TrustedProvider, parse_key_set

ISSUER = "https://issuer.example.com"
CLIENT = "client-1"
NOW = 1_700_000_000


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return generate_signing_key("RS256", "rsa-1")


@pytest.fixture(scope="session")
def other_rsa_key() -> SigningKey:
    return generate_signing_key("RS256", "rsa-other")


@pytest.fixture(scope="session")
def es256_key() -> SigningKey:
    return generate_signing_key("ES256", "ec-1")


@pytest.fixture
def provider() -> TrustedProvider:
    return TrustedProvider(ISSUER, (CLIENT, "client-2"))


@pytest.fixture
def key_set(rsa_key: SigningKey, es256_key: SigningKey) -> IssuerKeySet:
    return parse_key_set(jwks_document(rsa_key, es256_key))


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims at ``NOW``; ``overrides`` replace members, a ``None`` value drops one."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "user-1",
        "iat": NOW,
        "exp": NOW + 600,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def token(key: SigningKey, **overrides: Any) -> str:
    return sign(claims(**overrides), key)

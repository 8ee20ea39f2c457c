"""Issuer test fixtures: RSA keys generated once per session (generation is the slow part)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from webfed.issuer import SigningKey
from webfed.issuer.keys import new_key_id

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ISSUER = "https://issuer.webfed.test"
POOL = "us-east-1:0b5f7c2e-9d1a-4a39-8a3b-6f1f2d3c4b5a"
IDENTITY = "us-east-1:7e1c3a90-2b4d-4c8e-9f10-a1b2c3d4e5f6"


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[RSAPrivateKey, ...]:
    return tuple(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3))


def signing_key(private: RSAPrivateKey, seed: int, **dates: datetime | None) -> SigningKey:
    created_at = dates.get("created_at") or NOW
    return SigningKey.from_private_key(
        new_key_id(random.Random(seed)), private, created_at, dates.get("retired_at")
    )


@pytest.fixture
def key(rsa_keys: tuple[RSAPrivateKey, ...]) -> SigningKey:
    return signing_key(rsa_keys[0], 1)

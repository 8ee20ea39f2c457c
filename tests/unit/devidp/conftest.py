"""Development provider test fixtures: one RSA key per session (generation is the slow part)."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from webfed.core.keys import MasterKey
from webfed.issuer import IssuerKeys, SigningKey
from webfed.issuer.keys import new_key_id

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
MASTER = MasterKey(bytes(range(32)))
#: RFC 7636 Appendix B: the verifier and its S256 challenge.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey.from_private_key(new_key_id(random.Random(7)), private, NOW, None)


@pytest.fixture(scope="session")
def issuer_keys(signing_key: SigningKey) -> IssuerKeys:
    return IssuerKeys([signing_key], NOW)

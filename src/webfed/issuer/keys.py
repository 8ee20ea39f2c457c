"""webfed's own token-signing keys and the set of them one process signs with and publishes.

A :class:`SigningKey` is an RSA private key (RFC 7518 section 3.3: RS256 needs 2048 bits or
more) with a ``kid``. The keys live in the database wrapped by the master key (see
:mod:`webfed.issuer.store`); this module is pure: keys, times and the clock are passed in.

Lifecycle (``docs/issuer.md``):

- a new key is *published* in the JWK Set at once, but only *signs* once it is
  :data:`SIGNING_LEAD` old, so every verifier that caches the JWK Set for its ``max-age``
  (:data:`JWKS_MAX_AGE_SECONDS`) already holds it when the first token it signed arrives;
- until then, and for :data:`SIGNING_LEAD` after rotation, the previous key keeps signing;
- a retired key stays published for :data:`PUBLISH_GRACE`: the signing lead, the longest token
  lifetime (24 hours, the developer-token maximum), the verifiers' clock skew, and an hour for
  nodes that have not reloaded; then it drops out of every set.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from joserfc.jwk import RSAKey

from webfed.core.keys import KEY_ID_LENGTH
from webfed.core.oidc import CLOCK_SKEW_SECONDS, IssuerKey, IssuerKeySet

__all__ = [
    "ISSUER_SIGNING",
    "JWKS_MAX_AGE_SECONDS",
    "MAX_TOKEN_LIFETIME",
    "PUBLISH_GRACE",
    "RSA_KEY_BITS",
    "SIGNING_ALGORITHM",
    "SIGNING_LEAD",
    "IssuerKeys",
    "SigningKey",
    "new_key_id",
]

#: The ``purpose`` of issuer keys in the ``sealing_keys`` table.
ISSUER_SIGNING = "issuer-signing"
#: RS256: the one algorithm every OpenID Connect verifier must support (OpenID Connect Core
#: 1.0 section 15.1) and one STS accepts; Cognito's observed RS512 buys no security here.
SIGNING_ALGORITHM = "RS256"
RSA_KEY_BITS = 2048
JWKS_MAX_AGE_SECONDS = 300
#: The JWK Set's cache lifetime plus the runtime's key reload interval (60 s).
SIGNING_LEAD = timedelta(seconds=JWKS_MAX_AGE_SECONDS + 60)
MAX_TOKEN_LIFETIME = timedelta(hours=24)
PUBLISH_GRACE = (
    SIGNING_LEAD + MAX_TOKEN_LIFETIME + timedelta(seconds=CLOCK_SKEW_SECONDS) + timedelta(hours=1)
)
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_key_id(rng: random.Random) -> str:
    """An 8-character base32 ``kid`` from the injected ``rng`` (the table's key-id width)."""
    return "".join(rng.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One issuer key: its ``kid``, the private key (never in a repr) and its dates."""

    kid: str
    private: RSAKey = field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.kid) != KEY_ID_LENGTH or not self.kid.isascii():
            raise ValueError(f"a kid is {KEY_ID_LENGTH} ASCII characters")
        if not self.private.is_private:
            raise ValueError("a signing key needs its private half")
        if self.private.raw_value.key_size < RSA_KEY_BITS:
            raise ValueError(f"an RSA signing key has at least {RSA_KEY_BITS} bits")

    @classmethod
    def from_private_key(
        cls, kid: str, private: RSAPrivateKey, created_at: datetime, retired_at: datetime | None
    ) -> SigningKey:
        if private.key_size < RSA_KEY_BITS:  # before joserfc's import, which only warns
            raise ValueError(f"an RSA signing key has at least {RSA_KEY_BITS} bits")
        return cls(kid, RSAKey.import_key(private), created_at, retired_at)

    @classmethod
    def from_pkcs8(
        cls, kid: str, der: bytes, created_at: datetime, retired_at: datetime | None
    ) -> SigningKey:
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, RSAPrivateKey):
            raise ValueError("a stored issuer key is not an RSA private key")
        return cls.from_private_key(kid, private, created_at, retired_at)

    def pkcs8(self) -> bytes:
        """The private key as unencrypted PKCS#8 DER, for wrapping; never stored bare."""
        private = self.private.raw_value
        assert isinstance(private, RSAPrivateKey)
        return private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def not_after(self) -> datetime | None:
        """When the key leaves the JWK Set: ``None`` while it is current."""
        return None if self.retired_at is None else self.retired_at + PUBLISH_GRACE

    def published_at(self, now: datetime) -> bool:
        not_after = self.not_after
        return not_after is None or now < not_after

    def public_jwk(self) -> dict[str, str]:
        """The public JWK (RFC 7517 section 4, RFC 7518 section 6.3.1): no private member."""
        public = self.private.as_dict(private=False)
        return {
            "kty": "RSA",
            "n": str(public["n"]),
            "e": str(public["e"]),
            "kid": self.kid,
            "use": "sig",
            "alg": SIGNING_ALGORITHM,
        }

    def retire(self, now: datetime) -> SigningKey:
        return SigningKey(self.kid, self.private, self.created_at, now)


def _verification_key(key: SigningKey) -> IssuerKey:
    public = RSAKey.import_key(key.private.as_dict(private=False))
    return IssuerKey(key.kid, SIGNING_ALGORITHM, public, public.thumbprint())


class IssuerKeys:
    """The issuer keys of one process, built once per reload at ``now``.

    ``keys`` are every stored key; those still within their grace are published. The JWK Set
    document and the verification key set are prepared here, off the request path.
    """

    __slots__ = ("_jwks_body", "_key_set", "_published")

    def __init__(self, keys: Iterable[SigningKey], now: datetime) -> None:
        published = [key for key in keys if key.published_at(now)]
        if not any(key.retired_at is None for key in published):
            raise ValueError("issuer keys need at least one unretired key")
        self._published = tuple(sorted(published, key=lambda key: (key.created_at, key.kid)))
        document = {"keys": [key.public_jwk() for key in self._published]}
        self._jwks_body = json.dumps(document, separators=(",", ":")).encode("ascii")
        self._key_set = IssuerKeySet(tuple(_verification_key(key) for key in self._published))

    @property
    def current(self) -> SigningKey:
        """The newest unretired key (the one rotation made last)."""
        return max(
            (key for key in self._published if key.retired_at is None),
            key=lambda key: (key.created_at, key.kid),
        )

    def signing_key(self, now: datetime) -> SigningKey:
        """The key to sign with at ``now``: the newest key at least :data:`SIGNING_LEAD` old;
        when none is (the first key, or a rotation soon after it), the oldest published key,
        the one verifiers have had the longest chance to fetch."""
        ready = [key for key in self._published if key.created_at + SIGNING_LEAD <= now]
        if not ready:
            return self._published[0]
        return max(ready, key=lambda key: (key.created_at, key.kid))

    @property
    def kids(self) -> tuple[str, ...]:
        """The published ``kid``\\s, oldest first."""
        return tuple(key.kid for key in self._published)

    @property
    def jwks_body(self) -> bytes:
        """The JWK Set document (RFC 7517 section 5) as compact JSON bytes."""
        return self._jwks_body

    def jwks(self) -> Mapping[str, object]:
        return MappingProxyType(json.loads(self._jwks_body))

    @property
    def key_set(self) -> IssuerKeySet:
        """The public keys as :func:`webfed.core.oidc.validate_token` takes them."""
        return self._key_set

    def __repr__(self) -> str:
        return f"IssuerKeys(current={self.current.kid!r}, published={list(self.kids)!r})"

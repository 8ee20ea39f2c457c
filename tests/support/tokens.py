"""Signing keys and tokens for tests: real JWS tokens signed with joserfc, and attack tokens.

The attack helpers build what an attacker would send (``alg: none``, HMAC keyed with the RSA
public key, a key outside the issuer's set, a payload edited after signing); they exist so the
validator's refusals can be tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

__all__ = [
    "SigningKey",
    "b64url",
    "forge_hmac_with_public_key",
    "forge_none",
    "generate_signing_key",
    "jwks_document",
    "sign",
    "sign_raw",
    "standard_claims",
    "tamper_payload",
]

_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


@dataclass(frozen=True)
class SigningKey:
    """A private key, the algorithm it signs with, and its ``kid``."""

    kid: str
    algorithm: str
    private: RSAKey | ECKey

    def public_jwk(self, **extra: Any) -> dict[str, Any]:
        member = dict(self.private.as_dict(private=False))
        member.update({"kid": self.kid, "use": "sig", "alg": self.algorithm, **extra})
        return member

    def public_pem(self) -> bytes:
        return self.private.as_pem(private=False)


def generate_signing_key(
    algorithm: str = "RS256", kid: str = "key-1", bits: int = 2048
) -> SigningKey:
    """A fresh key for ``algorithm`` (RS*/PS*: RSA of ``bits``; ES*: the matching curve)."""
    if algorithm in _CURVES:
        return SigningKey(kid, algorithm, ECKey.generate_key(_CURVES[algorithm]))
    return SigningKey(kid, algorithm, RSAKey.generate_key(bits))


def jwks_document(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def b64url(data: bytes | str | Mapping[str, Any]) -> str:
    if isinstance(data, Mapping):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def standard_claims(
    issuer: str,
    *,
    audience: str | list[str] = "client-1",
    subject: str = "user-1",
    now: int | None = None,
    lifetime: int = 600,
    **extra: Any,
) -> dict[str, Any]:
    """``iss``/``aud``/``sub``/``iat``/``exp`` for a token valid from ``now`` for ``lifetime``."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": issued,
        "exp": issued + lifetime,
    }
    claims.update(extra)
    return claims


def sign(
    claims: Mapping[str, Any] | bytes,
    key: SigningKey,
    *,
    alg: str | None = None,
    kid: str | None = "",
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS of ``claims`` signed by ``key``. ``kid=""`` (default) uses the key's kid,
    ``kid=None`` leaves it out; ``headers`` adds or overrides header members."""
    algorithm = alg or key.algorithm
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid or key.kid
    header.update(headers or {})
    payload = claims if isinstance(claims, bytes) else json.dumps(dict(claims)).encode()
    return sign_raw(header, payload, key)


def sign_raw(header: Mapping[str, Any], payload: bytes, key: SigningKey) -> str:
    """Sign any header, even one joserfc would refuse to produce (``crit``, ``b64``...), with
    joserfc's own algorithm implementation; for building tokens a validator must refuse."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    algorithm = jws.JWSRegistry.algorithms[str(header["alg"])]
    signature = algorithm.sign(signing_input.encode(), key.private)
    return f"{signing_input}.{b64url(signature)}"


def forge_none(claims: Mapping[str, Any], kid: str | None = "key-1") -> str:
    """An unsigned token, ``alg: none``, with an empty signature segment (RFC 7519 6.1)."""
    header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return f"{b64url(header)}.{b64url(dict(claims))}."


def forge_hmac_with_public_key(
    claims: Mapping[str, Any], key: SigningKey, *, alg: str = "HS256", secret: bytes | None = None
) -> str:
    """The key-confusion attack: HMAC keyed with the issuer's public key bytes (PEM)."""
    header = {"alg": alg, "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url(header)}.{b64url(dict(claims))}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    mac = hmac.new(secret or key.public_pem(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(mac)}"


def tamper_payload(token: str, **changes: Any) -> str:
    """The token with claims changed after signing (the signature is kept as it was)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64url(claims)}.{signature}"

"""webfed's OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3).

webfed issues tokens but runs no authorization endpoint (tokens come from the identity-pool
API, as Cognito Identity's do), so the document describes only what a verifier needs: the
``issuer`` (exactly the public URL, section 4.3), the ``jwks_uri``, the signing algorithm, the
subject type and the claims a token carries. ``response_types_supported`` is required by
section 3 and names ``id_token``, the only kind of token webfed hands out.
"""

from __future__ import annotations

import json

from webfed.issuer.keys import JWKS_MAX_AGE_SECONDS, SIGNING_ALGORITHM

__all__ = [
    "DISCOVERY_MAX_AGE_SECONDS",
    "DISCOVERY_PATH",
    "JWKS_PATH",
    "discovery_body",
    "discovery_document",
    "jwks_cache_control",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
#: The metadata never changes while the public URL stays the same.
DISCOVERY_MAX_AGE_SECONDS = 3600
CLAIMS = ("iss", "sub", "aud", "amr", "iat", "exp")


def discovery_document(issuer: str) -> dict[str, object]:
    """The metadata of the issuer at ``issuer`` (no trailing slash)."""
    return {
        "issuer": issuer,
        "jwks_uri": issuer + JWKS_PATH,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
        "claims_supported": list(CLAIMS),
    }


def discovery_body(issuer: str) -> bytes:
    return json.dumps(discovery_document(issuer), separators=(",", ":")).encode("ascii")


def jwks_cache_control() -> str:
    """A new key signs only after verifiers' caches of this lifetime have expired
    (:data:`~webfed.issuer.keys.SIGNING_LEAD`), so caching never hides a signing key."""
    return f"public, max-age={JWKS_MAX_AGE_SECONDS}"

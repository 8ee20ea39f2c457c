"""webfed's own OpenID issuer: signing keys, discovery and JWK Set, token minting.

Identity pools hand out OpenID tokens signed by webfed (as Cognito Identity does with
``https://cognito-identity.amazonaws.com``); STS accepts them. See ``docs/issuer.md``.
"""

from __future__ import annotations

from webfed.issuer.discovery import DISCOVERY_PATH, JWKS_PATH, discovery_document
from webfed.issuer.keys import (
    ISSUER_SIGNING,
    JWKS_MAX_AGE_SECONDS,
    MAX_TOKEN_LIFETIME,
    PUBLISH_GRACE,
    SIGNING_ALGORITHM,
    SIGNING_LEAD,
    IssuerKeys,
    SigningKey,
)
from webfed.issuer.store import load_issuer_keys, rotate_issuer_keys
from webfed.issuer.tokens import (
    DEVELOPER_TOKEN_LIFETIME,
    OPEN_ID_TOKEN_LIFETIME,
    mint_identity_token,
    trusted_provider,
    validate_identity_token,
)

__all__ = [
    "DEVELOPER_TOKEN_LIFETIME",
    "DISCOVERY_PATH",
    "ISSUER_SIGNING",
    "JWKS_MAX_AGE_SECONDS",
    "JWKS_PATH",
    "MAX_TOKEN_LIFETIME",
    "OPEN_ID_TOKEN_LIFETIME",
    "PUBLISH_GRACE",
    "SIGNING_ALGORITHM",
    "SIGNING_LEAD",
    "IssuerKeys",
    "SigningKey",
    "discovery_document",
    "load_issuer_keys",
    "mint_identity_token",
    "rotate_issuer_keys",
    "trusted_provider",
    "validate_identity_token",
]

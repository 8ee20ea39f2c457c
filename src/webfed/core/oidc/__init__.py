"""Web identity token validation: pure, with the clock and the keys passed in.

Typical use by the STS layer::

    unverified = peek_token(token)                       # cheap, capped, nothing trusted
    provider = ... IAM OIDC provider whose URL == unverified.issuer, else
        raise unknown_provider(unverified.issuer, fingerprint=unverified.fingerprint)
    key_set = await key_cache.keys_for(source, kid=unverified.kid)     # webfed.jwks
    token = validate_token(token, TrustedProvider(url, client_ids), key_set, now=now)
    context = web_identity_condition_keys(token)        # for the trust policy

The checks, their order and the errors are listed in ``docs/oidc.md``.
"""

from __future__ import annotations

from webfed.core.oidc.claims import CLOCK_SKEW_SECONDS
from webfed.core.oidc.context import (
    COGNITO_PROVIDER_KEY,
    GOOGLE_PROVIDER_KEY,
    issuer_matches,
    provider_key,
    web_identity_condition_keys,
)
from webfed.core.oidc.json_values import JsonObject, JsonValue
from webfed.core.oidc.keys import (
    ALLOWED_ALGORITHMS,
    MAX_KEYS_PER_SET,
    IssuerKey,
    IssuerKeySet,
    parse_key_set,
    select_key,
)
from webfed.core.oidc.result import ValidatedToken
from webfed.core.oidc.session_claims import SOURCE_IDENTITY_CLAIM, TAGS_CLAIM, SessionClaims
from webfed.core.oidc.token import MAX_TOKEN_CHARS, UnverifiedToken, peek_token, token_fingerprint
from webfed.core.oidc.validate import TrustedProvider, unknown_provider, validate_token

__all__ = [
    "ALLOWED_ALGORITHMS",
    "CLOCK_SKEW_SECONDS",
    "COGNITO_PROVIDER_KEY",
    "GOOGLE_PROVIDER_KEY",
    "MAX_KEYS_PER_SET",
    "MAX_TOKEN_CHARS",
    "SOURCE_IDENTITY_CLAIM",
    "TAGS_CLAIM",
    "IssuerKey",
    "IssuerKeySet",
    "JsonObject",
    "JsonValue",
    "SessionClaims",
    "TrustedProvider",
    "UnverifiedToken",
    "ValidatedToken",
    "issuer_matches",
    "parse_key_set",
    "peek_token",
    "provider_key",
    "select_key",
    "token_fingerprint",
    "unknown_provider",
    "validate_token",
    "web_identity_condition_keys",
]

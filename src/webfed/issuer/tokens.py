"""Minting webfed's own OpenID tokens, and validating them with the in-memory key set.

The token is the one Cognito Identity hands out (Amazon Cognito Developer Guide, "Role trust
and permissions"; API reference, ``GetOpenIdToken`` and ``GetOpenIdTokenForDeveloperIdentity``):
``iss`` is the issuer, ``aud`` the identity pool id, ``sub`` the identity id, ``amr`` either
``["unauthenticated"]`` or ``["authenticated", <provider>...]``, and ``iat``/``exp`` bound a
lifetime of 10 minutes (``GetOpenIdToken``), or 15 minutes by default and at most 24 hours
(developer identities' ``TokenDuration``). It is a JWS in compact form (RFC 7515 section 7.1)
signed with RS256; the header carries ``kid`` and, as Cognito's does, ``typ: JWS``.

Validation reuses :func:`webfed.core.oidc.validate_token` with the process's own keys, so a
token webfed minted is checked exactly like one from any other provider, with no HTTP fetch of
webfed's own JWK Set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from joserfc import jws

from webfed.core.oidc import (
    CLOCK_SKEW_SECONDS,
    JsonValue,
    TrustedProvider,
    UnverifiedToken,
    ValidatedToken,
    validate_token,
)
from webfed.issuer.keys import MAX_TOKEN_LIFETIME, SIGNING_ALGORITHM, IssuerKeys, SigningKey

__all__ = [
    "DEVELOPER_TOKEN_LIFETIME",
    "OPEN_ID_TOKEN_LIFETIME",
    "RESERVED_CLAIMS",
    "mint_identity_token",
    "trusted_provider",
    "validate_identity_token",
]

OPEN_ID_TOKEN_LIFETIME = timedelta(minutes=10)
DEVELOPER_TOKEN_LIFETIME = timedelta(minutes=15)
#: Claims the minting function sets itself; ``extra_claims`` may not name them.
RESERVED_CLAIMS = frozenset({"iss", "sub", "aud", "amr", "iat", "exp", "nbf", "jti", "azp"})
_UNAUTHENTICATED = "unauthenticated"
_AUTHENTICATED = "authenticated"


def _check_lifetime(lifetime: timedelta) -> int:
    seconds = lifetime.total_seconds()
    if seconds != int(seconds) or not 1 <= seconds <= MAX_TOKEN_LIFETIME.total_seconds():
        raise ValueError("a token lifetime is a whole number of seconds from 1 s to 24 h")
    return int(seconds)


def _check_amr(amr: Sequence[str]) -> list[str]:
    """``["unauthenticated"]`` alone, or ``"authenticated"`` first and then providers."""
    if list(amr) == [_UNAUTHENTICATED]:
        return [_UNAUTHENTICATED]
    if not amr or amr[0] != _AUTHENTICATED or _UNAUTHENTICATED in amr:
        raise ValueError('amr is ["unauthenticated"] or ["authenticated", <provider>...]')
    if any(not isinstance(item, str) or not item for item in amr):
        raise ValueError("amr entries are non-empty strings")
    return list(amr)


def _claims(
    issuer: str,
    pool_id: str,
    identity_id: str,
    amr: list[str],
    issued_at: int,
    lifetime: int,
    extra_claims: Mapping[str, JsonValue],
) -> dict[str, object]:
    reserved = sorted(RESERVED_CLAIMS & set(extra_claims))
    if reserved:
        raise ValueError(f"extra claims may not set {reserved}")
    if not issuer or not pool_id or not identity_id:
        raise ValueError("issuer, pool id and identity id are required")
    return {
        "iss": issuer,
        "sub": identity_id,
        "aud": pool_id,
        "amr": amr,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        **extra_claims,
    }


def mint_identity_token(
    *,
    issuer: str,
    pool_id: str,
    identity_id: str,
    amr: Sequence[str],
    lifetime: timedelta,
    now: datetime,
    key: SigningKey,
    extra_claims: Mapping[str, JsonValue] | None = None,
) -> str:
    """A signed OpenID token for ``identity_id`` of pool ``pool_id``, valid ``lifetime`` from
    ``now``; ``key`` is :meth:`IssuerKeys.signing_key` at ``now``. Raises ``ValueError`` for a
    lifetime outside 1 s..24 h, a malformed ``amr`` or an extra claim that names a reserved one.
    """
    claims = _claims(
        issuer,
        pool_id,
        identity_id,
        _check_amr(amr),
        int(now.timestamp()),
        _check_lifetime(lifetime),
        extra_claims or {},
    )
    header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "JWS"}
    payload = _json_bytes(claims)
    return jws.serialize_compact(header, payload, key.private, algorithms=[SIGNING_ALGORITHM])


def _json_bytes(claims: Mapping[str, object]) -> bytes:
    return json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def trusted_provider(issuer: str, pool_ids: Iterable[str]) -> TrustedProvider:
    """The provider view of webfed's issuer: its URL, and the pools whose ids are audiences."""
    return TrustedProvider(url=issuer, client_ids=tuple(pool_ids))


def validate_identity_token(
    token: str | UnverifiedToken,
    keys: IssuerKeys,
    *,
    issuer: str,
    pool_ids: Iterable[str],
    now: int,
    clock_skew: int = CLOCK_SKEW_SECONDS,
) -> ValidatedToken:
    """Verify and validate a token webfed minted, with the process's published keys; raises
    ``InvalidIdentityToken`` / ``ExpiredTokenException`` as for any provider's token."""
    return validate_token(
        token, trusted_provider(issuer, pool_ids), keys.key_set, now=now, clock_skew=clock_skew
    )

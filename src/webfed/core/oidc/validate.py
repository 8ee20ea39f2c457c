"""Validate a web identity token against one IAM OIDC provider and that provider's keys.

The order is the one of OpenID Connect Core 1.0 section 3.1.3.7 and RFC 7519 section 7.2,
shaped by STS's own rules (STS API reference, ``AssumeRoleWithWebIdentity``):

1. structure and size (:func:`~webfed.core.oidc.token.peek_token`);
2. issuer: ``iss`` equals the provider URL exactly;
3. header: ``alg`` on the allow-list, no ``crit`` or ``b64`` (no extension is understood);
   ``jku``, ``x5u``, ``jwk`` and ``x5c`` are ignored: keys come only from the provider's set;
4. key: chosen by ``kid`` within this provider's key set only;
5. signature, verified by joserfc with an explicit one-algorithm allow-list;
6. claims: times, audience and ``azp``, subject, ``amr``, session tags, source identity.

This module is pure: the clock (``now``) and the keys are passed in. Authorization (the role's
trust policy) is the caller's next step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry

from webfed.core.oidc.claims import (
    CLOCK_SKEW_SECONDS,
    check_audience,
    check_times,
    read_amr,
    read_subject,
)
from webfed.core.oidc.keys import ALLOWED_ALGORITHMS, IssuerKey, IssuerKeySet, select_key
from webfed.core.oidc.result import ValidatedToken
from webfed.core.oidc.session_claims import read_session_claims
from webfed.core.oidc.token import MAX_HEADER_CHARS, MAX_TOKEN_CHARS, UnverifiedToken, peek_token
from webfed.errors import InvalidIdentityToken

__all__ = ["TrustedProvider", "unknown_provider", "validate_token"]

_REFUSED_HEADERS = frozenset({"crit", "b64"})


@dataclass(frozen=True, slots=True)
class TrustedProvider:
    """What the validator needs of an IAM OIDC provider: its URL and registered client ids."""

    url: str
    client_ids: tuple[str, ...]


def unknown_provider(issuer: str, *, fingerprint: str) -> InvalidIdentityToken:
    """The error when no IAM OIDC provider's URL equals the token's ``iss`` (AWS's wording)."""
    return InvalidIdentityToken(
        f"No OpenIDConnect provider found in your account for {issuer[:2048]}",
        explanation={"check": "issuer", "seen": issuer, "token_fingerprint": fingerprint},
    )


def _check_header(unverified: UnverifiedToken) -> None:
    fingerprint = unverified.fingerprint
    if unverified.algorithm not in ALLOWED_ALGORITHMS:
        raise InvalidIdentityToken(
            "The token is signed with an algorithm that is not accepted.",
            explanation={
                "check": "algorithm",
                "seen": unverified.algorithm,
                "allowed": sorted(ALLOWED_ALGORITHMS),
                "token_fingerprint": fingerprint,
            },
        )
    if not _REFUSED_HEADERS.isdisjoint(unverified.header):
        refused = sorted(_REFUSED_HEADERS.intersection(unverified.header))
        raise InvalidIdentityToken(
            "The token's header uses an extension that is not supported.",
            explanation={"check": "header", "seen": refused, "token_fingerprint": fingerprint},
        )


@lru_cache(maxsize=len(ALLOWED_ALGORITHMS))
def _registry(algorithm: str) -> JWSRegistry:
    """A joserfc registry allowing exactly ``algorithm`` (configuration only, so one per
    algorithm is made once and shared)."""
    registry = JWSRegistry(algorithms=[algorithm], strict_check_header=False)
    registry.max_header_length = MAX_HEADER_CHARS
    registry.max_payload_length = MAX_TOKEN_CHARS
    return registry


@lru_cache(maxsize=256)
def _check_registry_header(algorithm: str, header_json: bytes) -> None:
    """joserfc's checks of a protected header (``crit``, the registered members' types).

    A pure function of the header's bytes, and an issuer signs every token with the same
    header, so a header that passed is remembered (a failure raises and is not)."""
    _registry(algorithm).check_header(json.loads(header_json))


def _signature_error(key: IssuerKey, reason: str, fingerprint: str) -> InvalidIdentityToken:
    return InvalidIdentityToken(
        "The token's signature could not be verified.",
        explanation={
            "check": "signature",
            "kid": key.kid,
            "key_thumbprint": key.thumbprint,
            "reason": reason,
            "token_fingerprint": fingerprint,
        },
    )


def verify_signature(token: str, key: IssuerKey, algorithm: str, *, fingerprint: str) -> None:
    """Verify with joserfc, allowing exactly ``algorithm``; return ``None`` or raise."""
    try:
        jws.deserialize_compact(token, key.key, registry=_registry(algorithm))
    except (JoseError, ValueError, TypeError) as exc:
        raise _signature_error(key, type(exc).__name__, fingerprint) from None


def verify_peeked_signature(unverified: UnverifiedToken, key: IssuerKey) -> None:
    """:func:`verify_signature` for a token :func:`peek_token` has already read.

    The steps of joserfc's compact deserialization (RFC 7515 section 5.2) on the segments
    :func:`peek_token` already split and decoded, rather than on a second parse of the text:
    the registry's size caps and header checks, the one allowed algorithm, its key check, and
    the algorithm's verification of ``header.payload`` against the signature."""
    registry = _registry(unverified.algorithm)
    header_segment, payload_segment, signature_segment = unverified.segments
    try:
        registry.validate_header_size(header_segment.encode("ascii"))
        registry.validate_signature_size(signature_segment.encode("ascii"))
        registry.validate_payload_size(payload_segment.encode("ascii"))
        _check_registry_header(unverified.algorithm, unverified.header_json)
        algorithm = registry.get_alg(unverified.algorithm)
        algorithm.check_key(key.key)
        verified = algorithm.verify(unverified.signing_input, unverified.signature, key.key)
    except (JoseError, ValueError, TypeError) as exc:
        raise _signature_error(key, type(exc).__name__, unverified.fingerprint) from None
    if not verified:
        raise _signature_error(key, "BadSignatureError", unverified.fingerprint)


def validate_token(
    token: str | UnverifiedToken,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
    *,
    now: int,
    clock_skew: int = CLOCK_SKEW_SECONDS,
) -> ValidatedToken:
    """Verify ``token``'s signature with ``key_set``, then validate its claims at ``now``
    (seconds since the epoch) for ``provider``; return the validated token or raise
    ``InvalidIdentityToken`` / ``ExpiredTokenException`` with an ``explanation``.

    ``token`` is the token's text, or what :func:`peek_token` made of it (the caller that
    peeked to find the provider passes that on, so the token is read once); the signature is
    verified either way, at every call."""
    unverified = token if isinstance(token, UnverifiedToken) else peek_token(token)
    fingerprint = unverified.fingerprint
    if unverified.issuer != provider.url:
        raise unknown_provider(unverified.issuer, fingerprint=fingerprint)
    _check_header(unverified)
    key = select_key(key_set, unverified.kid, unverified.algorithm, fingerprint=fingerprint)
    verify_peeked_signature(unverified, key)
    # The signature covers the very header and payload segments peek_token decoded, so its
    # claims are now the verified claims.
    claims = unverified.claims
    times = check_times(claims, now=now, skew=clock_skew, fingerprint=fingerprint)
    audience = check_audience(claims, provider.client_ids, fingerprint=fingerprint)
    return ValidatedToken(
        issuer=provider.url,
        subject=read_subject(claims, fingerprint=fingerprint),
        audience=audience.audience,
        audiences=audience.audiences,
        authorized_party=audience.authorized_party,
        amr=read_amr(claims, fingerprint=fingerprint),
        issued_at=times.issued_at,
        expires_at=times.expires_at,
        not_before=times.not_before,
        claims=claims,
        session=read_session_claims(claims, fingerprint=fingerprint),
        key_id=key.kid,
        algorithm=unverified.algorithm,
        fingerprint=fingerprint,
    )

"""Registered-claim checks of a verified ID token: times, audience, authorized party, subject.

Times follow RFC 7519 sections 4.1.4-4.1.6 with one allowance for clock skew, AWS's five
minutes (IAM User Guide, "Create an OpenID Connect (OIDC) identity provider": JWTs received
within five minutes after ``exp`` are accepted); the same allowance is applied to ``nbf`` and
``iat``. Timestamps must be JSON integers (STS API reference: "must be integer or long").
The audience rule follows OpenID Connect Core 1.0 section 3.1.3.7 items 3-5; it is written out
in ``docs/oidc.md``. Every rejection names the failed check in ``explanation``.
"""

from __future__ import annotations

from dataclasses import dataclass

from webfed.core.oidc.json_values import JsonObject, JsonValue
from webfed.errors import ExpiredTokenException, InvalidIdentityToken

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "MAX_AUDIENCES",
    "MAX_SUBJECT_CHARS",
    "AudienceMatch",
    "TokenTimes",
    "check_audience",
    "check_times",
    "read_amr",
    "read_subject",
]

CLOCK_SKEW_SECONDS = 300
MAX_SUBJECT_CHARS = 255
MAX_AUDIENCES = 100
#: Largest timestamp accepted: 9999-12-31T23:59:59Z.
MAX_TIMESTAMP = 253_402_300_799


def _rejected(message: str, check: str, fingerprint: str, **seen: object) -> InvalidIdentityToken:
    return InvalidIdentityToken(
        message, explanation={"check": check, **seen, "token_fingerprint": fingerprint}
    )


@dataclass(frozen=True, slots=True)
class TokenTimes:
    expires_at: int
    issued_at: int | None
    not_before: int | None


def _timestamp(claims: JsonObject, name: str, fingerprint: str) -> int | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
        raise _rejected(
            f"The {name} claim must be an integer number of seconds since the epoch.",
            "timestamp_type",
            fingerprint,
            claim=name,
            seen_type=type(value).__name__,
        )
    return value


def _check_expiry(expires_at: int | None, now: int, skew: int, fingerprint: str) -> int:
    if expires_at is None:
        raise _rejected("The token has no expiration (exp) claim.", "missing_exp", fingerprint)
    if now >= expires_at + skew:
        raise ExpiredTokenException(
            "Token expired: the current time is past the expiration time plus the clock skew.",
            explanation={
                "check": "expired",
                "exp": expires_at,
                "now": now,
                "skew": skew,
                "token_fingerprint": fingerprint,
            },
        )
    return expires_at


def _check_not_later_than(
    name: str, value: int | None, now: int, skew: int, fingerprint: str
) -> None:
    if value is None or value <= now + skew:
        return
    if name == "nbf":
        message, check = "The token is not valid yet (nbf).", "not_yet_valid"
    else:
        message, check = "The token was issued in the future (iat).", "issued_in_future"
    raise _rejected(message, check, fingerprint, **{name: value}, now=now, skew=skew)


def check_times(claims: JsonObject, *, now: int, skew: int, fingerprint: str) -> TokenTimes:
    """``exp`` required; the token is expired once ``now >= exp + skew``; ``nbf`` (optional)
    must satisfy ``nbf <= now + skew``; ``iat`` (optional) must satisfy ``iat <= now + skew``."""
    expires_at = _timestamp(claims, "exp", fingerprint)
    issued_at = _timestamp(claims, "iat", fingerprint)
    not_before = _timestamp(claims, "nbf", fingerprint)
    expires_at = _check_expiry(expires_at, now, skew, fingerprint)
    _check_not_later_than("nbf", not_before, now, skew, fingerprint)
    _check_not_later_than("iat", issued_at, now, skew, fingerprint)
    return TokenTimes(expires_at, issued_at, not_before)


@dataclass(frozen=True, slots=True)
class AudienceMatch:
    """``audience`` is the registered client id the token was accepted for."""

    audience: str
    audiences: tuple[str, ...]
    authorized_party: str | None


def _audiences(value: JsonValue, fingerprint: str) -> tuple[str, ...]:
    if type(value) is str and value:  # one audience, the usual case
        return (value,)
    items = (value,) if isinstance(value, str) else value
    if (
        not isinstance(items, tuple)
        or not 0 < len(items) <= MAX_AUDIENCES
        or not all(isinstance(item, str) and item for item in items)
    ):
        raise _rejected("Incorrect token audience", "audience", fingerprint, reason="aud malformed")
    return tuple(str(item) for item in items)


def _authorized_party(claims: JsonObject, fingerprint: str) -> str | None:
    value = claims.get("azp")
    if value is None and "azp" not in claims:
        return None
    if not isinstance(value, str) or not value:
        raise _rejected("Incorrect token audience", "audience", fingerprint, reason="azp malformed")
    return value


def check_audience(
    claims: JsonObject, client_ids: tuple[str, ...], *, fingerprint: str
) -> AudienceMatch:
    """One audience: it must be a registered client id (``azp``, if any, is only reported).
    Several audiences: ``azp`` must be present, be one of them and be a registered client id.
    """
    audiences = _audiences(claims.get("aud"), fingerprint)
    azp = _authorized_party(claims, fingerprint)
    # Membership is tested on the tuple itself: a provider has a few client ids (at most 100),
    # so no set is built per token.
    if len(audiences) == 1:
        matched = audiences[0] if audiences[0] in client_ids else None
    else:
        matched = azp if azp is not None and azp in audiences and azp in client_ids else None
    if matched is None:
        raise _rejected(
            "Incorrect token audience",
            "audience",
            fingerprint,
            aud=list(audiences),
            azp=azp,
            client_ids=sorted(set(client_ids)),
        )
    return AudienceMatch(matched, audiences, azp)


def read_subject(claims: JsonObject, *, fingerprint: str) -> str:
    """``sub`` must be a non-empty string of at most 255 characters (the STS response limit)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_CHARS:
        raise _rejected(
            "The token's subject (sub) claim is missing or invalid.",
            "subject",
            fingerprint,
            seen_type=type(subject).__name__,
            seen_length=len(subject) if isinstance(subject, str) else None,
        )
    return subject


def read_amr(claims: JsonObject, *, fingerprint: str) -> tuple[str, ...]:
    """``amr`` (OpenID Connect Core 2): absent, a string, or an array of strings."""
    value = claims.get("amr")
    if value is None and "amr" not in claims:
        return ()
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, tuple) or not all(isinstance(item, str) for item in items):
        raise _rejected("The token's amr claim is malformed.", "amr", fingerprint)
    return tuple(str(item) for item in items)

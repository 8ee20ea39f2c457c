"""Web-identity condition keys built from a validated token, for the trust-policy evaluation.

IAM User Guide, "Available keys for IAM and AWS STS" and "AWS global condition context keys":
an OIDC provider's keys are named ``<provider>:<claim>`` where ``<provider>`` is the issuer URL
without ``https://``; ``:aud``, ``:sub``, ``:amr`` (multivalued) and ``:azp`` are documented.
For Google, ``accounts.google.com:aud`` is ``azp`` when present and ``aud`` otherwise, and
``accounts.google.com:oaud`` is always ``aud``. Beyond AWS, webfed exposes every other
top-level claim the same way: strings as they are, other scalars as their JSON text, arrays as
multivalued keys (nested objects are skipped, inside arrays too).
"""

from __future__ import annotations

import json
from functools import lru_cache

from webfed.core.oidc.json_values import JsonValue
from webfed.core.oidc.result import ValidatedToken

__all__ = [
    "COGNITO_PROVIDER_KEY",
    "GOOGLE_PROVIDER_KEY",
    "issuer_matches",
    "provider_key",
    "web_identity_condition_keys",
]

GOOGLE_PROVIDER_KEY = "accounts.google.com"
#: The name policies use for identity-pool tokens (AWS's Cognito; webfed's own issuer).
COGNITO_PROVIDER_KEY = "cognito-identity.amazonaws.com"
# Names AWS gives a meaning to after the exchange (``id``, Amazon/Facebook ``app_id``/``user_id``):
# never taken from a raw claim, so a claim cannot impersonate them.
_RESERVED_CLAIMS = ("aud", "sub", "amr", "azp", "oaud", "id", "app_id", "user_id")


def issuer_matches(issuer: str, provider_url: str) -> bool:
    """Whether a token whose ``iss`` is ``issuer`` comes from the provider at ``provider_url``.

    Exactly equal, with one exception: Google's ID tokens say ``https://accounts.google.com``
    or, from some of its flows, the bare ``accounts.google.com`` (Google's OpenID Connect
    documentation), and AWS trusts both; no other issuer may drop its scheme."""
    return issuer == provider_url or (
        issuer == GOOGLE_PROVIDER_KEY and provider_url == f"https://{GOOGLE_PROVIDER_KEY}"
    )


@lru_cache(maxsize=256)  # a few issuers, asked for on every token
def provider_key(issuer_url: str) -> str:
    """The condition-key prefix of an issuer: its URL without the scheme or a trailing slash."""
    for scheme in ("https://", "http://"):
        if issuer_url.startswith(scheme):
            issuer_url = issuer_url[len(scheme) :]
            break
    return issuer_url.rstrip("/")


def _scalar_text(value: JsonValue) -> str | None:
    """The text of a scalar; ``None`` for an object or an array."""
    if isinstance(value, str):
        return value
    if type(value) is int:  # exp, iat, auth_time...: JSON spells an integer as str() does
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _claim_value(value: JsonValue) -> str | list[str] | None:
    """An array's scalars as a list, a scalar's text, ``None`` for an object (skipped).

    Objects are left to :func:`_scalar_text` rather than tested first: a ``Mapping`` check is
    an abstract-base-class check, several times the cost of the plain type checks that answer
    the usual claims (strings and integers)."""
    if isinstance(value, tuple):
        return [text for item in value if (text := _scalar_text(item)) is not None]
    return _scalar_text(value)


@lru_cache(maxsize=256)  # a few prefixes, asked for on every token
def _reserved_keys(prefix: str) -> frozenset[str]:
    """The lowercased keys no raw claim may provide under ``prefix``: the documented keys
    (``aud``, ``sub``, ``amr``, ``azp``, Google's ``oaud``) and the names AWS reserves."""
    return frozenset(f"{prefix}:{name}".lower() for name in _RESERVED_CLAIMS)


def _standard_keys(token: ValidatedToken, prefix: str) -> dict[str, str | list[str]]:
    keys: dict[str, str | list[str]] = {
        f"{prefix}:aud": token.audience,
        f"{prefix}:sub": token.subject,
        f"{prefix}:amr": list(token.amr),
    }
    if token.authorized_party is not None:
        keys[f"{prefix}:azp"] = token.authorized_party
    if prefix == GOOGLE_PROVIDER_KEY:
        keys[f"{prefix}:aud"] = token.authorized_party or token.audience
        original = token.audiences
        keys[f"{prefix}:oaud"] = original[0] if len(original) == 1 else list(original)
    return keys


def web_identity_condition_keys(
    token: ValidatedToken, provider: str | None = None
) -> dict[str, str | list[str]]:
    """Every condition key the token provides, named ``<provider>:<claim>``.

    ``provider`` defaults to :func:`provider_key` of the token's issuer. Condition key names are
    case-insensitive (IAM), so claims are compared by their lowercased names: the documented keys
    (``aud`` = the matched client id, ``sub``, ``amr`` as a list, ``azp``, Google's ``oaud``)
    always win over a raw claim spelled like them in any case (a token carrying ``"SUB"`` cannot
    pose as another subject), and raw claims whose names differ only in case are both dropped,
    as their meaning is ambiguous. Keys are returned with lowercased claim names.
    """
    prefix = provider if provider is not None else provider_key(token.issuer)
    standard = _standard_keys(token, prefix)
    reserved = _reserved_keys(prefix)  # holds every key of ``standard``, lowercased
    keys: dict[str, str | list[str]] = {}
    ambiguous: set[str] = set()
    for name, value in token.claims.items():
        key = f"{prefix}:{name}".lower()
        if key in reserved:
            continue
        converted = _claim_value(value)
        if converted is None:
            continue
        if key in keys:
            ambiguous.add(key)
        keys[key] = converted
    for key in ambiguous:
        del keys[key]
    keys.update(standard)
    return keys

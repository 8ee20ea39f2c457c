"""Who signs in, and the claims of their ID token (OpenID Connect Core 1.0 sections 2 and 5.1).

The user types a name; ``sub`` is that name, so the same name always gives the same subject.
As OpenID Connect Core 1.0 section 5.4 asks, the standard claims follow the granted scope: with
``profile``, ``preferred_username`` and ``name`` (the name); with ``email``, ``email``
(``<name>@dev.invalid``: ``.invalid`` is a reserved top-level domain, RFC 2606 section 2, so it
can never reach a real mailbox). Extra claims come from the ``dev_idp_claims`` setting and
from the sign-in page, the page's winning; neither may set the claims the provider itself
vouches for (:data:`RESERVED_CLAIMS`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from datetime import timedelta

from joserfc import jwt

from webfed.issuer import SIGNING_ALGORITHM, SigningKey

__all__ = [
    "ID_TOKEN_LIFETIME",
    "MAX_CLAIMS_BYTES",
    "MAX_CLAIMS_DEPTH",
    "RESERVED_CLAIMS",
    "Claims",
    "check_username",
    "id_token_claims",
    "parse_extra_claims",
    "sign_id_token",
    "user_claims",
]

Claims = dict[str, object]
ID_TOKEN_LIFETIME = timedelta(hours=1)
MAX_CLAIMS_BYTES = 4096
#: Levels of objects and arrays, the claims object being the first. Real claims nest two or
#: three deep; far deeper ones (json reads 900) overflow the stack when the code is sealed.
MAX_CLAIMS_DEPTH = 16
RESERVED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "auth_time"})
EMAIL_DOMAIN = "dev.invalid"
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_username(text: str) -> str:
    """A user name: 1 to 64 letters, digits, ``.``, ``_`` or ``-`` (it becomes ``sub`` and
    the local part of an e-mail address, so nothing that needs quoting in either)."""
    name = text.strip()
    if not _USERNAME.fullmatch(name):
        raise ValueError("a user name is 1 to 64 letters, digits, '.', '_' or '-'")
    return name


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_number(text: str) -> float:
    """JSON has no infinity (RFC 8259 section 6): ``1e400`` would become ``Infinity``, which
    no JSON parser reading the ID token accepts."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _depth(value: object) -> int:
    """How many levels of objects and arrays ``value`` has, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"claim {key!r} is given twice")
        result[key] = value
    return result


def parse_extra_claims(text: str, *, source: str = "claims") -> Claims:
    """A JSON object of extra claims (empty text: none); raises ``ValueError`` for anything
    else, a repeated or reserved name, more than :data:`MAX_CLAIMS_BYTES` bytes, or more than
    :data:`MAX_CLAIMS_DEPTH` levels."""
    if not text.strip():
        return {}
    if len(text.encode("utf-8")) > MAX_CLAIMS_BYTES:
        raise ValueError(f"{source} may be at most {MAX_CLAIMS_BYTES} bytes of JSON")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constants,
            parse_float=_finite_number,
        )
    except RecursionError:
        raise ValueError(f"{source} is nested too deeply") from None
    except ValueError as error:
        raise ValueError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{source} must be a JSON object")
    if _depth(value) > MAX_CLAIMS_DEPTH:
        raise ValueError(f"{source} is nested too deeply (at most {MAX_CLAIMS_DEPTH} levels)")
    reserved = sorted(RESERVED_CLAIMS & set(value))
    if reserved:
        raise ValueError(f"{source} may not set {', '.join(reserved)}")
    return value


def user_claims(username: str, scope: Collection[str], *layers: Mapping[str, object]) -> Claims:
    """The claims about the user (no ``sub``): the standard claims ``scope`` grants, then each
    layer over them (extra claims are the administrator's or the tester's, whatever the scope)."""
    claims: Claims = {}
    if "profile" in scope:
        claims["preferred_username"] = username
        claims["name"] = username
    if "email" in scope:
        claims["email"] = f"{username}@{EMAIL_DOMAIN}"
    for layer in layers:
        claims.update(layer)
    return claims


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    nonce: str | None,
    auth_time: int,
    now: int,
    claims: Mapping[str, object],
) -> Claims:
    """The ID token's claims (OpenID Connect Core 1.0 section 2), valid :data:`ID_TOKEN_LIFETIME`
    from ``now``; ``claims`` are :func:`user_claims`."""
    token: Claims = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "iat": now,
        "exp": now + int(ID_TOKEN_LIFETIME.total_seconds()),
        "auth_time": auth_time,
    }
    if nonce is not None:
        token["nonce"] = nonce
    return {**claims, **token}


def sign_id_token(claims: Mapping[str, object], key: SigningKey) -> str:
    """A compact JWS (RFC 7515 section 7.1), RS256, the ``kid`` in its header."""
    header = {"alg": SIGNING_ALGORITHM, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, dict(claims), key.private, algorithms=[SIGNING_ALGORITHM])

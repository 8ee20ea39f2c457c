"""Static key sets: an offline or air-gapped issuer's JWK Set, given by the administrator.

An IAM OpenID Connect provider may carry its issuer's public keys (RFC 7517 section 5, a JWK
Set) instead of having them discovered and fetched. :func:`check_static_key_set` is the gate a
set passes before it is stored (the declarative file is checked with it when planned, and the
operation that stores it checks again), so a set that reaches the key cache always parses.
Stricter than a fetched set, whose unusable keys are merely skipped: here every key must be
usable, since the administrator can fix the file and a silently dropped key would only show up
as refused tokens. Private keys are refused (their members are named, never their values).

:func:`static_keys_of_providers` is how the key cache learns, per issuer, whether the IAM
provider of that issuer has such a set: through the IAM cache, so a change reaches every node
with the IAM revision.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from webfed.core.oidc.context import provider_key
from webfed.core.oidc.keys import ALLOWED_ALGORITHMS, MAX_KEYS_PER_SET, parse_key_set
from webfed.errors import WebfedError

if TYPE_CHECKING:
    from webfed.core.entities import OidcProvider

__all__ = [
    "MAX_STATIC_KEY_SET_BYTES",
    "ProviderLookup",
    "StaticKeyLookup",
    "StaticKeySetError",
    "check_static_key_set",
    "describe_keys",
    "static_keys_of_providers",
]

#: The fetch cap (``JwksSettings.max_document_bytes``) applies to a stored set too.
MAX_STATIC_KEY_SET_BYTES = 512 * 1024
#: JWK members that only a private (or symmetric) key has: RFC 7518 sections 6.2.2, 6.3.2, 6.4.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KEY_TYPES = ("RSA", "EC")

StaticKeyLookup = Callable[[str], Awaitable[str | None]]


class StaticKeySetError(ValueError):
    """Why a static key set cannot be used; the message never holds key material."""


class ProviderLookup(Protocol):
    async def provider(self, resource: str) -> OidcProvider | None: ...


def check_static_key_set(document: object, *, max_keys: int = MAX_KEYS_PER_SET) -> str:
    """The set as canonical JSON text (sorted keys, no whitespace), ready to store.

    Raises :class:`StaticKeySetError` naming what is wrong: not a JWK Set, no keys, too many,
    a private key, an unsupported ``kty``/``alg``/``use``, a missing or repeated ``kid`` when
    there are several keys, or a key the verifier cannot import.
    """
    members = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(members, list):
        raise StaticKeySetError('not a JWK Set: expected an object {"keys": [...]}')
    if not members:
        raise StaticKeySetError("the key set has no keys")
    if len(members) > max_keys:
        raise StaticKeySetError(f"{len(members)} keys, at most {max_keys} accepted")
    for index, member in enumerate(members):
        _check_member(member, index)
    _check_kids(members)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if len(text) > MAX_STATIC_KEY_SET_BYTES:
        raise StaticKeySetError(f"larger than {MAX_STATIC_KEY_SET_BYTES} bytes")
    _check_usable(document)
    return text


def _label(member: Mapping[str, object], index: int) -> str:
    kid = member.get("kid")
    return f"key {index + 1} (kid {kid[:64]!r})" if isinstance(kid, str) else f"key {index + 1}"


def _check_member(member: object, index: int) -> None:
    if not isinstance(member, Mapping):
        raise StaticKeySetError(f"key {index + 1} is not a JSON object")
    label = _label(member, index)
    private = sorted(PRIVATE_MEMBERS & member.keys())
    if private:
        raise StaticKeySetError(
            f"{label} is a private or secret key (it has {', '.join(private)}); "
            "give only the public key"
        )
    kty = member.get("kty")
    if kty not in _KEY_TYPES:
        shown = repr(kty)[:32]
        raise StaticKeySetError(f"{label} has key type {shown}; supported: RSA, EC")
    algorithm = member.get("alg")
    if algorithm is not None and algorithm not in ALLOWED_ALGORITHMS:
        allowed = ", ".join(sorted(ALLOWED_ALGORITHMS))
        raise StaticKeySetError(f"{label} has alg {repr(algorithm)[:32]}; supported: {allowed}")
    if member.get("use") not in (None, "sig"):
        raise StaticKeySetError(f"{label} has use {repr(member.get('use'))[:32]}, not 'sig'")


def _check_kids(members: list[object]) -> None:
    """Tokens choose a key by ``kid``; with several keys, each needs its own."""
    if len(members) == 1:
        return
    seen: set[str] = set()
    for index, member in enumerate(members):
        assert isinstance(member, Mapping)
        kid = member.get("kid")
        if not isinstance(kid, str) or not kid:
            raise StaticKeySetError(f"key {index + 1} has no kid; with several keys each needs one")
        if kid in seen:
            raise StaticKeySetError(f"kid {kid[:64]!r} is used by more than one key")
        seen.add(kid)


def _check_usable(document: object) -> None:
    """Every key must import as the verifier imports it (RSA size, EC curve, key_ops)."""
    try:
        parsed = parse_key_set(document)
    except WebfedError as error:
        raise StaticKeySetError(str(error)) from None
    for key, reason in sorted(parsed.skipped.items()):
        label = f"key {int(key[1:]) + 1}" if key.startswith("#") else f"kid {key[:64]!r}"
        raise StaticKeySetError(f"{label} cannot be used: {reason[:200]}")


def describe_keys(text: str) -> list[str]:
    """One line per key of a stored set: kid, type, algorithm and RFC 7638 thumbprint."""
    parsed = parse_key_set(json.loads(text))
    return [
        f"kid={key.kid or '-'} kty={key.key.key_type} alg={key.algorithm or '-'} "
        f"thumbprint={key.thumbprint}"
        for key in parsed.keys
    ]


def static_keys_of_providers(providers: ProviderLookup) -> StaticKeyLookup:
    """The static key set of the IAM provider whose URL is the issuer, if it has one."""

    async def static_keys(issuer: str) -> str | None:
        provider = await providers.provider(provider_key(issuer))
        if provider is None or provider.url != issuer:
            return None
        return provider.static_jwks

    return static_keys

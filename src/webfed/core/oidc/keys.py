"""An issuer's signing keys, parsed from its JWK Set, and the choice of one key for a token.

A JWK Set is RFC 7517 section 5; each key's members are RFC 7517 section 4 and RFC 7518
section 6. Only keys that can verify one of the allowed algorithms are kept: RSA keys of at
least 2048 bits (RFC 7518 section 3.3 requires 2048 for RS*, section 3.5 for PS*) and EC keys on
P-256, P-384 or P-521 (section 3.4), with ``use`` "sig" or absent and, when ``key_ops`` is
given, "verify" among them. Private members are dropped on import: webfed only ever holds the
public half. A key is chosen by ``kid`` within this one issuer's set only; a token without
``kid`` is accepted only when exactly one key fits its algorithm (see :func:`select_key`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey, import_key

from webfed.errors import IDPCommunicationError, InvalidIdentityToken

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MAX_KEYS_PER_SET",
    "IssuerKey",
    "IssuerKeySet",
    "parse_key_set",
    "select_key",
]

#: RS/PS/ES only (STS API reference lists RS256/384/512 and ES256/384/512; PS* are the same
#: RSA keys with the safer padding). Never ``none``, never HMAC (a public key is no secret),
#: never EdDSA (STS does not accept it and RFC 9864 deprecates the polymorphic name).
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
MAX_KEYS_PER_SET = 100
MIN_RSA_BITS = 2048
_CURVE_OF_ALGORITHM = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_PUBLIC_MEMBERS = {"RSA": ("kty", "n", "e"), "EC": ("kty", "crv", "x", "y")}


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One public verification key of an issuer.

    ``algorithm`` is the JWK's own ``alg`` when it declares one (the token must then use it);
    ``thumbprint`` is the RFC 7638 SHA-256 thumbprint, for logs and explanations.
    """

    kid: str | None
    algorithm: str | None
    key: RSAKey | ECKey
    thumbprint: str

    def fits(self, algorithm: str) -> bool:
        """Whether this key may verify a signature made with ``algorithm``."""
        if self.algorithm is not None and self.algorithm != algorithm:
            return False
        if isinstance(self.key, RSAKey):
            return algorithm[:2] in {"RS", "PS"}
        return _CURVE_OF_ALGORITHM.get(algorithm) == self.key.curve_name


@dataclass(frozen=True, slots=True)
class IssuerKeySet:
    """The usable keys of one issuer, and why the others were skipped (kid or index → reason)."""

    keys: tuple[IssuerKey, ...]
    skipped: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The ``kid`` of every key (computed once: every token's key lookup asks for it).
    kids: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kids = frozenset(key.kid for key in self.keys if key.kid is not None)
        object.__setattr__(self, "kids", kids)


def _unusable_reason(member: Mapping[str, object]) -> str | None:
    kty = member.get("kty")
    if kty not in _PUBLIC_MEMBERS:
        return f"key type {kty!r} cannot verify an allowed algorithm"
    if member.get("use") not in (None, "sig"):
        return "use is not sig"
    key_ops = member.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return "key_ops does not include verify"
    algorithm = member.get("alg")
    if algorithm is not None and algorithm not in ALLOWED_ALGORITHMS:
        return f"alg {algorithm!r} is not allowed"
    kid = member.get("kid")
    if kid is not None and not (isinstance(kid, str) and 0 < len(kid) <= 256):
        return "kid is not a string of 1..256 characters"
    return None


def _rsa_modulus_bits(member: Mapping[str, object]) -> int:
    """Size of ``n`` before import (joserfc warns on small keys; we refuse them quietly)."""
    modulus = member.get("n")
    if not isinstance(modulus, str):
        raise ValueError("RSA key without n")
    decoded = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    return int.from_bytes(decoded, "big").bit_length()


def _import_public(member: Mapping[str, object]) -> RSAKey | ECKey:
    kty = str(member["kty"])
    if kty == "RSA" and (bits := _rsa_modulus_bits(member)) < MIN_RSA_BITS:
        raise ValueError(f"RSA key of {bits} bits, at least {MIN_RSA_BITS} required")
    public = {name: member[name] for name in _PUBLIC_MEMBERS[kty] if name in member}
    key = import_key(public, kty)  # type: ignore[call-overload]  # kty narrowed to RSA|EC above
    if isinstance(key, ECKey) and key.curve_name not in _CURVE_OF_ALGORITHM.values():
        raise ValueError(f"curve {key.curve_name} is not allowed")
    assert isinstance(key, RSAKey | ECKey)
    return key


def _parse_member(member: object) -> IssuerKey | str:
    """The key, or the reason it cannot be used."""
    if not isinstance(member, Mapping):
        return "not a JSON object"
    reason = _unusable_reason(member)
    if reason is not None:
        return reason
    try:
        key = _import_public(member)
    except (JoseError, ValueError, TypeError, KeyError, binascii.Error) as exc:
        return f"cannot import: {exc}"
    kid, algorithm = member.get("kid"), member.get("alg")
    return IssuerKey(
        kid if isinstance(kid, str) else None,
        algorithm if isinstance(algorithm, str) else None,
        key,
        key.thumbprint(),
    )


def _key_set_error(reason: str) -> IDPCommunicationError:
    return IDPCommunicationError(
        "The identity provider's key set could not be used.",
        explanation={"check": "key_set", "reason": reason},
    )


def parse_key_set(document: object, *, max_keys: int = MAX_KEYS_PER_SET) -> IssuerKeySet:
    """Parse a JWK Set document (already JSON-decoded) into the usable verification keys.

    Raises ``IDPCommunicationError`` when the document is not a JWK Set or holds more than
    ``max_keys`` keys; keys that cannot verify an allowed algorithm are skipped, not fatal.
    """
    members = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(members, list | tuple):
        raise _key_set_error("not a JWK Set: no keys array")
    if len(members) > max_keys:
        raise _key_set_error(f"{len(members)} keys, at most {max_keys} accepted")
    keys: list[IssuerKey] = []
    skipped: dict[str, str] = {}
    for index, member in enumerate(members):
        parsed = _parse_member(member)
        if isinstance(parsed, IssuerKey):
            keys.append(parsed)
        else:
            kid = member.get("kid") if isinstance(member, Mapping) else None
            skipped[kid if isinstance(kid, str) else f"#{index}"] = parsed
    return IssuerKeySet(tuple(keys), MappingProxyType(skipped))


def select_key(
    key_set: IssuerKeySet, kid: str | None, algorithm: str, *, fingerprint: str
) -> IssuerKey:
    """Choose the one key of ``key_set`` that verifies a token with header ``kid``/``alg``.

    With a ``kid``: the keys carrying that ``kid`` and fitting ``alg``; none means an unknown
    key, several an ambiguous set. Without a ``kid``: exactly one key may fit ``alg``.
    """
    if kid is None:
        candidates = [key for key in key_set.keys if key.fits(algorithm)]
    else:
        candidates = [key for key in key_set.keys if key.kid == kid and key.fits(algorithm)]
    if len(candidates) == 1:
        return candidates[0]
    check = "unknown_kid" if not candidates else "ambiguous_kid"
    raise InvalidIdentityToken(
        "No single key of the identity provider matches the token's kid and alg.",
        explanation={
            "check": check,
            "kid": kid,
            "alg": algorithm,
            "known_kids": sorted(key_set.kids),
            "matching_keys": len(candidates),
            "token_fingerprint": fingerprint,
        },
    )

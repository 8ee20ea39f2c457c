"""Authorization codes and access tokens: sealed, self-contained, so any worker can redeem them.

A code carries everything the token endpoint must check and put in the ID token (client id,
redirection URI, PKCE challenge, nonce, user, claims, times), encrypted and authenticated with
AES-256-GCM (NIST SP 800-38D) under a key derived with HKDF-SHA256 (RFC 5869) from the
deployment's master key, one ``info`` per kind, so a code never opens as an access token. Every
worker of every node derives the same keys, so a code made by one is redeemed by another.

Single use (RFC 6749 section 4.1.2: a code used twice MUST be refused) is enforced by each
process's :class:`UsedCodes`: with one worker it is exact; with several, a code could be
redeemed once per worker within its 60-second life. That is the documented limit of this
development provider (``docs/dev-idp.md``); it never runs in production.

PKCE S256 (RFC 7636 section 4.6): ``BASE64URL(SHA256(ASCII(code_verifier)))`` must equal the
challenge, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from webfed.core.keys import MasterKey

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "AccessGrant",
    "CodeGrant",
    "GrantSealer",
    "UsedCodes",
    "verify_code_verifier",
]

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
_VERSION = b"\x01"
_NONCE_BYTES = 12
_CODE_ID_BYTES = 16
_CODE_INFO = b"webfed/v1/dev-idp/authorization-code"
_ACCESS_INFO = b"webfed/v1/dev-idp/access-token"
#: RFC 7636 section 4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
#: Far above any code or access token this module makes; longer input is not even decoded.
_MAX_SEALED_CHARS = 16384


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes | None:
    if len(text) > _MAX_SEALED_CHARS or not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def verify_code_verifier(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is well formed and hashes to the S256 ``challenge``."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    computed = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return hmac.compare_digest(computed.encode("ascii"), challenge.encode("ascii"))


@dataclass(frozen=True, slots=True)
class CodeGrant:
    """What an authorization code stands for; times are Unix seconds."""

    code_id: str
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str
    username: str
    claims: dict[str, object] = field(repr=False)
    auth_time: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What an access token stands for: the user info it may read, until ``expires_at``."""

    subject: str
    client_id: str
    scope: tuple[str, ...]
    claims: dict[str, object] = field(repr=False)
    expires_at: int


def _cipher(master: MasterKey, info: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(master.material))


class GrantSealer:
    """Seals and opens codes and access tokens with keys derived from the master key."""

    __slots__ = ("_access", "_code")

    def __init__(self, master: MasterKey) -> None:
        self._code = _cipher(master, _CODE_INFO)
        self._access = _cipher(master, _ACCESS_INFO)

    @staticmethod
    def new_code_id(rng: random.Random) -> str:
        return _b64url(rng.randbytes(_CODE_ID_BYTES))

    def seal_code(self, grant: CodeGrant, rng: random.Random) -> str:
        return _seal(self._code, _CODE_INFO, asdict(grant), rng)

    def seal_access(self, grant: AccessGrant, rng: random.Random) -> str:
        return _seal(self._access, _ACCESS_INFO, asdict(grant), rng)

    def open_code(self, text: str) -> CodeGrant | None:
        """The grant of a code this deployment made, or ``None`` (expiry is the caller's)."""
        fields = _open(self._code, _CODE_INFO, text)
        return None if fields is None else CodeGrant(**_with_scope_tuple(fields))

    def open_access(self, text: str) -> AccessGrant | None:
        fields = _open(self._access, _ACCESS_INFO, text)
        return None if fields is None else AccessGrant(**_with_scope_tuple(fields))


def _seal(cipher: AESGCM, kind: bytes, fields: dict[str, object], rng: random.Random) -> str:
    nonce = rng.randbytes(_NONCE_BYTES)
    plaintext = json.dumps(fields, separators=(",", ":")).encode("utf-8")
    return _b64url(_VERSION + nonce + cipher.encrypt(nonce, plaintext, _VERSION + kind))


def _open(cipher: AESGCM, kind: bytes, text: str) -> dict[str, object] | None:
    blob = _b64url_decode(text)
    if blob is None or len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
        return None
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        plaintext = cipher.decrypt(nonce, sealed, _VERSION + kind)
    except InvalidTag:
        return None
    fields: dict[str, object] = json.loads(plaintext)  # authenticated: our own JSON
    return fields


def _with_scope_tuple(fields: dict[str, object]) -> dict[str, Any]:
    """The opened fields as the dataclass takes them. They are authenticated, so they are
    exactly what :func:`asdict` gave the sealing side, but for JSON's list for the tuple."""
    return {**fields, "scope": tuple(cast(list[str], fields["scope"]))}


class UsedCodes:
    """The codes this process has redeemed, each kept until it would have expired anyway."""

    __slots__ = ("_used",)

    def __init__(self) -> None:
        self._used: dict[str, int] = {}

    def claim(self, code_id: str, expires_at: int, now: int) -> bool:
        """Mark a code used; ``False`` if it already was."""
        self._used = {key: expiry for key, expiry in self._used.items() if expiry >= now}
        if code_id in self._used:
            return False
        self._used[code_id] = expires_at
        return True

    def __len__(self) -> int:
        return len(self._used)

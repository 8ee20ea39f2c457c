"""Authorization codes and access tokens: sealed, self-contained, so any worker can redeem them.

A code carries everything the token endpoint must check and put in the ID token (client id,
redirection URI, PKCE challenge, nonce, user, claims, times), encrypted and authenticated with
AES-256-GCM (NIST SP 800-38D) under a key derived with HKDF-SHA256 (RFC 5869) from the
deployment's master key, one ``info`` per kind, so a code never opens as an access token. Every
worker of every node derives the same keys, so a code made by one is redeemed by another.

Single use (RFC 6749 section 4.1.2: a code used twice MUST be refused) is enforced by
:class:`UsedCodes`, files in the data directory that every worker of a node shares. Nodes do
not share them: behind a load balancer, a code could be redeemed once per node within its
60-second life, the documented limit of this development provider (``docs/dev-idp.md``).

PKCE S256 (RFC 7636 section 4.6): ``BASE64URL(SHA256(ASCII(code_verifier)))`` must equal the
challenge, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import random
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from webfed.core.keys import MasterKey

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "USED_CODE_GRACE",
    "AccessGrant",
    "CodeGrant",
    "GrantSealer",
    "UsedCodes",
    "verify_code_verifier",
]

CODE_LIFETIME = timedelta(seconds=60)
#: How long past its expiry a used code is remembered: a margin over any worker's late clock read.
USED_CODE_GRACE = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
_VERSION = b"\x01"
_NONCE_BYTES = 12
_CODE_ID_BYTES = 16
_CODE_ID = re.compile(r"[A-Za-z0-9_-]+")
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
    """The codes redeemed on this node: one empty file each in ``directory``, named
    ``<expiry>.<code id>``.

    Creating a file with ``O_CREAT | O_EXCL`` is atomic across processes, so of the workers
    sharing the directory (all of one ``webfed serve``: it is under the data directory)
    exactly one redeems each code. Files are removed by lazy sweeps: a claim sweeps the
    directory when the last sweep of this process was at least :data:`USED_CODE_GRACE` ago,
    deleting the files whose code expired more than :data:`USED_CODE_GRACE` before; so a file
    stays at least that long past its expiry, by then long refused for its age, and longer
    when no code is redeemed.

    The directory is (re)created whenever a claim finds it missing, so one removed between
    sweeps costs nothing. Any other :class:`OSError` (an unwritable data directory, a full
    disk) is raised to the caller: the code is then *not* used up.
    """

    __slots__ = ("_directory", "_swept_at")

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._swept_at: int | None = None

    @property
    def directory(self) -> Path:
        return self._directory

    def claim(self, code_id: str, expires_at: int, now: int) -> bool:
        """Mark a code used; ``False`` if it already was, by this process or another."""
        if not _CODE_ID.fullmatch(code_id):
            raise ValueError("a code id is base64url text")  # never a path: ours are
        self._sweep(now)
        path = self._directory / f"{expires_at}.{code_id}"
        try:
            descriptor = self._create(path)
        except FileNotFoundError:  # the directory was removed since the last sweep
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                descriptor = self._create(path)
            except FileExistsError:
                return False
        except FileExistsError:
            return False
        os.close(descriptor)
        return True

    @staticmethod
    def _create(path: Path) -> int:
        return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)

    def _sweep(self, now: int) -> None:
        grace = int(USED_CODE_GRACE.total_seconds())
        if self._swept_at is not None and now - self._swept_at < grace:
            return
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._swept_at = now
        try:
            entries = list(self._directory.iterdir())
        except FileNotFoundError:  # removed just now: the claim creates it again
            return
        for entry in entries:
            expiry, _, _ = entry.name.partition(".")
            if expiry.isdigit() and int(expiry) + grace < now:
                entry.unlink(missing_ok=True)  # another worker may sweep at the same time

    def __len__(self) -> int:
        try:
            return sum(1 for _ in self._directory.iterdir())
        except FileNotFoundError:  # nothing claimed yet, or the directory was removed
            return 0

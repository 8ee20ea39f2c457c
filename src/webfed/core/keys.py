"""Sealing keys: the symmetric keys that seal session tokens and authorization messages.

A :class:`SealingKey` is 32 random bytes with a short public id. It never encrypts anything
itself: each use derives its own subkey with HKDF-SHA256 (RFC 5869), whose ``info`` names the
purpose (:class:`Purpose`), so a session-token key can never open an authorization message and
the other way round (RFC 5869 section 3.2: "info" binds a derived key to its context).

Keys are stored in the database *wrapped* (AES-256-GCM, NIST SP 800-38D) under a key derived
from the deployment's master key; the key id and a format version are the associated data, so a
wrapped blob cannot be moved to another row.

Lifecycle (see ``docs/credentials.md``): rotation retires the current key and adds a new one; the
new key seals only once it is :data:`SEALING_LEAD` old (longer than any node takes to reload its
ring, so every node can open what any node seals), the previous one until then; a retired key
keeps unsealing for :data:`RETIRED_KEY_GRACE` (the longest session webfed issues, plus slack),
then drops out of every ring.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from webfed.errors import MasterKeyError

__all__ = [
    "KEY_BYTES",
    "KEY_ID_LENGTH",
    "NONCE_BYTES",
    "RETIRED_KEY_GRACE",
    "SEALING_LEAD",
    "KeyRing",
    "MasterKey",
    "Purpose",
    "SealingKey",
    "new_sealing_key",
    "unwrap_bytes",
    "unwrap_key",
    "wrap_bytes",
    "wrap_key",
]

KEY_BYTES = 32
KEY_ID_LENGTH = 8
NONCE_BYTES = 12
# The longest session webfed mints is 12 hours (AssumeRole's DurationSeconds maximum, 43,200 s);
# the extra hour covers nodes that keep sealing with a key for up to an hour after another node
# retired it (their ring refresh interval must stay below that).
RETIRED_KEY_GRACE = timedelta(hours=13)
# A new key seals only once every node has had the time to load it: the longest ring reload
# interval (60 s, the ``key_reload_seconds`` maximum) plus a margin for a busy node.
SEALING_LEAD = timedelta(seconds=75)

_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_WRAP_VERSION = b"\x01"
_WRAP_INFO = b"webfed/v1/wrap/sealing-key"
_WRAPPED_LENGTH = 1 + KEY_ID_LENGTH + NONCE_BYTES + KEY_BYTES + 16


class Purpose(Enum):
    """What a derived subkey is for; the value is the HKDF ``info``."""

    SESSION_TOKEN = b"webfed/v1/session-token"
    AUTHORIZATION_MESSAGE = b"webfed/v1/authorization-message"


def _hkdf(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


@dataclass(frozen=True, slots=True)
class MasterKey:
    """The deployment's 32-byte master key (``WEBFED_MASTER_KEY`` or ``DATA_DIR/master.key``)."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise MasterKeyError(f"the master key must be exactly {KEY_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class SealingKey:
    """One sealing key: a public ``key_id`` and ``secret`` bytes that never appear in a repr."""

    key_id: str
    secret: bytes = field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_LENGTH or not self.key_id.isascii():
            raise ValueError(f"a key id is {KEY_ID_LENGTH} ASCII characters")
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a sealing key is {KEY_BYTES} bytes")

    @property
    def not_after(self) -> datetime | None:
        """When the key stops unsealing: ``None`` while it is current."""
        return None if self.retired_at is None else self.retired_at + RETIRED_KEY_GRACE

    def usable_at(self, now: datetime) -> bool:
        not_after = self.not_after
        return not_after is None or now < not_after

    def subkey(self, purpose: Purpose) -> bytes:
        """The HKDF-derived key for one purpose; the raw secret itself is never used."""
        return _hkdf(self.secret, purpose.value)

    def retire(self, now: datetime) -> SealingKey:
        return SealingKey(self.key_id, self.secret, self.created_at, now)


def new_sealing_key(rng: random.Random, now: datetime) -> SealingKey:
    """A fresh key: 32 bytes and an 8-character base32 id, both from the injected ``rng``."""
    key_id = "".join(rng.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    return SealingKey(key_id, rng.randbytes(KEY_BYTES), now)


def _wrapping_cipher(master: MasterKey) -> AESGCM:
    return AESGCM(_hkdf(master.material, _WRAP_INFO))


def wrap_key(master: MasterKey, key: SealingKey, rng: random.Random) -> bytes:
    """``version ‖ key id ‖ nonce ‖ AES-GCM(secret)``, the version and key id authenticated."""
    header = _WRAP_VERSION + key.key_id.encode("ascii")
    nonce = rng.randbytes(NONCE_BYTES)
    return header + nonce + _wrapping_cipher(master).encrypt(nonce, key.secret, header)


def unwrap_key(
    master: MasterKey, blob: bytes, *, created_at: datetime, retired_at: datetime | None = None
) -> SealingKey:
    """Open a wrapped key; raise :class:`MasterKeyError` if the master key does not open it."""
    if len(blob) != _WRAPPED_LENGTH or blob[:1] != _WRAP_VERSION:
        raise MasterKeyError("a stored sealing key has an unknown format")
    header = blob[: 1 + KEY_ID_LENGTH]
    nonce = blob[len(header) : len(header) + NONCE_BYTES]
    try:
        secret = _wrapping_cipher(master).decrypt(nonce, blob[len(header) + NONCE_BYTES :], header)
    except InvalidTag:
        raise MasterKeyError(
            "a stored sealing key does not open with this master key "
            "(is WEBFED_MASTER_KEY the one every node was given?)"
        ) from None
    return SealingKey(header[1:].decode("ascii"), secret, created_at, retired_at)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: SealingKey
    ciphers: Mapping[Purpose, AESGCM] = field(repr=False)


def _entry(key: SealingKey) -> _Entry:
    return _Entry(key, MappingProxyType({p: AESGCM(key.subkey(p)) for p in Purpose}))


class KeyRing:
    """The keys one process seals and unseals with, built once per refresh.

    The newest key that is at least ``sealing_lead`` old seals (the oldest key when none is: a
    new deployment, or rotations in quick succession), so a node never seals with a key that
    another node may not have loaded yet; a retired key seals at most ``sealing_lead`` after its
    retirement, well within its grace. Every key still within its grace period unseals. Lookup
    by key id is one dict access, and the AEAD objects are prepared here, off the request path.
    """

    __slots__ = ("_current", "_entries")

    def __init__(
        self, keys: Iterable[SealingKey], now: datetime, sealing_lead: timedelta = SEALING_LEAD
    ) -> None:
        usable = [key for key in keys if key.usable_at(now)]
        if not any(key.retired_at is None for key in usable):
            raise ValueError("a key ring needs at least one unretired key")
        self._entries = {key.key_id: _entry(key) for key in usable}
        candidates = sorted(
            (
                key
                for key in usable
                if key.retired_at is None or key.retired_at > now - sealing_lead
            ),
            key=lambda key: (key.created_at, key.key_id),
        )
        settled = [key for key in candidates if key.created_at <= now - sealing_lead]
        sealing = settled[-1] if settled else candidates[0]
        self._current = self._entries[sealing.key_id]

    @property
    def current(self) -> SealingKey:
        return self._current.key

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._entries)

    def sealing_cipher(self, purpose: Purpose) -> tuple[str, AESGCM]:
        """The current key's id and its AEAD for ``purpose``."""
        return self._current.key.key_id, self._current.ciphers[purpose]

    def opening_cipher(self, key_id: str, purpose: Purpose) -> AESGCM | None:
        """The AEAD of key ``key_id`` for ``purpose``, or ``None`` for an unknown or expired key."""
        entry = self._entries.get(key_id)
        return None if entry is None else entry.ciphers[purpose]

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current.key_id!r}, keys={sorted(self._entries)!r})"


# --- generic wrapping, for stored secrets that are not sealing keys ---------------------------

_BYTES_WRAP_VERSION = b"\x02"


def _bytes_associated_data(purpose: str, key_id: str) -> bytes:
    """Version, purpose and key id, length-prefixed so no two pairs share an encoding."""
    purpose_bytes, key_id_bytes = purpose.encode("utf-8"), key_id.encode("utf-8")
    return (
        _BYTES_WRAP_VERSION
        + len(purpose_bytes).to_bytes(2, "big")
        + purpose_bytes
        + len(key_id_bytes).to_bytes(2, "big")
        + key_id_bytes
    )


def wrap_bytes(
    master: MasterKey, plaintext: bytes, *, purpose: str, key_id: str, rng: random.Random
) -> bytes:
    """``version ‖ nonce ‖ AES-GCM(plaintext)`` under the master's wrapping key, with the
    version, ``purpose`` and ``key_id`` as associated data (NIST SP 800-38D): the blob opens
    only for the same purpose and key id, so it cannot be moved to another row or purpose."""
    nonce = rng.randbytes(NONCE_BYTES)
    associated = _bytes_associated_data(purpose, key_id)
    return (
        _BYTES_WRAP_VERSION + nonce + _wrapping_cipher(master).encrypt(nonce, plaintext, associated)
    )


def unwrap_bytes(master: MasterKey, blob: bytes, *, purpose: str, key_id: str) -> bytes:
    """Open :func:`wrap_bytes`' blob; :class:`MasterKeyError` if it does not open as given."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != _BYTES_WRAP_VERSION:
        raise MasterKeyError(f"stored {purpose} key {key_id} has an unknown format")
    nonce = blob[1 : 1 + NONCE_BYTES]
    associated = _bytes_associated_data(purpose, key_id)
    try:
        return _wrapping_cipher(master).decrypt(nonce, blob[1 + NONCE_BYTES :], associated)
    except InvalidTag:
        raise MasterKeyError(
            f"stored {purpose} key {key_id} does not open with this master key "
            "(is WEBFED_MASTER_KEY the one every node was given?)"
        ) from None

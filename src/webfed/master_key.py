"""The master key: given in ``WEBFED_MASTER_KEY``, or created once as ``DATA_DIR/master.key``.

The master key wraps every key stored in the database (:func:`webfed.core.keys.wrap_key`), so
every node of a deployment must be given the same one. Two sources, first match wins:

1. ``WEBFED_MASTER_KEY`` (``Settings.master_key``): 32 bytes in base64 or base64url, padding
   optional (``openssl rand -base64 32``, or ``python -c "import secrets;
   print(secrets.token_urlsafe(32))"``).
2. ``DATA_DIR/master.key``: the same text. Created on first start with mode 0600 (``O_EXCL``, so
   two processes starting at once cannot both write one); a file readable by group or others is
   refused, as OpenSSH refuses a private key with loose permissions.

The key is never logged and never in a message; :class:`~webfed.core.keys.MasterKey` hides it
from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from webfed.core.keys import KEY_BYTES, MasterKey
from webfed.errors import MasterKeyError

__all__ = ["MASTER_KEY_FILE", "load_or_create_master_key", "parse_master_key"]

MASTER_KEY_FILE = "master.key"
_MAX_TEXT = 256


def parse_master_key(text: str, *, source: str = "WEBFED_MASTER_KEY") -> MasterKey:
    """Decode base64 or base64url text holding exactly 32 bytes."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > _MAX_TEXT or not cleaned.isascii():
        raise MasterKeyError(f"{source} must be {KEY_BYTES} bytes in base64 or base64url")
    standard = cleaned.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        material = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{source} is not valid base64 or base64url") from None
    if len(material) != KEY_BYTES:
        raise MasterKeyError(
            f"{source} decodes to {len(material)} bytes; the master key must be {KEY_BYTES}"
        )
    return MasterKey(material)


def load_or_create_master_key(data_dir: Path, configured: str | None) -> tuple[MasterKey, bool]:
    """The master key, and whether a key file was created just now (tell the operator)."""
    if configured:
        return parse_master_key(configured), False
    path = data_dir / MASTER_KEY_FILE
    try:
        return _read_key_file(path), False
    except FileNotFoundError:
        pass
    try:
        return _create_key_file(path), True
    except FileExistsError:  # another process created it between our read and our create
        return _read_key_file(path), False


def _read_key_file(path: Path) -> MasterKey:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MasterKeyError(
                f"{path} is accessible by group or others (mode {stat.S_IMODE(mode):o}); "
                "run chmod 600 on it"
            )
        text = handle.read(_MAX_TEXT + 1)
    try:
        return parse_master_key(text.decode("ascii"), source=str(path))
    except UnicodeDecodeError:
        raise MasterKeyError(f"{path} is not base64 text") from None


def _create_key_file(path: Path) -> MasterKey:
    """Write a new key beside ``path``, then link it into place: readers never see half a file,
    and if another process won the race, ``os.link`` raises ``FileExistsError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    material = secrets.token_bytes(KEY_BYTES)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    # 0600 from the first byte: the key never sits in a readable file, not even briefly.
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(base64.urlsafe_b64encode(material).decode("ascii") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return MasterKey(material)

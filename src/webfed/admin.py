"""Administrator credentials: from the environment, or generated once into the data directory.

The file is written in the AWS shared-credentials format, mode 0600, so that
``AWS_SHARED_CREDENTIALS_FILE=DIR/admin-credentials aws --profile webfed ...`` works as is.
"""

from __future__ import annotations

import configparser
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PROFILE", "AdminCredentials", "load_or_create_admin_credentials"]

PROFILE = "webfed"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True, slots=True)
class AdminCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)


def _generate() -> AdminCredentials:
    key_id = "AKIA" + "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return AdminCredentials(key_id, secrets.token_urlsafe(30)[:40])


def _read(path: Path) -> AdminCredentials | None:
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")
    if not parser.has_section(PROFILE):
        return None
    section = parser[PROFILE]
    key_id = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    if not key_id or not secret:
        return None
    return AdminCredentials(key_id, secret)


def _write(path: Path, credentials: AdminCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        f"[{PROFILE}]\n"
        f"aws_access_key_id = {credentials.access_key_id}\n"
        f"aws_secret_access_key = {credentials.secret_access_key}\n"
    )
    # Create with 0600 from the start: the secret never sits in a world-readable file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def load_or_create_admin_credentials(
    data_dir: Path, access_key_id: str | None, secret_access_key: str | None
) -> tuple[AdminCredentials, Path | None]:
    """The admin credentials, and the path of the file when one was generated just now."""
    if access_key_id and secret_access_key:
        return AdminCredentials(access_key_id, secret_access_key), None
    path = data_dir / "admin-credentials"
    if path.exists():
        existing = _read(path)
        if existing is not None:
            return existing, None
        path.unlink()
    credentials = _generate()
    _write(path, credentials)
    return credentials, path

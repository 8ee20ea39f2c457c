"""TLS on webfed's listeners: the certificate and key files, checked before anything starts.

``webfed serve`` and ``webfed gateway`` take ``--tls-cert`` and ``--tls-key`` (PEM; settings
``tls_cert`` and ``tls_key``, ``WEBFED_TLS_CERT`` and ``WEBFED_TLS_KEY``) and hand them to
uvicorn, which wraps the listening socket. uvicorn would only read them once the workers start,
and OpenSSL would prompt on the terminal for the passphrase of an encrypted key, so
:func:`check_tls_files` loads the pair first, in the command's own process, and turns every
problem into one sentence: a missing or unreadable file, a file that is not PEM, a key that does
not belong to the certificate, a key that needs a passphrase.
"""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

from webfed.logs import get_logger
from webfed.settings import Settings

__all__ = [
    "TlsFilesError",
    "check_tls_files",
    "key_file_is_private",
    "uvicorn_tls_options",
    "warn_if_key_is_shared",
]

_log = get_logger("webfed.tls")


class TlsFilesError(ValueError):
    """The certificate or key cannot serve TLS; the message says which and why."""


class _EncryptedKey(Exception):
    """Raised from the passphrase callback: webfed never prompts for one."""


def _no_passphrase() -> bytes:
    raise _EncryptedKey


def _readable(path: Path, what: str) -> None:
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except FileNotFoundError:
        raise TlsFilesError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise TlsFilesError(f"{what} {path}: is a directory, not a PEM file") from None
    except PermissionError:
        raise TlsFilesError(f"{what} {path}: permission denied") from None


def check_tls_files(cert: Path, key: Path) -> None:
    """Raise :class:`TlsFilesError` unless ``cert`` and ``key`` load as one server identity."""
    _readable(cert, "TLS certificate")
    _readable(key, "TLS key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except _EncryptedKey:
        raise TlsFilesError(
            f"TLS key {key}: encrypted with a passphrase; give webfed an unencrypted key "
            "(readable by its user only)"
        ) from None
    except ssl.SSLError as error:
        reason = getattr(error, "reason", None) or "not a PEM certificate and key"
        if reason == "KEY_VALUES_MISMATCH":
            raise TlsFilesError(
                f"TLS key {key} does not belong to the certificate {cert}"
            ) from None
        raise TlsFilesError(
            f"TLS certificate {cert} and key {key} do not load ({reason}): both must be PEM"
        ) from None


def key_file_is_private(key: Path) -> bool:
    """Whether only the owner may read the key file (OpenSSH's rule for private keys)."""
    mode = os.stat(key).st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def uvicorn_tls_options(settings: Settings) -> tuple[str | None, str | None]:
    """uvicorn's ``ssl_certfile`` and ``ssl_keyfile`` for ``settings``, checked; ``(None, None)``
    without TLS. Raises :class:`TlsFilesError`; logs nothing, so commands call it before they
    configure logging and a refusal leaves no trace but its message."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None, None
    cert, key = settings.tls_cert.resolve(), settings.tls_key.resolve()
    check_tls_files(cert, key)
    return str(cert), str(key)


def warn_if_key_is_shared(settings: Settings) -> None:
    """Warn when the TLS key is readable by group or others. Served anyway: refusing would break
    deployments that mount keys from a secret store with wider modes."""
    if settings.tls_key is not None and not key_file_is_private(settings.tls_key):
        _log.warning(
            "the TLS key is readable by group or others; chmod 600 it",
            path=str(settings.tls_key.resolve()),
        )

"""Encoded authorization messages: the opaque text after "Encoded authorization failure message:".

AWS appends to some ``AccessDenied`` errors an encrypted account of the decision that only a
principal allowed ``sts:DecodeAuthorizationMessage`` can read; decoded, it is JSON with
``allowed``, ``explicitDeny``, ``matchedStatements``, ``failures`` and a ``context`` naming the
principal, action, resource and conditions (STS API reference, DecodeAuthorizationMessage).
webfed does the same for every ``AccessDenied`` and every token rejection, adding ``check`` (the
failed step) and ``reason`` (what was wanted and what was seen).

Format: ``base64url( version ‖ key id ‖ nonce ‖ AES-256-GCM(0x5A ‖ zlib(JSON)) )`` under the
key ring's authorization-message subkey (never the session-token subkey), version and key id as
associated data. A message stays decodable while its key is in the ring.

Tokens never go in. Rather than refuse to explain a denial (which would turn a 403 into a 500),
:func:`encode_authorization_message` scrubs: a value under a key named like a credential
(``token``, ``secret``, ``password``, ``signature``, ``credential``, ``authorization``), a
string shaped like a JWT, a run of 80 or more base64 characters, and any string the caller lists
in ``scrub`` are replaced by ``"[redacted]"``. The output is capped at the 10,240 characters
AWS's ``EncodedMessage`` accepts: if needed, the bulky parts are dropped (``truncated: true``).
"""

from __future__ import annotations

import base64
import json
import random
import re
import zlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from cryptography.exceptions import InvalidTag

from webfed.core.keys import KEY_ID_LENGTH, NONCE_BYTES, KeyRing, Purpose
from webfed.errors import InvalidAuthorizationMessage

__all__ = [
    "MAX_ENCODED_MESSAGE_CHARS",
    "REDACTED",
    "decode_authorization_message",
    "encode_authorization_message",
    "explain_denial",
]

MAX_ENCODED_MESSAGE_CHARS = 10_240  # the EncodedMessage length limit in the STS model
REDACTED = "[redacted]"

_VERSION = 1
_HEADER_BYTES = 1 + KEY_ID_LENGTH
_ASSOCIATED_PREFIX = b"webfed/authorization-message"
_ZLIB_JSON = 0x5A
_MAX_PLAINTEXT = 262_144
_MAX_DEPTH = 12
_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_NAME = re.compile(r"token|secret|password|signature|credential|authorization", re.I)
# A fingerprint (a short hash prefix) identifies a token without revealing it: kept.
_FINGERPRINT_NAME = re.compile(r"fingerprint$", re.I)
_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_OPAQUE_RUN = re.compile(r"[A-Za-z0-9+/=_-]{80,}")
_INVALID_MESSAGE = "The encoded authorization message is invalid."
_BULKY_CONTEXT = ("conditions",)
_BULKY_TOP = ("matchedStatements", "failures")


def explain_denial(
    *,
    check: str,
    reason: str,
    principal: Mapping[str, str] | None = None,
    action: str | None = None,
    resource: str | None = None,
    conditions: Mapping[str, str | Sequence[str]] | None = None,
    explicit_deny: bool = False,
    matched_statements: Collection[Mapping[str, object]] = (),
) -> dict[str, object]:
    """An explanation in the shape of AWS's decoded message, plus webfed's ``check``/``reason``."""
    context: dict[str, object] = {"principal": dict(principal or {})}
    if action is not None:
        context["action"] = action
    if resource is not None:
        context["resource"] = resource
    context["conditions"] = {
        "items": [_condition_item(key, values) for key, values in (conditions or {}).items()]
    }
    return {
        "allowed": False,
        "explicitDeny": explicit_deny,
        "matchedStatements": {"items": [dict(item) for item in matched_statements]},
        "failures": {"items": []},
        "context": context,
        "check": check,
        "reason": reason,
    }


def _condition_item(key: str, values: str | Sequence[str]) -> dict[str, object]:
    """AWS's shape: ``{"key": K, "values": {"items": [{"value": V}, ...]}}``."""
    listed = [values] if isinstance(values, str) else list(values)
    return {"key": key, "values": {"items": [{"value": value} for value in listed]}}


def encode_authorization_message(
    explanation: Mapping[str, object],
    *,
    key_ring: KeyRing,
    rng: random.Random,
    now: datetime,
    scrub: Collection[str] = (),
) -> str:
    """Scrub, stamp with ``now``, seal; the result is at most 10,240 characters."""
    document = _scrubbed_mapping(explanation, frozenset(value for value in scrub if value), 0)
    document.setdefault("allowed", False)
    document["encodedAt"] = now.isoformat()
    text = _seal(document, key_ring, rng)
    if len(text) > MAX_ENCODED_MESSAGE_CHARS:
        text = _seal(_trimmed(document), key_ring, rng)
    if len(text) > MAX_ENCODED_MESSAGE_CHARS:
        text = _seal(_essentials(document), key_ring, rng)
    return text


def decode_authorization_message(text: str, key_ring: KeyRing) -> dict[str, object]:
    """Open a message encoded by a key of ``key_ring``; anything else is
    ``InvalidAuthorizationMessageException``."""
    try:
        return _open(text, key_ring)
    except _NotOurs as rejection:
        raise InvalidAuthorizationMessage(
            _INVALID_MESSAGE,
            explanation={"check": "authorization-message", "reason": str(rejection)},
        ) from None


# --- scrubbing --------------------------------------------------------------------------------


def _scrubbed(value: object, extra: frozenset[str], depth: int) -> object:
    """A JSON-ready copy of ``value`` with credentials replaced by :data:`REDACTED`."""
    if depth > _MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, Mapping):
        return _scrubbed_mapping(value, extra, depth)
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrubbed(item, extra, depth + 1) for item in value]
    if isinstance(value, str):
        return _scrubbed_text(value, extra)
    if value is None or isinstance(value, bool | int | float):
        return value
    return _scrubbed_text(str(value), extra)


def _scrubbed_mapping(
    mapping: Mapping[str, object], extra: frozenset[str], depth: int
) -> dict[str, object]:
    return {
        str(key): REDACTED if _is_secret_name(str(key)) else _scrubbed(item, extra, depth + 1)
        for key, item in mapping.items()
    }


def _is_secret_name(key: str) -> bool:
    return _SECRET_NAME.search(key) is not None and _FINGERPRINT_NAME.search(key) is None


def _scrubbed_text(text: str, extra: frozenset[str]) -> str:
    for secret in extra:
        text = text.replace(secret, REDACTED)
    text = _JWT_SHAPE.sub(REDACTED, text)
    return _OPAQUE_RUN.sub(REDACTED, text)


def _trimmed(document: dict[str, object]) -> dict[str, object]:
    trimmed = {key: value for key, value in document.items() if key not in _BULKY_TOP}
    context = document.get("context")
    if isinstance(context, dict):
        trimmed["context"] = {k: v for k, v in context.items() if k not in _BULKY_CONTEXT}
    trimmed["truncated"] = True
    return trimmed


def _essentials(document: dict[str, object]) -> dict[str, object]:
    kept = {key: _clip(document.get(key)) for key in ("allowed", "check", "reason", "encodedAt")}
    return {**kept, "truncated": True}


def _clip(value: object) -> object:
    return value[:1024] if isinstance(value, str) else value


# --- sealing ----------------------------------------------------------------------------------


def _seal(document: dict[str, object], key_ring: KeyRing, rng: random.Random) -> str:
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    plaintext = bytes([_ZLIB_JSON]) + zlib.compress(body, 9)
    key_id, cipher = key_ring.sealing_cipher(Purpose.AUTHORIZATION_MESSAGE)
    header = bytes([_VERSION]) + key_id.encode("ascii")
    nonce = rng.randbytes(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plaintext, _ASSOCIATED_PREFIX + header)
    return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode("ascii")


class _NotOurs(Exception):
    """Internal: why a message was refused."""


def _open(text: object, key_ring: KeyRing) -> dict[str, object]:
    raw = _decode_text(text)
    if raw[0] != _VERSION:
        raise _NotOurs(f"unknown message version {raw[0]}")
    key_id = raw[1:_HEADER_BYTES].decode("latin-1")
    cipher = key_ring.opening_cipher(key_id, Purpose.AUTHORIZATION_MESSAGE)
    if cipher is None:
        raise _NotOurs(f"unknown or expired key {key_id!r}")
    nonce = raw[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
    try:
        plaintext = cipher.decrypt(
            nonce, raw[_HEADER_BYTES + NONCE_BYTES :], _ASSOCIATED_PREFIX + raw[:_HEADER_BYTES]
        )
    except InvalidTag:
        raise _NotOurs("authentication failed") from None
    return _parse(plaintext)


def _decode_text(text: object) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_ENCODED_MESSAGE_CHARS:
        raise _NotOurs("not text, or longer than 10,240 characters")
    text = text.strip()
    if _TEXT.fullmatch(text) is None or len(text) % 4 == 1:
        raise _NotOurs("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) < _HEADER_BYTES + NONCE_BYTES + 16 + 1:
        raise _NotOurs("too short")
    return raw


def _parse(plaintext: bytes) -> dict[str, object]:
    if plaintext[0] != _ZLIB_JSON:
        raise _NotOurs("unknown plaintext encoding")
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(plaintext[1:], _MAX_PLAINTEXT)
        document = json.loads(body)
    except (zlib.error, ValueError):
        raise _NotOurs("malformed plaintext") from None
    if inflater.unconsumed_tail or not isinstance(document, dict):
        raise _NotOurs("malformed plaintext")
    return document

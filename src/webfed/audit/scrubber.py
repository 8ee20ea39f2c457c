"""Make any value safe to write into an audit record: no secrets, bounded size, JSON only.

CloudTrail never shows a caller's secret access key, session token or web identity token; it
writes ``HIDDEN_DUE_TO_SECURITY_REASONS`` where a sensitive value would be. webfed does the
same, as a last line of defence applied to every mapping before it is logged or stored:

* a value under a key that names a secret is replaced, whatever its type or depth: the key,
  lowercased and stripped of ``-``, ``_`` and other punctuation, contains ``secret``,
  ``password`` or ``passphrase``, or ends in ``token`` (``sessionToken``, ``WebIdentityToken``,
  ``X-Amz-Security-Token``, ``id_token``), ``signature``, ``authorization``, ``privatekey``,
  ``masterkey`` or ``cookie``;
* the values of a Cognito ``Logins`` map are provider tokens under provider names, so every value
  under a ``logins`` key is replaced and only the provider names stay;
* any string (value or key) shaped like a JSON Web Token (``eyJ…`` in three dot-separated
  base64url parts) is replaced wherever it appears, so a token under an innocent key is caught;
* strings are cut to :data:`MAX_STRING` characters, containers to :data:`MAX_ITEMS` entries and
  nesting to :data:`MAX_DEPTH` levels; values of other types become their type's name.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import TypeVar
from uuid import UUID

__all__ = [
    "HIDDEN",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_STRING",
    "TOO_DEEP",
    "clip",
    "is_secret_key",
    "scrub",
    "scrub_mapping",
    "scrub_text",
]

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
TOO_DEEP = "[nested too deep]"
MAX_STRING = 1024
MAX_ITEMS = 100
MAX_DEPTH = 8
_TRUNCATED = "…[truncated]"

_SECRET_PARTS = ("secret", "password", "passphrase")
_SECRET_ENDINGS = ("token", "signature", "authorization", "privatekey", "masterkey", "cookie")
_TOKEN_MAPS = frozenset({"logins"})
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

_Key = TypeVar("_Key")

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def _normal(key: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", key.lower())


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are secrets (see the module docstring for the rule)."""
    name = _normal(key)
    return name.endswith(_SECRET_ENDINGS) or any(part in name for part in _SECRET_PARTS)


def clip(text: str, limit: int = MAX_STRING) -> str:
    """``text`` cut to at most ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(_TRUNCATED), 0)] + _TRUNCATED


def scrub_text(text: str) -> str:
    """``text`` with JWT-shaped parts hidden, cut to :data:`MAX_STRING`."""
    if "eyJ" in text:  # every JWT-shaped part starts so; most text has none to search for
        text = _JWT.sub(HIDDEN, text)
    return clip(text)


def _scrub_scalar(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(value)} bytes]"
    # Unknown objects may render a secret in their str(); record only what they are.
    return f"<{type(value).__name__}>"


def _key(key: object) -> str:
    text = key.value if isinstance(key, Enum) else key
    text = text if isinstance(text, str) else str(_scrub_scalar(text))
    return clip(_JWT.sub(HIDDEN, text), 128)


_PLAIN, _SECRET, _TOKEN_MAP = 0, 1, 2


_KNOWN_KEYS_LIMIT = 4096
_known_keys: dict[object, tuple[str, int]] = {}  # only plain-str keys go in


def _classified_text_key(key: str) -> tuple[str, int]:
    """A plain-``str`` key made safe, and what its values are. Keys repeat from call to call
    (they are the operations' member names), so the answer is remembered (up to
    :data:`_KNOWN_KEYS_LIMIT` keys; past that, worked out each time); it depends only on the
    key's text, so remembering it changes nothing."""
    known = _known_keys.get(key)
    if known is not None:
        return known
    safe = _key(key)
    if is_secret_key(safe):
        known = safe, _SECRET
    else:
        known = safe, _TOKEN_MAP if _normal(safe) in _TOKEN_MAPS else _PLAIN
    if len(_known_keys) < _KNOWN_KEYS_LIMIT:
        _known_keys[key] = known
    return known


def _classified(key: object) -> tuple[str, int]:
    if type(key) is str:
        return _classified_text_key(key)
    return _classified_text_key(_key(key))


def scrub_mapping(mapping: Mapping[_Key, object], depth: int = 0) -> dict[str, JsonValue]:
    """A scrubbed, JSON-ready copy of ``mapping`` (see the module docstring)."""
    result: dict[str, JsonValue] = {}
    items: Iterable[tuple[_Key, object]] = mapping.items()
    if len(mapping) > MAX_ITEMS:
        items = itertools.islice(items, MAX_ITEMS)
    known_keys = _known_keys
    for raw_key, value in items:
        # The common case inline: a plain-str key already classified (a dict look-up).
        known = known_keys.get(raw_key) if type(raw_key) is str else None
        key, kind = known if known is not None else _classified(raw_key)
        if kind == _SECRET:
            result[key] = HIDDEN
        elif type(value) is str:  # most values: short text without a JWT in it stays as it is
            short = len(value) <= MAX_STRING and "eyJ" not in value
            result[key] = value if short else scrub_text(value)
        elif kind == _TOKEN_MAP and isinstance(value, Mapping):
            result[key] = {_key(name): HIDDEN for name in list(value)[:MAX_ITEMS]}
        elif value is None or type(value) is int or type(value) is bool:
            result[key] = value
        elif type(value) is dict and depth + 1 < MAX_DEPTH:  # as scrub() would, one call less
            result[key] = scrub_mapping(value, depth + 1)
        else:
            result[key] = scrub(value, depth + 1)
    return result


def _scrub_items(values: Iterable[object], depth: int) -> list[JsonValue]:
    result: list[JsonValue] = []
    for index, value in enumerate(values):
        if index >= MAX_ITEMS:
            break
        result.append(scrub(value, depth + 1))
    return result


def scrub(value: object, depth: int = 0) -> JsonValue:
    """A scrubbed, JSON-ready copy of any value; ``depth`` is how deep ``value`` already sits."""
    if type(value) is str:  # the common cases first, by exact type (subclasses: the long way)
        return scrub_text(value)
    if value is None or type(value) is bool or type(value) is int:
        return value
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Mapping | list | tuple | set | frozenset) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, Mapping):
        return scrub_mapping(value, depth)
    if isinstance(value, set | frozenset):
        return _scrub_items(sorted(value, key=repr), depth)
    if isinstance(value, list | tuple):
        return _scrub_items(value, depth)
    return _scrub_scalar(value)

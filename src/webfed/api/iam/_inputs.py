"""Semantic checks on IAM inputs that botocore's model cannot express.

The HTTP layer has already enforced the model (lengths, patterns, enums, required members);
what remains are IAM's documented rules: tag keys must not repeat (for roles and policies
without regard to case) nor use the reserved ``aws:`` prefix; OIDC provider URLs must be
``https`` without query or fragment; thumbprints are 40 hexadecimal digits, at most 5; a
provider takes at most 100 client ids.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webfed.core.entities import Tag, fold_case
from webfed.errors import InvalidInput, LimitExceeded, ValidationError

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "MAX_CLIENT_IDS",
    "MAX_THUMBPRINTS",
    "ProviderUrl",
    "check_client_ids",
    "check_entity_name",
    "check_thumbprints",
    "max_items",
    "parse_provider_url",
    "tag_keys",
    "tags_from",
]

DEFAULT_MAX_ITEMS = 100
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
MAX_TAGS = 50
_HEX = frozenset(string.hexdigits)


def max_items(params: dict[str, Any]) -> int:
    """``MaxItems`` or IAM's default page size of 100."""
    value = params.get("MaxItems")
    return DEFAULT_MAX_ITEMS if value is None else int(value)


def check_entity_name(name: str, member: str) -> str:
    """Role and policy names are ASCII (IAM's ``[\\w+=,.@-]`` is Java's ASCII-only ``\\w``).

    webfed folds their case in SQL, where SQLite folds ASCII only, so anything else is refused.
    """
    if not name.isascii():
        raise ValidationError(f"The specified value for {member} is invalid.")
    return name


def _check_key(key: str) -> None:
    if key.lower().startswith("aws:"):
        raise InvalidInput("User-defined tag keys can't start with 'aws:'.")


def tags_from(raw: Sequence[dict[str, str]] | None, *, case_insensitive: bool) -> tuple[Tag, ...]:
    """Tags from the request, refusing repeated keys, reserved keys and more than 50."""
    tags = tuple(Tag(item["Key"], item.get("Value", "")) for item in raw or ())
    if len(tags) > MAX_TAGS:
        raise LimitExceeded(f"Cannot exceed quota for TagsPerRequest: {MAX_TAGS}")
    seen: set[str] = set()
    for tag in tags:
        _check_key(tag.key)
        folded = fold_case(tag.key) if case_insensitive else tag.key
        if folded in seen:
            note = " Please note that Tag keys are case insensitive." if case_insensitive else ""
            raise InvalidInput(f"Duplicate tag keys found.{note}")
        seen.add(folded)
    return tags


def tag_keys(raw: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(raw or ())


@dataclass(frozen=True, slots=True)
class ProviderUrl:
    """An OIDC provider URL as stored, and the resource (URL minus scheme) its ARN names."""

    url: str
    resource: str


def parse_provider_url(url: str, *, allow_http: bool) -> ProviderUrl:
    """Check a provider URL as ``CreateOpenIDConnectProvider`` documents it.

    ``https`` only (``http`` as well when webfed runs with ``allow_http_issuers``), a host, no
    user information, no query, no fragment, and no port unless ``allow_http_issuers`` (local
    test issuers listen on ``127.0.0.1:PORT``).
    """
    invalid = InvalidInput(f"Invalid Url: {url}" if len(url) <= 255 else "Invalid Url.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise invalid from error
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise invalid
    if parts.query or parts.fragment or "?" in url or "#" in url or "@" in parts.netloc:
        raise invalid
    if port is not None and not allow_http:
        raise invalid
    if any(character.isspace() or _is_control(character) for character in url):
        raise invalid
    resource = url.split("://", 1)[1]
    return ProviderUrl(f"{parts.scheme.lower()}://{resource}", resource)


def check_thumbprints(thumbprints: Sequence[str]) -> tuple[str, ...]:
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise InvalidInput(f"Thumbprint list must contain at most {MAX_THUMBPRINTS} entries.")
    for thumbprint in thumbprints:
        if len(thumbprint) != 40 or not set(thumbprint) <= _HEX:
            raise InvalidInput("Thumbprint must be 40 hexadecimal characters.")
    return tuple(thumbprints)


def _is_control(character: str) -> bool:
    return ord(character) < 0x20 or 0x7F <= ord(character) < 0xA0


def check_client_id(client_id: str) -> str:
    """A client id is text an identity provider puts in ``aud``: no control characters."""
    if any(_is_control(character) for character in client_id):
        raise InvalidInput("Invalid ClientID: control characters are not allowed.")
    return client_id


def check_client_ids(client_ids: Sequence[str]) -> tuple[str, ...]:
    for client_id in client_ids:
        check_client_id(client_id)
    unique = tuple(dict.fromkeys(client_ids))
    if len(unique) > MAX_CLIENT_IDS:
        raise LimitExceeded(
            f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )
    return unique

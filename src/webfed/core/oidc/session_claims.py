"""Session tags and source identity carried inside a web identity token.

IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity": tags travel in the
claim ``https://aws.amazon.com/tags`` as ``principal_tags`` (each key mapped to an array with
exactly one value, since STS has no multi-valued tags) and ``transitive_tag_keys`` (a subset of
those keys). At most 50 tags; keys 1..128 characters of letters, separators, numbers and
``_ . : / = + - @``; values 0..256 of the same; keys may not start with ``aws:``, and keys that
differ only by case collide (tag keys are case-insensitive). IAM User Guide, "Monitor and
control actions taken with assumed roles": the source identity travels in
``https://aws.amazon.com/source_identity``, 2..64 characters of ``[A-Za-z0-9_+=,.@-]``, not
starting with ``aws:``. Unknown members inside the tags claim are refused (fail closed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from webfed.core.oidc.json_values import JsonObject, JsonValue
from webfed.errors import InvalidIdentityToken

__all__ = [
    "MAX_SESSION_TAGS",
    "SOURCE_IDENTITY_CLAIM",
    "TAGS_CLAIM",
    "SessionClaims",
    "read_session_claims",
]

TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
MAX_SESSION_TAGS = 50
MAX_TAG_KEY_CHARS = 128
MAX_TAG_VALUE_CHARS = 256
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
_SOURCE_IDENTITY = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")


@dataclass(frozen=True, slots=True)
class SessionClaims:
    principal_tags: Mapping[str, str]
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None


def _rejected(check: str, reason: str, fingerprint: str) -> InvalidIdentityToken:
    return InvalidIdentityToken(
        f"The token's {'session tags' if check == 'session_tags' else 'source identity'}"
        f" claim is invalid: {reason}.",
        explanation={"check": check, "reason": reason, "token_fingerprint": fingerprint},
    )


def _is_tag_text(text: str) -> bool:
    """``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` (STS ``tagKeyType`` / ``tagValueType`` pattern)."""
    return all(unicodedata.category(char)[0] in "LZN" or char in _TAG_PUNCTUATION for char in text)


def _tag_problem(key: str, value: JsonValue) -> str | None:
    if not 0 < len(key) <= MAX_TAG_KEY_CHARS or not _is_tag_text(key):
        return "a tag key is empty, too long or has a character outside the allowed set"
    if key.lower().startswith("aws:"):
        return "a tag key starts with aws:"
    if not isinstance(value, tuple) or len(value) != 1 or not isinstance(value[0], str):
        return "a tag value is not an array holding exactly one string"
    if len(value[0]) > MAX_TAG_VALUE_CHARS or not _is_tag_text(value[0]):
        return "a tag value is too long or has a character outside the allowed set"
    return None


def _principal_tags(value: JsonValue, fingerprint: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _rejected("session_tags", "principal_tags is not an object", fingerprint)
    if len(value) > MAX_SESSION_TAGS:
        raise _rejected("session_tags", f"more than {MAX_SESSION_TAGS} tags", fingerprint)
    tags: dict[str, str] = {}
    seen_lower: set[str] = set()
    for key, tag_value in value.items():
        problem = _tag_problem(key, tag_value)
        if problem is None and key.lower() in seen_lower:
            problem = "two tag keys differ only by case"
        if problem is not None:
            raise _rejected("session_tags", problem, fingerprint)
        seen_lower.add(key.lower())
        assert isinstance(tag_value, tuple) and isinstance(tag_value[0], str)
        tags[key] = tag_value[0]
    return tags


def _transitive_keys(
    value: JsonValue, tags: Mapping[str, str], fingerprint: str
) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not all(isinstance(key, str) for key in value):
        raise _rejected(
            "session_tags", "transitive_tag_keys is not an array of strings", fingerprint
        )
    keys = tuple(str(key) for key in value)
    if len(set(keys)) != len(keys):
        raise _rejected("session_tags", "transitive_tag_keys repeats a key", fingerprint)
    if not set(keys) <= set(tags):
        raise _rejected("session_tags", "a transitive tag key is not a principal tag", fingerprint)
    return keys


def _tags(claim: JsonValue, fingerprint: str) -> tuple[dict[str, str], tuple[str, ...]]:
    if not isinstance(claim, Mapping):
        raise _rejected("session_tags", "the tags claim is not an object", fingerprint)
    unknown = set(claim) - {"principal_tags", "transitive_tag_keys"}
    if unknown:
        raise _rejected("session_tags", "unknown member in the tags claim", fingerprint)
    tags = _principal_tags(claim.get("principal_tags", MappingProxyType({})), fingerprint)
    transitive = _transitive_keys(claim.get("transitive_tag_keys", ()), tags, fingerprint)
    return tags, transitive


def _source_identity(claim: JsonValue, fingerprint: str) -> str:
    """The pattern leaves out ``:``, so an ``aws:`` prefix can never pass it."""
    if not isinstance(claim, str) or not _SOURCE_IDENTITY.fullmatch(claim):
        raise _rejected(
            "source_identity", "not 2..64 characters of letters, digits and _+=,.@-", fingerprint
        )
    return claim


#: A token with neither claim (the usual case) shares this one frozen value.
_NO_SESSION_CLAIMS = SessionClaims(MappingProxyType({}), (), None)


def read_session_claims(claims: JsonObject, *, fingerprint: str) -> SessionClaims:
    """Read and check the session tags and source identity claims (both optional)."""
    if TAGS_CLAIM not in claims and SOURCE_IDENTITY_CLAIM not in claims:
        return _NO_SESSION_CLAIMS
    tags: dict[str, str] = {}
    transitive: tuple[str, ...] = ()
    if TAGS_CLAIM in claims:
        tags, transitive = _tags(claims[TAGS_CLAIM], fingerprint)
    source_identity = None
    if SOURCE_IDENTITY_CLAIM in claims:
        source_identity = _source_identity(claims[SOURCE_IDENTITY_CLAIM], fingerprint)
    return SessionClaims(MappingProxyType(tags), transitive, source_identity)

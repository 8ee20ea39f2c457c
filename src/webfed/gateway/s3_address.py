"""Where an S3 request points: bucket and key, from the Host header and the path.

S3 accepts two addressing styles ("Virtual hosting of buckets", Amazon S3 User Guide):

* path-style: ``https://endpoint/BUCKET/KEY``;
* virtual-hosted-style: ``https://BUCKET.endpoint/KEY``, where the bucket is the part of the
  Host before a configured base domain.

The key is the rest of the path after the bucket's slash, percent-decoded as UTF-8; S3 keeps
it exactly (``a//b`` is a key of its own). Keys with ``.`` or ``..`` segments are refused: S3 keeps
them literally, but an upstream that resolved them would act on another key than the one
authorized. The gateway always talks path-style
to its upstream, reusing the client's encoded key bytes unchanged, so nothing is re-encoded.
``x-amz-copy-source`` names the source of a copy as ``BUCKET/KEY[?versionId=ID]``, URL-encoded
("CopyObject", Amazon S3 API Reference); its key is held to the same rule (:func:`check_key`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from webfed.errors import InvalidParameterValue, ValidationError

__all__ = ["MAX_KEY_BYTES", "CopySource", "S3Address", "check_key", "locate", "parse_copy_source"]

# Loose on purpose (legacy buckets may have upper case or underscores), strict on what matters:
# no slash, no control characters, bounded length.
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
MAX_KEY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class S3Address:
    """The bucket and key a request names (``None`` when absent) and the path-style target."""

    bucket: str | None
    key: str | None
    upstream_path: str


@dataclass(frozen=True, slots=True)
class CopySource:
    bucket: str
    key: str
    version_id: str | None


def _host_name(host: str) -> str:
    name = host.strip().lower()
    if name.startswith("["):  # IPv6 literal: never a bucket
        return name
    return name.rsplit(":", 1)[0] if ":" in name else name


def _virtual_bucket(host: str, suffixes: tuple[str, ...]) -> str | None:
    name = _host_name(host)
    for suffix in suffixes:
        ending = "." + suffix.lower().strip(".")
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)]
    return None


def _unquote_strict(raw: str) -> str:
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise InvalidParameterValue("The object key is not valid UTF-8.") from error


def check_key(key: str) -> str:
    """``key`` (decoded) if the gateway may authorize it: the one rule for every key it sees.

    Applied to the request's own key, the source of a copy and each key of ``DeleteObjects``.
    """
    if any("\ud800" <= character <= "\udfff" for character in key):
        raise InvalidParameterValue("The object key is not valid UTF-8.")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidParameterValue("Your key is too long.")
    if any(segment in (".", "..") for segment in key.split("/")):
        # S3 keeps such keys literally, but an upstream that resolves dot segments would serve
        # another key than the one authorized: refused rather than risked.
        raise InvalidParameterValue("The gateway refuses object keys with '.' or '..' segments.")
    return key


def _decode_key(raw: str) -> str:
    return check_key(_unquote_strict(raw))


def _check_bucket(bucket: str) -> str:
    if _BUCKET.fullmatch(bucket) is None:
        raise ValidationError("The specified bucket is not valid.")
    return bucket


def locate(host: str, raw_path: str, virtual_host_suffixes: tuple[str, ...] = ()) -> S3Address:
    """The bucket and key of a request with this Host header and (still encoded) path."""
    path = raw_path or "/"
    if not path.startswith("/"):
        raise ValidationError("The request path must start with '/'.")
    bucket = _virtual_bucket(host, virtual_host_suffixes)
    if bucket is not None:
        _check_bucket(bucket)
        key = _decode_key(path[1:]) if len(path) > 1 else None
        return S3Address(bucket, key, f"/{bucket}{path}")
    raw_bucket, slash, raw_key = path[1:].partition("/")
    if not raw_bucket:
        return S3Address(None, None, "/")
    bucket = _check_bucket(unquote(raw_bucket))
    key = _decode_key(raw_key) if raw_key else None
    return S3Address(bucket, key, f"/{bucket}{slash}{raw_key}")


def parse_copy_source(value: str) -> CopySource:
    """Read ``x-amz-copy-source``: ``[/]BUCKET/KEY[?versionId=ID]``, URL-encoded."""
    raw_path, _, raw_query = value.strip().partition("?")
    path = _unquote_strict(raw_path)
    path = path[1:] if path.startswith("/") else path
    if path.startswith("arn:"):
        raise InvalidParameterValue("Copying from an access point is not supported.")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidParameterValue("Copy Source must mention the source bucket and key.")
    _check_bucket(bucket)
    check_key(key)
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    unknown = set(query) - {"versionId"}
    if unknown:
        raise InvalidParameterValue("Copy Source may only carry a versionId.")
    return CopySource(bucket, key, query.get("versionId") or None)

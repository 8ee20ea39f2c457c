"""Step 1 of SigV4: the canonical request ("Create a canonical request", AWS IAM User Guide).

The canonical request is six lines joined by ``\\n``::

    HTTPMethod
    CanonicalURI           the path, normalised and encoded per :class:`SigningRules`
    CanonicalQueryString   every parameter re-encoded, sorted by key then value
    CanonicalHeaders       ``name:value\\n`` per signed header (so a blank line follows)
    SignedHeaders          the signed header names joined with ``;``
    HashedPayload          hex SHA-256 of the body, or the declared/unsigned payload marker

Each line has its own function so that tests can compare them one by one with AWS's vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from webfed.core.sigv4.authorization import ParsedAuthorization
from webfed.core.sigv4.encoding import (
    canonical_component,
    encode_path_once,
    encode_path_twice,
    split_query,
)
from webfed.core.sigv4.request import HttpRequest
from webfed.core.sigv4.rules import SigningRules

__all__ = [
    "CONTENT_SHA256_HEADER",
    "UNSIGNED_PAYLOAD",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "hash_payload",
    "normalize_path",
    "payload_hash",
    "trim_header_value",
]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
CONTENT_SHA256_HEADER = "x-amz-content-sha256"
_SIGNATURE_PARAMETER = "X-Amz-Signature"
_TOKEN_PARAMETER = "X-Amz-Security-Token"  # noqa: S105 - a parameter name, not a secret
_EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()  # every GET signs it


def hash_payload(body: bytes) -> str:
    """Lower-case hex SHA-256 of a body: the value of an ``x-amz-content-sha256`` header."""
    if not body:
        return _EMPTY_BODY_SHA256
    return hashlib.sha256(body).hexdigest()


def normalize_path(path: str) -> str:
    """Remove ``.``/``..`` and empty segments (RFC 3986 5.2.4 plus AWS's slash collapsing).

    The result always starts with ``/`` and ends with ``/`` only if the input did and some
    segment is left (``/a/b/`` stays, ``/a/..`` becomes ``/``).
    """
    if path.startswith("/") and "//" not in path and "/." not in path:
        return path  # no empty, "." or ".." segment: already normal (the usual case)
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def canonical_uri(raw_path: str, rules: SigningRules) -> str:
    """The CanonicalURI line for the path as received."""
    path = raw_path or "/"
    if rules.normalize_path:
        path = normalize_path(path)
    if rules.double_encode_path:
        return encode_path_twice(path)
    return encode_path_once(path)


def canonical_query_string(raw_query: str, *, exclude: Iterable[str] = ()) -> str:
    """The CanonicalQueryString line.

    Keys and values are decoded and re-encoded (so any client encoding gives the same text),
    sorted by encoded key then encoded value; repeated keys are all kept, a key without ``=``
    has an empty value. ``exclude`` names parameters left out (``X-Amz-Signature``); their
    names are unreserved, so comparing with the encoded key is exact.
    """
    if not raw_query:
        return ""
    excluded = frozenset(exclude)
    pairs = sorted(
        (canonical_component(key), canonical_component(value))
        for key, value in split_query(raw_query)
    )
    return "&".join(f"{key}={value}" for key, value in pairs if key not in excluded)


def trim_header_value(value: str) -> str:
    """Trim a header value and fold every run of whitespace (line folds too) to one space."""
    return " ".join(value.split())


def canonical_headers(headers: Sequence[tuple[str, str]], signed_headers: Sequence[str]) -> str:
    """The CanonicalHeaders block: ``name:value\\n`` for each signed header, in signed order.

    Names are lower-cased; the values of a repeated header are trimmed and joined with ``,`` in
    arrival order. A signed header that is absent contributes an empty value (the verifier
    rejects that case before it gets here).
    """
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    return _header_block(grouped, signed_headers)


def _header_block(
    values_by_name: Mapping[str, Sequence[str]], signed_headers: Sequence[str]
) -> str:
    """:func:`canonical_headers` from headers already grouped under lower-cased names."""
    lines: list[str] = []
    for name in signed_headers:
        values = values_by_name.get(name, ())
        if len(values) == 1:  # the usual case: no list, no second join
            lines.append(f"{name}:{' '.join(values[0].split())}\n")
        else:
            lines.append(f"{name}:{','.join([trim_header_value(value) for value in values])}\n")
    return "".join(lines)


def payload_hash(request: HttpRequest, auth: ParsedAuthorization, rules: SigningRules) -> str:
    """The HashedPayload line.

    A declared ``x-amz-content-sha256`` is what the client signed (the verifier checks it
    against the body separately); otherwise a presigned request under rules that say so signs
    ``UNSIGNED-PAYLOAD``, and everything else signs the SHA-256 of the body.
    """
    declared = request.header_values(CONTENT_SHA256_HEADER)
    if declared:
        return declared[0].strip()
    if auth.presigned and rules.presigned_unsigned_payload:
        return UNSIGNED_PAYLOAD
    return hash_payload(request.body)


def canonical_request(request: HttpRequest, auth: ParsedAuthorization, rules: SigningRules) -> str:
    """The full canonical request of ``request`` as signed per ``auth`` under ``rules``."""
    excluded = [_SIGNATURE_PARAMETER] if auth.presigned else []
    if auth.presigned and not rules.sign_presigned_token:
        excluded.append(_TOKEN_PARAMETER)
    return "\n".join(
        (
            request.method,
            canonical_uri(request.raw_path, rules),
            canonical_query_string(request.raw_query, exclude=excluded),
            _header_block(request.headers_by_name(), auth.signed_headers),
            ";".join(auth.signed_headers),
            payload_hash(request, auth, rules),
        )
    )

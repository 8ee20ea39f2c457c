"""Verify a SigV4-signed request: time window, signature, declared payload digest.

The split of work with the caller (the HTTP layer) is::

    parsed = parse_authorization(request)              # no secret needed
    secret = lookup(parsed.access_key_id)              # caller: admin key, session token...
    check parsed.service / parsed.region               # caller: what this endpoint serves
    verify_request(request, parsed, secret, now=now, rules=STANDARD_RULES)

Every verifier returns ``None`` or raises a :mod:`webfed.errors` leaf; signatures and digests
are compared with :func:`hmac.compare_digest`. The secret never reaches a message.

Time rules (AWS "Elements of an AWS API request signature"): a header-signed request is valid
while ``X-Amz-Date`` is within ``max_skew`` (15 minutes) of ``now`` either way, else
``RequestExpired``. A presigned request is valid from ``X-Amz-Date`` to ``X-Amz-Date +
X-Amz-Expires`` inclusive; outside that window it is ``RequestExpired`` too (S3 itself answers
``AccessDenied`` "Request has expired"; webfed uses one code for every time-window failure).
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from webfed.core.sigv4.authorization import ParsedAuthorization
from webfed.core.sigv4.canonical import (
    CONTENT_SHA256_HEADER,
    UNSIGNED_PAYLOAD,
    canonical_request,
    hash_payload,
)
from webfed.core.sigv4.request import HttpRequest
from webfed.core.sigv4.rules import SigningRules
from webfed.core.sigv4.signing import (
    DEFAULT_KEY_CACHE,
    SigningKeyCache,
    string_to_sign,
)
from webfed.errors import (
    IncompleteSignature,
    RequestExpired,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)

__all__ = [
    "DEFAULT_MAX_SKEW",
    "SIGNATURE_MISMATCH_MESSAGE",
    "check_declared_payload",
    "check_request_time",
    "request_signature",
    "verify_request",
    "verify_signature",
]

DEFAULT_MAX_SKEW = timedelta(minutes=15)
SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def verify_request(
    request: HttpRequest,
    parsed: ParsedAuthorization,
    secret_access_key: str,
    *,
    now: datetime,
    rules: SigningRules,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    key_cache: SigningKeyCache = DEFAULT_KEY_CACHE,
) -> None:
    """Accept ``request`` (return ``None``) or raise: the whole SigV4 check after key lookup.

    Raises ``RequestExpired`` (time window), ``SignatureDoesNotMatch`` (signature, or a signed
    header missing from the request), ``XAmzContentSHA256Mismatch`` (declared payload digest)
    or ``IncompleteSignature`` (repeated ``x-amz-content-sha256``).
    """
    check_request_time(parsed, now=now, max_skew=max_skew)
    verify_signature(request, parsed, secret_access_key, rules=rules, key_cache=key_cache)
    check_declared_payload(request, rules)


def check_request_time(
    parsed: ParsedAuthorization, *, now: datetime, max_skew: timedelta = DEFAULT_MAX_SKEW
) -> None:
    """Raise ``RequestExpired`` when ``now`` is outside the request's validity window."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if parsed.expires is not None:
        _check_presigned_window(parsed.signed_at, parsed.expires, now)
        return
    if now - parsed.signed_at > max_skew:
        raise RequestExpired(
            f"Signature expired: {parsed.amz_date} is now earlier than "
            f"{_format(now - max_skew)} ({_format(now)} - {_minutes(max_skew)} min.)"
        )
    if parsed.signed_at - now > max_skew:
        raise RequestExpired(
            f"Signature not yet current: {parsed.amz_date} is still later than "
            f"{_format(now + max_skew)} ({_format(now)} + {_minutes(max_skew)} min.)"
        )


def _check_presigned_window(signed_at: datetime, expires: int, now: datetime) -> None:
    if now < signed_at:
        raise RequestExpired("Request is not valid yet.")
    if now > signed_at + timedelta(seconds=expires):
        raise RequestExpired("Request has expired.")


def request_signature(
    request: HttpRequest,
    parsed: ParsedAuthorization,
    secret_access_key: str,
    *,
    rules: SigningRules,
    key_cache: SigningKeyCache = DEFAULT_KEY_CACHE,
) -> str:
    """The signature the request should carry, recomputed from scratch."""
    text = string_to_sign(
        canonical_request(request, parsed, rules), parsed.amz_date, parsed.credential_scope
    )
    return key_cache.signature(
        secret_access_key, parsed.scope_date, parsed.region, parsed.service, text
    )


def verify_signature(
    request: HttpRequest,
    parsed: ParsedAuthorization,
    secret_access_key: str,
    *,
    rules: SigningRules,
    key_cache: SigningKeyCache = DEFAULT_KEY_CACHE,
) -> None:
    """Raise ``SignatureDoesNotMatch`` unless the provided signature is the computed one."""
    if not all(map(request.headers_by_name().__contains__, parsed.signed_headers)):
        raise SignatureDoesNotMatch(
            "A header listed in SignedHeaders is missing from the request. "
            + SIGNATURE_MISMATCH_MESSAGE
        )
    expected = request_signature(
        request, parsed, secret_access_key, rules=rules, key_cache=key_cache
    )
    provided = parsed.signature.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(expected.encode("ascii"), provided):
        raise SignatureDoesNotMatch(SIGNATURE_MISMATCH_MESSAGE)


def check_declared_payload(request: HttpRequest, rules: SigningRules) -> None:
    """Check a declared ``x-amz-content-sha256`` against the rules and the body.

    Accepted: a hex SHA-256 equal to the body's (unless the rules leave that to a streaming
    caller), or ``UNSIGNED-PAYLOAD`` where the rules allow it. Streaming payloads
    (``STREAMING-...``, chunk-signed) are not supported and are refused.
    """
    declared = request.header_values(CONTENT_SHA256_HEADER)
    if not declared:
        return
    if len(declared) > 1:
        raise IncompleteSignature("Request must not carry more than one x-amz-content-sha256.")
    value = declared[0].strip()
    if value == UNSIGNED_PAYLOAD and rules.allow_unsigned_payload:
        return
    if _HEX_DIGEST.fullmatch(value) is None:
        raise XAmzContentSHA256Mismatch(
            "x-amz-content-sha256 must be the hex SHA-256 of the body"
            + (" or UNSIGNED-PAYLOAD." if rules.allow_unsigned_payload else ".")
        )
    if not rules.check_declared_payload:
        return
    if not hmac.compare_digest(value.lower().encode("ascii"), hash_payload(request.body).encode()):
        raise XAmzContentSHA256Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )


def _format(moment: datetime) -> str:
    return moment.strftime(_TIME_FORMAT)


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}"

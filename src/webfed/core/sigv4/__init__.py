"""SigV4 request verification, pure: no clock, no I/O (AWS "Signature Version 4").

One module per step, named as in the AWS documentation:

* :mod:`.request`        :class:`HttpRequest`, the request as received
* :mod:`.authorization`  :func:`parse_authorization` (header or presigned query form)
* :mod:`.canonical`      :func:`canonical_request` and its lines
* :mod:`.signing`        :func:`string_to_sign`, :func:`derive_signing_key`,
  :func:`compute_signature`, the signing-key LRU
* :mod:`.verify`         :func:`verify_signature`, :func:`verify_request`
* :mod:`.rules`          :class:`SigningRules`: S3 versus every other service
* :mod:`.chunked`        :class:`AwsChunkedDecoder`: ``aws-chunked`` bodies, chunk signatures

See ``docs/sigv4.md`` for what is verified and the choices made where AWS is silent.
"""

from __future__ import annotations

from webfed.core.sigv4.authorization import (
    ALGORITHM,
    MAX_PRESIGNED_EXPIRES,
    SCOPE_TERMINATOR,
    ParsedAuthorization,
    parse_amz_date,
    parse_authorization,
)
from webfed.core.sigv4.canonical import (
    CONTENT_SHA256_HEADER,
    UNSIGNED_PAYLOAD,
    canonical_headers,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    hash_payload,
    normalize_path,
    payload_hash,
    trim_header_value,
)
from webfed.core.sigv4.chunked import (
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    AwsChunkedDecoder,
    ChunkChain,
    chunk_signature,
    trailer_signature,
)
from webfed.core.sigv4.request import HttpRequest
from webfed.core.sigv4.rules import S3_RULES, STANDARD_RULES, SigningRules
from webfed.core.sigv4.signing import (
    DEFAULT_KEY_CACHE,
    SigningKeyCache,
    compute_signature,
    derive_signing_key,
    string_to_sign,
)
from webfed.core.sigv4.verify import (
    DEFAULT_MAX_SKEW,
    SIGNATURE_MISMATCH_MESSAGE,
    check_declared_payload,
    check_request_time,
    request_signature,
    verify_request,
    verify_signature,
)

__all__ = [
    "ALGORITHM",
    "CONTENT_SHA256_HEADER",
    "DEFAULT_KEY_CACHE",
    "DEFAULT_MAX_SKEW",
    "MAX_PRESIGNED_EXPIRES",
    "S3_RULES",
    "SCOPE_TERMINATOR",
    "SIGNATURE_MISMATCH_MESSAGE",
    "STANDARD_RULES",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "UNSIGNED_PAYLOAD",
    "AwsChunkedDecoder",
    "ChunkChain",
    "HttpRequest",
    "ParsedAuthorization",
    "SigningKeyCache",
    "SigningRules",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "check_declared_payload",
    "check_request_time",
    "chunk_signature",
    "compute_signature",
    "derive_signing_key",
    "hash_payload",
    "normalize_path",
    "parse_amz_date",
    "parse_authorization",
    "payload_hash",
    "request_signature",
    "string_to_sign",
    "trailer_signature",
    "trim_header_value",
    "verify_request",
    "verify_signature",
]

"""Per-service differences in how SigV4 builds the canonical request, as data.

AWS signs every service the same way except for a few documented departures ("Create a signed
AWS API request", IAM User Guide; "Signature Calculations for the Authorization Header", Amazon
S3 API Reference):

* Path: services other than S3 normalise the path (remove ``.``/``..`` segments, collapse
  repeated slashes) and URI-encode the already-encoded path a second time. S3 uses the path as
  sent, encoded once, with no normalisation (an object key may legitimately contain ``//``).
* Payload: S3 signs the value of ``x-amz-content-sha256`` (which may be ``UNSIGNED-PAYLOAD``) and
  a presigned S3 URL always signs ``UNSIGNED-PAYLOAD``; other services sign the SHA-256 of the
  body.
* Session token: most services sign ``X-Amz-Security-Token`` in a presigned URL; a few add it
  after signing (the ``post-sts-header-after`` case of the AWS test suite).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["S3_RULES", "STANDARD_RULES", "SigningRules"]


@dataclass(frozen=True, slots=True)
class SigningRules:
    """How one service canonicalises a request.

    ``normalize_path``: remove dot segments and empty segments from the path.
    ``double_encode_path``: encode the wire path again (``%`` becomes ``%25``); when false the
    wire path is kept, only bytes that are not legal in a path are encoded.
    ``allow_unsigned_payload``: accept ``x-amz-content-sha256: UNSIGNED-PAYLOAD``.
    ``presigned_unsigned_payload``: a presigned request signs ``UNSIGNED-PAYLOAD``.
    ``sign_presigned_token``: ``X-Amz-Security-Token`` is part of a presigned canonical query.
    ``check_declared_payload``: a declared ``x-amz-content-sha256`` digest must match
    ``request.body`` (turn off only where the body is streamed and checked by the caller).
    """

    normalize_path: bool = True
    double_encode_path: bool = True
    allow_unsigned_payload: bool = False
    presigned_unsigned_payload: bool = False
    sign_presigned_token: bool = True
    check_declared_payload: bool = True


STANDARD_RULES = SigningRules()
"""STS, IAM, Cognito Identity, DynamoDB and every other non-S3 service."""

S3_RULES = SigningRules(
    normalize_path=False,
    double_encode_path=False,
    allow_unsigned_payload=True,
    presigned_unsigned_payload=True,
)
"""Amazon S3 and S3-compatible storage."""

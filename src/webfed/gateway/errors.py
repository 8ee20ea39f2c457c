"""Error responses in the protocol the client speaks.

* S3: XML ``<Error><Code/><Message/><Resource/><RequestId/></Error>`` with S3's own codes and
  statuses (``InvalidAccessKeyId`` 403, ``SignatureDoesNotMatch`` 403, ``ExpiredToken`` 400,
  ``AccessDenied`` 403…; "Error responses", Amazon S3 API Reference), spelled by
  :func:`webfed.verify.s3_error`; botocore reads ``Code`` and ``Message``.
* DynamoDB (JSON 1.0): ``{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message": ...}``
  with HTTP 400 for every client error and 500 for the server's ("Error handling with
  DynamoDB", Developer Guide); botocore keeps the part of ``__type`` after ``#``.

Both carry the request id in a header (``x-amz-request-id`` / ``x-amzn-RequestId``).
"""

from __future__ import annotations

import json

from webfed.errors import WebfedError
from webfed.verify import json_error_code, render_s3_error, s3_error

__all__ = ["DYNAMODB_ERROR_PREFIX", "ErrorResponse", "dynamodb_error", "s3_error_response"]

DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"

ErrorResponse = tuple[int, list[tuple[bytes, bytes]], bytes]
"""Status, headers, body."""


def s3_error_response(
    error: WebfedError, *, request_id: str, resource: str | None = None
) -> ErrorResponse:
    body = render_s3_error(error, request_id=request_id, resource=resource)
    headers = [
        (b"content-type", b"application/xml"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amz-request-id", request_id.encode()),
    ]
    return s3_error(error).status, headers, body


def dynamodb_error(error: WebfedError, *, request_id: str) -> ErrorResponse:
    document = {
        "__type": DYNAMODB_ERROR_PREFIX + json_error_code(error),
        "message": error.full_message,
    }
    body = json.dumps(document).encode()
    headers = [
        (b"content-type", b"application/x-amz-json-1.0"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return (400 if error.sender_fault else max(error.status, 500)), headers, body

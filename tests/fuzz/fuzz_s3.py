"""Fuzz the S3 gateway's request mapping: address, query, headers, route table, DeleteObjects.

The input picks whether virtual-hosted addressing is served, then is a raw HTTP request. It is
mapped the way :class:`webfed.gateway.s3_proxy.S3Gateway` maps one before authorizing it:
headers (a repeated deciding header refused), bucket and key from ``Host`` and the path
(:func:`~webfed.gateway.s3_address.locate`), the decoded query, the route and its checks
(:func:`~webfed.gateway.s3.map_s3_request`, copy source and tagging included) and, for
``DeleteObjects``, the checks read from the XML body. Every check must name an ``s3:`` action
on ``*`` or an S3 ARN of the request's own bucket (or, for a copy, the source's).

Run: ``.venv/bin/python tests/fuzz/fuzz_s3.py -runs=1000000 tests/fuzz/corpus/s3``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import FuzzFailure, Input, RawHttp, expect_client_error, instrumented, main

with instrumented(__name__ == "__main__"):
    from webfed.core.sigv4 import HttpRequest
    from webfed.gateway.checks import AccessCheck
    from webfed.gateway.s3 import S3Request, bypasses_governance, map_s3_request
    from webfed.gateway.s3_address import locate
    from webfed.gateway.s3_delete import delete_objects_checks
    from webfed.gateway.s3_proxy import query_parameters, request_headers

__all__ = ["SUFFIXES", "check"]

SUFFIXES = ((), ("s3.example.com",), ("s3.example.com", "localhost"))


def _valid(checks: tuple[AccessCheck, ...]) -> None:
    for access in checks:
        if not access.action.startswith("s3:"):
            raise FuzzFailure(f"a check for a non-S3 action: {access.action!r}")
        if access.resource != "*" and not access.resource.startswith("arn:aws:s3:::"):
            raise FuzzFailure(f"a check on a non-S3 resource: {access.resource!r}")


def _map(raw: RawHttp, suffixes: tuple[str, ...]) -> None:
    request = HttpRequest(raw.method, raw.raw_path, raw.raw_query, raw.headers)
    headers = request_headers(request)
    address = locate(headers.get("host", ""), request.raw_path, suffixes)
    query = query_parameters(request.raw_query)
    operation = map_s3_request(
        S3Request(request.method, address.bucket, address.key, query, headers)
    )
    if address.bucket is not None and not address.upstream_path.startswith(f"/{address.bucket}"):
        raise FuzzFailure(f"upstream path {address.upstream_path!r} leaves the bucket")
    _valid(operation.checks)
    if operation.needs_body:
        if address.bucket is None:
            raise FuzzFailure("DeleteObjects mapped without a bucket")
        checks = delete_objects_checks(
            address.bucket, raw.body, bypass_governance=bypasses_governance(headers)
        )
        _valid(checks)
        prefix = f"arn:aws:s3:::{address.bucket}/"
        if not all(access.resource.startswith(prefix) for access in checks):
            raise FuzzFailure("a DeleteObjects check outside the request's bucket")


def check(data: bytes) -> None:
    """Map a fuzzed S3 request; raise only on a crash."""
    reader = Input(data)
    suffixes = reader.pick(SUFFIXES)
    raw = RawHttp.parse(reader.rest())
    expect_client_error(lambda: _map(raw, suffixes))


if __name__ == "__main__":
    main(check)

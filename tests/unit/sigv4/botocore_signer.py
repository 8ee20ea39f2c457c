"""Sign requests with botocore's real SigV4 signers and hand them over as a server sees them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from unittest import mock

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from webfed.core.sigv4 import HttpRequest

Signer = Literal["header", "query", "s3", "s3-query"]
HOST = "example.amazonaws.com"


def botocore_signed(
    *,
    signer: Signer,
    signed_at: datetime,
    access_key_id: str,
    secret: str,
    service: str = "sts",
    region: str = "us-east-1",
    method: str = "GET",
    path: str = "/",
    params: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    token: str | None = None,
    expires: int = 3600,
    scheme: str = "https",
    payload_signing: bool = True,
) -> HttpRequest:
    """Sign with botocore at the frozen instant ``signed_at`` (naive UTC for botocore)."""
    request = AWSRequest(
        method=method, url=f"{scheme}://{HOST}{path}", params=list(params), data=body
    )
    for name, value in headers:
        request.headers.add_header(name, value)
    request.context["payload_signing_enabled"] = payload_signing
    credentials = Credentials(access_key_id, secret, token)
    auth = {
        "header": lambda: SigV4Auth(credentials, service, region),
        "query": lambda: SigV4QueryAuth(credentials, service, region, expires=expires),
        "s3": lambda: S3SigV4Auth(credentials, service, region),
        "s3-query": lambda: S3SigV4QueryAuth(credentials, service, region, expires=expires),
    }[signer]()
    frozen = signed_at.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
        auth.add_auth(request)
    return as_received(request)


def as_received(request: AWSRequest) -> HttpRequest:
    """The request as an HTTP server receives it: raw target, every header (repeats kept,
    surrounding whitespace stripped as HTTP parsers do), Host, Content-Length, body."""
    prepared = request.prepare()
    target = prepared.url.split("://", 1)[1]
    target = target[target.index("/") :] if "/" in target else "/"
    raw_path, _, raw_query = target.partition("?")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = [("Host", HOST)]
    headers += [(name, value.strip(" \t")) for name, value in request.headers.items()]
    if body:
        headers.append(("Content-Length", str(len(body))))
    return HttpRequest(prepared.method, raw_path, raw_query, tuple(headers), body)

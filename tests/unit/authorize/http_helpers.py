"""Sign real HTTP requests with botocore's SigV4Auth, for in-process ASGI apps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.unit.authorize.helpers import NOW
from webfed.admin import AdminCredentials
from webfed.core.credentials import TemporaryCredentials


def signed_headers(
    credentials: TemporaryCredentials | AdminCredentials,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    service: str = "execute-api",
    region: str = "us-east-1",
    signed_at: datetime = NOW,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers botocore adds to sign ``method url`` (at the frozen instant ``signed_at``)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    token = getattr(credentials, "session_token", None)
    keys = Credentials(credentials.access_key_id, credentials.secret_access_key, token)
    frozen = signed_at.replace(tzinfo=None)  # botocore works in naive UTC
    with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
        SigV4Auth(keys, service, region).add_auth(request)
    return dict(request.headers.items())

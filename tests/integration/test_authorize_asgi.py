"""A team's own Starlette API accepting webfed credentials, end to end.

Credentials come from a real ``webfed serve`` (``AssumeRoleWithWebIdentity`` with a token of the
test OpenID provider, through boto3); the API runs in-process behind ``WebfedAuthMiddleware``
with an :class:`Authorizer` opened on the server's own database and data directory; requests
are signed by botocore's ``SigV4Auth`` on an ``AWSRequest``, exactly as an AWS SDK signs an
``execute-api`` call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.conftest import ADMIN_KEY_ID, ADMIN_SECRET
from tests.integration.test_federation_harness import (
    ACCOUNT,
    Federation,
    federation,
    unique,
)
from webfed.admin import AdminCredentials
from webfed.asgi import RouteRule, WebfedAuthMiddleware, webfed_auth
from webfed.authorizer import Authorizer
from webfed.settings import Settings

__all__ = ["federation"]

API = "http://games.example.test"
ROUTES = [
    RouteRule(
        "GET",
        "/players/{player}/saves/{slot}",
        "games:GetSave",
        "arn:aws:games:{region}:{account}:player/{player}/save/{slot}",
    )
]


async def _save(request: Request) -> Response:
    result = webfed_auth(request)
    return JSONResponse({"caller": result.caller.arn, "resource": result.resource})


def _session_policy(prefix: str) -> dict[str, Any]:
    own = f"arn:aws:games:us-east-1:{ACCOUNT}:player/${{{prefix}:sub}}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "games:GetSave", "Resource": own}],
    }


@pytest.fixture
async def authorizer(federation: Federation) -> AsyncIterator[Authorizer]:
    settings = Settings(
        data_dir=federation.server.data_dir,
        database_url=federation.server.database_url,
        account_id=ACCOUNT,
    )
    admin = AdminCredentials(ADMIN_KEY_ID, ADMIN_SECRET)
    opened = await Authorizer.from_settings(settings, admin=admin)
    try:
        yield opened
    finally:
        await opened.aclose()


def _client(authorizer: Authorizer) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/players/{player}/saves/{slot}", _save)])
    wrapped = WebfedAuthMiddleware(app, authorizer, ROUTES)
    return httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url=API)


def _signed(credentials: dict[str, str], path: str) -> dict[str, str]:
    request = AWSRequest(method="GET", url=API + path)
    keys = Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials.get("SessionToken")
    )
    SigV4Auth(keys, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _player(federation: Federation, role: str, subject: str) -> dict[str, str]:
    token = federation.token(subject=subject)
    result = federation.assume(role, token, RoleSessionName=subject)
    credentials: dict[str, str] = result["Credentials"]
    return credentials


async def _status(client: httpx.AsyncClient, credentials: dict[str, str], path: str) -> int:
    response = await client.get(path, headers=_signed(credentials, path))
    return response.status_code


async def test_players_reach_only_their_own_saves(
    federation: Federation, authorizer: Authorizer
) -> None:
    role = federation.role(inline=_session_policy(federation.prefix))
    alice = _player(federation, role, "alice")
    async with _client(authorizer) as client:
        response = await client.get(
            "/players/alice/saves/1", headers=_signed(alice, "/players/alice/saves/1")
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "caller": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/alice",
            "resource": f"arn:aws:games:us-east-1:{ACCOUNT}:player/alice/save/1",
        }
        denied = await client.get(
            "/players/bob/saves/1", headers=_signed(alice, "/players/bob/saves/1")
        )
        assert denied.status_code == 403
        body = denied.json()
        assert body["__type"] == "AccessDeniedException"
        blob = body["message"].rsplit("Encoded authorization failure message: ", 1)[1]
        decoded = federation.decode(blob)  # the administrator reads why, with the AWS CLI's call
        assert decoded["context"]["action"] == "games:GetSave"
        unsigned = await client.get("/players/alice/saves/1")
        assert unsigned.status_code == 401


async def test_admin_changes_reach_live_sessions(
    federation: Federation, authorizer: Authorizer
) -> None:
    name = unique("live")
    role = federation.role(inline=_session_policy(federation.prefix), name=name)
    carol = _player(federation, role, "carol")
    path = "/players/carol/saves/2"
    async with _client(authorizer) as client:
        assert await _status(client, carol, path) == 200
        revoke = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "DateLessThan": {
                            "aws:TokenIssueTime": time.strftime(
                                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1)
                            )
                        }
                    },
                }
            ],
        }
        federation.iam.put_role_policy(
            RoleName=name, PolicyName="AWSRevokeOlderSessions", PolicyDocument=json.dumps(revoke)
        )
        started = time.monotonic()
        while await _status(client, carol, path) == 200:
            assert time.monotonic() - started < 5, "revocation did not reach the session"
            await asyncio.sleep(0.2)
        assert await _status(client, carol, path) == 403


async def test_admin_credentials_and_tampering(
    federation: Federation, authorizer: Authorizer
) -> None:
    admin = {"AccessKeyId": ADMIN_KEY_ID, "SecretAccessKey": ADMIN_SECRET}
    async with _client(authorizer) as client:
        assert await _status(client, admin, "/players/anyone/saves/9") == 200
        role = federation.role(inline=_session_policy(federation.prefix))
        dave = _player(federation, role, "dave")
        forged = dave | {"SessionToken": dave["SessionToken"][:-8] + "AAAAAAAA"}
        response = await client.get(
            "/players/dave/saves/1", headers=_signed(forged, "/players/dave/saves/1")
        )
        assert response.status_code == 403
        assert response.json()["__type"] == "UnrecognizedClientException"

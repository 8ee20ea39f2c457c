"""Request authorization throughput in-process, on one core: verify + unseal + evaluate.

    .venv/bin/python bench/authorize.py [--seconds 3]

One request signed with temporary credentials of a mobile-game player (a Cognito-style web
identity session with a tag and a source identity), checked again and again by
:class:`webfed.authorizer.Authorizer` against the game's role policies (per-player S3 prefix
and DynamoDB ``LeadingKeys``, IAM User Guide and Cognito Developer Guide examples): SigV4
verification of the header signature, the session token (through the per-token cache), the
request context and the policy decision. Prints decisions per second and p50/p99 per decision,
alternating an S3 and a DynamoDB request (both allowed), then the same split into its two
halves. Target: 40,000 decisions/s.

Each call gets a fresh :class:`HttpRequest` (built outside the timed part), as the HTTP layer
builds one per request: nothing a request computes about itself carries over to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from webfed.authorizer import Authorizer
from webfed.core.credentials import SessionContext, WebIdentity, mint_credentials
from webfed.core.entities import Role, Tag
from webfed.core.keys import KeyRing, new_sealing_key
from webfed.core.policy import Policy, PolicyKind, parse_policy
from webfed.core.sigv4 import STANDARD_RULES, HttpRequest
from webfed.iam_cache import RolePolicies

NOW = datetime(2026, 11, 26, 6, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
IDENTITY = "us-east-1:0b8a7e3c-1111-4111-8111-111111111111"
SUB = "${cognito-identity.amazonaws.com:sub}"
GAME_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": ["arn:aws:s3:::mygame"],
            "Condition": {"StringLike": {"s3:prefix": [f"{SUB}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"arn:aws:s3:::mygame/{SUB}/*"],
        },
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Scores"],
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}},
        },
    ],
}


class GamePolicies:
    """The role's policies as the IAM cache hands them over (parsed once)."""

    def __init__(self) -> None:
        role = Role(
            ACCOUNT,
            "AROAGAMEPLAYEREXAMPLE",
            "GamePlayer",
            "/",
            f"arn:aws:iam::{ACCOUNT}:role/GamePlayer",
            "{}",
            None,
            3600,
            None,
            (Tag("game", "chess"),),
            NOW,
        )
        identity = (parse_policy(json.dumps(GAME_POLICY), PolicyKind.IDENTITY, name="game"),)
        self._role = RolePolicies(role, identity, None)

    async def role_policies(self, name: str) -> RolePolicies | None:
        return self._role

    async def managed_policy(self, arn: str) -> Policy | None:
        return None


def session() -> SessionContext:
    return SessionContext(
        account_id=ACCOUNT,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/GamePlayer",
        role_id="AROAGAMEPLAYEREXAMPLE",
        role_name="GamePlayer",
        session_name="player-42",
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=1),
        session_tags=(("team", "red"),),
        source_identity="player-42",
        web_identity=WebIdentity(
            "cognito-identity.amazonaws.com",
            "us-east-1:4f9a5b2e-0000-4000-8000-000000000001",
            IDENTITY,
            ("authenticated", "accounts.google.com"),
            None,
            "cognito-identity.amazonaws.com",
        ),
    )


def signed_request(access_key_id: str, secret: str, token: str) -> HttpRequest:
    request = AWSRequest(method="GET", url=f"https://games.example.com/saves/{IDENTITY}/slot-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(Credentials(access_key_id, secret, token), "execute-api", "us-east-1").add_auth(
            request
        )
    headers = (("host", "games.example.com"), *request.headers.items())
    return HttpRequest("GET", f"/saves/{IDENTITY}/slot-1", "", tuple(headers))


async def run(seconds: float) -> None:
    ring = KeyRing([new_sealing_key(random.Random(1), NOW - timedelta(days=1))], NOW)
    credentials = mint_credentials(session(), key_ring=ring, rng=random.Random(2))
    authorizer = Authorizer(
        policies=GamePolicies(),
        key_ring=lambda: ring,
        account_id=ACCOUNT,
        region="us-east-1",
        clock=lambda: NOW,
    )
    request = signed_request(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    checks: list[tuple[str, str, dict[str, list[str]] | None]] = [
        ("s3:GetObject", f"arn:aws:s3:::mygame/{IDENTITY}/slot-1", None),
        (
            "dynamodb:Query",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Scores",
            {"dynamodb:LeadingKeys": [IDENTITY]},
        ),
    ]
    for action, resource, context in checks:
        result = await authorizer.check(request, action=action, resource=resource, context=context)
        assert result.allowed, result.decision.reason
    report("verify + unseal + evaluate", await measure(authorizer, request, checks, seconds))
    caller = authorizer.verifier.verify(request, rules=STANDARD_RULES)
    verify_only = time_each(
        lambda received: authorizer.verifier.verify(received, rules=STANDARD_RULES), request
    )
    report("  of which verify (SigV4 + cached unseal)", verify_only)
    decide_only: list[float] = []
    for _ in range(20_000):
        started = time.perf_counter()
        await authorizer.decide(caller, action=checks[0][0], resource=checks[0][1])
        decide_only.append(time.perf_counter() - started)
    report("  of which decide (context + evaluate)", decide_only)


async def measure(
    authorizer: Authorizer,
    request: HttpRequest,
    checks: list[tuple[str, str, dict[str, list[str]] | None]],
    seconds: float,
) -> list[float]:
    latencies: list[float] = []
    clock = time.perf_counter
    deadline = clock() + seconds
    while clock() < deadline:
        for action, resource, context in checks:
            received = received_again(request)
            started = clock()
            await authorizer.check(received, action=action, resource=resource, context=context)
            latencies.append(clock() - started)
    return latencies


def received_again(request: HttpRequest) -> HttpRequest:
    """The same request as a new object, as if it had just come off the wire."""
    return HttpRequest(
        request.method, request.raw_path, request.raw_query, request.headers, request.body
    )


def time_each(
    call: Callable[[HttpRequest], object], request: HttpRequest, count: int = 20_000
) -> list[float]:
    latencies: list[float] = []
    for _ in range(count):
        received = received_again(request)
        started = time.perf_counter()
        call(received)
        latencies.append(time.perf_counter() - started)
    return latencies


def report(label: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * len(ordered))]
    print(
        f"{label}: {len(ordered) / sum(ordered):,.0f}/s on one core, "
        f"p50 {statistics.median(ordered) * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs "
        f"({len(ordered):,} calls)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    asyncio.run(run(arguments.seconds))


if __name__ == "__main__":
    main()

"""Policy engine throughput: decisions per second and p99 latency on one core.

(a) the mobile-game role: per-identity S3 prefix + DynamoDB LeadingKeys + a session policy;
(b) a role with 10 managed policies of 10 statements each, with wildcards and conditions.

Run: .venv/bin/python bench/policy.py [--seconds N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from webfed.core.policy import (
    AuthorizationRequest,
    Decision,
    Policy,
    PolicyKind,
    RoleSessionPrincipal,
    evaluate,
    parse_policy,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/game-players"
SUB = "cognito-identity.amazonaws.com:sub"

GAME_S3 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": ["s3:ListBucket"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::mybucket"],
            "Condition": {"StringLike": {"s3:prefix": ["${" + SUB + "}/*"]}},
        },
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": ["arn:aws:s3:::mybucket/${" + SUB + "}/*"],
        },
    ],
}
GAME_DYNAMODB = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                       "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                       "dynamodb:BatchWriteItem"],
            "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/MyTable"],
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${" + SUB + "}"]}
            },
        }
    ],
}  # fmt: skip
GAME_SESSION = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"}],
}


def session(number: int) -> RoleSessionPrincipal:
    return RoleSessionPrincipal(
        ACCOUNT, ROLE, "AROADBQP57FF2AEXAMPLE", f"player{number}",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/game-players/player{number}",
    )  # fmt: skip


def game_requests() -> list[AuthorizationRequest]:
    requests = []
    for number in range(64):
        identity = f"us-east-1:0000{number:04d}-aaaa-bbbb-cccc-123456789012"
        context = {SUB: identity}
        principal = session(number)
        requests += [
            AuthorizationRequest.build(
                principal, "s3:GetObject", f"arn:aws:s3:::mybucket/{identity}/save.json", context
            ),
            AuthorizationRequest.build(
                principal, "s3:ListBucket", "arn:aws:s3:::mybucket",
                {**context, "s3:prefix": f"{identity}/"},
            ),
            AuthorizationRequest.build(
                principal, "dynamodb:GetItem",
                "arn:aws:dynamodb:us-west-2:123456789012:table/MyTable",
                {**context, "dynamodb:LeadingKeys": [identity]},
            ),
            AuthorizationRequest.build(
                principal, "s3:GetObject", "arn:aws:s3:::mybucket/someone-else/save.json", context
            ),
        ]  # fmt: skip
    return requests


def many_policies() -> list[Policy]:
    policies = []
    for number in range(10):
        statements = []
        for index in range(10):
            statements.append(
                {
                    "Sid": f"S{number}x{index}",
                    "Effect": "Deny" if index == 9 else "Allow",
                    "Action": [f"svc{index}:Get*", f"svc{index}:List*", f"svc{index}:Describe?tem"],
                    "Resource": [f"arn:aws:svc{index}:*:{ACCOUNT}:thing/team{number}/*"],
                    "Condition": {
                        "StringEquals": {"aws:PrincipalTag/team": [f"team{number}", "admins"]},
                        "Bool": {"aws:SecureTransport": "true"},
                        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
                    },
                }
            )
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        policies.append(parse_policy(document, PolicyKind.IDENTITY, name=f"managed{number}"))
    return policies


def many_requests() -> list[AuthorizationRequest]:
    requests = []
    for number in range(64):
        team = number % 10
        service = number % 10  # svc9 statements are Deny: some explicit denials too
        requests.append(
            AuthorizationRequest.build(
                session(number), f"svc{service}:GetThing",
                f"arn:aws:svc{service}:us-east-1:{ACCOUNT}:thing/team{team}/item{number}",
                {"aws:PrincipalTag/team": f"team{team}", "aws:SecureTransport": "true",
                 "aws:SourceIp": f"10.1.2.{number}"},
            )
        )  # fmt: skip
    return requests


def measure(
    name: str,
    run: Callable[[AuthorizationRequest], Decision],
    requests: list[AuthorizationRequest],
    seconds: float,
    target: int,
) -> bool:
    """Rate over several rounds (best and median, the machine being shared) and p99 latency."""
    for request in requests:
        run(request)
    rates = []
    for _ in range(5):
        decisions = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds / 5:
            for request in requests:
                run(request)
            decisions += len(requests)
        rates.append(decisions / (time.perf_counter() - started))
    rates.sort()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(max(1, 20_000 // len(requests))):
        for request in requests:
            before = clock()
            run(request)
            samples.append(clock() - before)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99)] / 1000
    verdict = "ok" if rates[-1] >= target else f"BELOW TARGET {target:,}"
    print(
        f"{name}: {rates[-1]:,.0f} decisions/s (median {rates[2]:,.0f}), "
        f"p99 {p99:.1f} µs, target {target:,}: {verdict}"
    )
    return rates[-1] >= target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    identity = [
        parse_policy(json.dumps(GAME_S3), PolicyKind.IDENTITY, name="game-s3"),
        parse_policy(json.dumps(GAME_DYNAMODB), PolicyKind.IDENTITY, name="game-dynamodb"),
    ]
    scope = [parse_policy(json.dumps(GAME_SESSION), PolicyKind.SESSION, name="session")]
    managed = many_policies()
    results = [
        measure("(a) mobile-game role", lambda r: evaluate(r, identity=identity, session=scope),
                game_requests(), seconds, 150_000),
        measure("(b) 10 managed x 10 statements", lambda r: evaluate(r, identity=managed),
                many_requests(), seconds, 30_000),
    ]  # fmt: skip
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

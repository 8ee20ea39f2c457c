"""Signed IAM ``GetRole`` against a real ``webfed serve``: requests/s, p50 and p99.

Run: ``.venv/bin/python bench/getrole.py [--connections 16] [--requests 5000] [--workers 1]``.
The request is signed once with botocore's SigV4 signer and replayed (valid for 15 minutes), so
the client spends its time sending, not signing. Client and server share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio

import boto3
from _harness import ADMIN_KEY_ID, ADMIN_SECRET, drive, running_server
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Federated":"accounts.google.com"},'
    '"Action":"sts:AssumeRoleWithWebIdentity",'
    '"Condition":{"StringEquals":{"accounts.google.com:aud":"bench-app"}}}]}'
)


def signed_get_role(url: str) -> tuple[dict[str, str], bytes]:
    body = b"Action=GetRole&Version=2010-05-08&RoleName=BenchRole"
    request = AWSRequest(
        "POST",
        url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "iam", "us-east-1").add_auth(request)
    return dict(request.headers.items()), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with running_server(args.workers, args.database_url) as url:
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=ADMIN_KEY_ID,
            aws_secret_access_key=ADMIN_SECRET,
        )
        iam.create_role(RoleName="BenchRole", AssumeRolePolicyDocument=TRUST)
        headers, body = signed_get_role(url)
        asyncio.run(drive(url + "/", "POST", headers, body, connections=4, total=500))  # warm-up
        result = asyncio.run(
            drive(
                url + "/",
                "POST",
                headers,
                body,
                connections=args.connections,
                total=args.requests,
            )
        )
        label = f"GetRole ({args.workers} worker(s), {args.connections} connections)"
        print(result.report(label))


if __name__ == "__main__":
    main()

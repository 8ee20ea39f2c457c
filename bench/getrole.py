"""Signed IAM ``GetRole`` against a real ``webfed serve``: requests/s, p50 and p99.

Run: ``.venv/bin/python bench/getrole.py [--connections 16] [--seconds 5] [--workers 1]
[--database-url postgresql+psycopg://…]``. The request is signed once with botocore's SigV4
signer and replayed (valid for 15 minutes) by the lean keep-alive load generator of
``bench/_loadgen.py``, so the client spends its time sending, not signing or parsing. Client and
server share this machine's cores. Each request is verified (SigV4) and answered from the
database (GetRole reads the role and its tags).
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

import boto3
from _harness import ADMIN_KEY_ID, ADMIN_SECRET, running_server
from _loadgen import encode_post, run_load
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Federated":"accounts.google.com"},'
    '"Action":"sts:AssumeRoleWithWebIdentity",'
    '"Condition":{"StringEquals":{"accounts.google.com:aud":"bench-app"}}}]}'
)
BODY = b"Action=GetRole&Version=2010-05-08&RoleName=BenchRole"


def signed_headers(url: str) -> dict[str, str]:
    request = AWSRequest(
        "POST",
        url + "/",
        data=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "iam", "us-east-1").add_auth(request)
    return {key: value for key, value in request.headers.items() if key.lower() != "host"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with running_server(args.workers, args.database_url) as url:
        boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=ADMIN_KEY_ID,
            aws_secret_access_key=ADMIN_SECRET,
        ).create_role(RoleName="BenchRole", AssumeRolePolicyDocument=TRUST)
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", int(parts.port or 80)
        request = encode_post(host, port, "/", BODY, signed_headers(url))
        result = run_load(host, port, [request], connections=args.connections, seconds=args.seconds)
        label = f"GetRole ({args.workers} worker(s), {args.connections} connections)"
        print(result.report(label))


if __name__ == "__main__":
    main()

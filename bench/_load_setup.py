"""What bench/load.py sets up before its clock starts, through the API as a user would.

Through the first node (boto3, administrator credentials): an IAM OpenID Connect provider for
the test OpenID provider; the role ``LoadPlayer`` (trusts that provider for ``aud``; may get
and put S3 objects under ``BUCKET/<the token's sub>/``); an identity pool listing the provider,
whose ``authenticated`` role trusts ``cognito-identity.amazonaws.com`` for that pool. Then, on
every node, until it has seen them (each node polls the IAM revision every second): one
``AssumeRoleWithWebIdentity`` per gateway player (the gateway's credentials) and one identity
pool flow. The S3 upstream gets the bucket and each player's 1 KiB object.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from _load_driver import PAYLOAD, Player
from _load_servers import UPSTREAM_KEY_ID, UPSTREAM_SECRET, Node
from federation import client
from tests.support.oidc_issuer import OidcTestIssuer

__all__ = ["BUCKET", "CLIENT_ID", "Account", "Tokens", "mint_tokens", "prepare"]

CLIENT_ID = "bench-load"
BUCKET = "bench-load"
COGNITO = "cognito-identity.amazonaws.com"
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class Tokens:
    """Distinct RS256 tokens (each its own ``jti``), minted once for every topology."""

    federation: tuple[str, ...]
    returning: tuple[str, ...]
    newcomers: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    role_arn: str
    pool_id: str
    logins_key: str
    players: tuple[Player, ...]


def mint_tokens(
    issuer: OidcTestIssuer, *, federation: int, returning: int, newcomers: int
) -> Tokens:
    """``returning`` tokens for a quarter as many users (each logs in again and again), and
    ``newcomers`` tokens of users never seen before, one each (unique per run: ``run``)."""

    def mint(subject: str, jti: str) -> str:
        return issuer.mint(issuer.claims(subject=subject, lifetime=3600, jti=jti))

    stamp = f"{time.time_ns():x}"
    return Tokens(
        federation=tuple(mint(f"fed-{n:05d}", f"fed-{stamp}-{n}") for n in range(federation)),
        returning=tuple(
            mint(f"regular-{n % max(1, returning // 4):05d}", f"ret-{stamp}-{n}")
            for n in range(returning)
        ),
        newcomers=tuple(mint(f"new-{stamp}-{n:06d}", f"new-{stamp}-{n}") for n in range(newcomers)),
    )


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _create_account(url: str, issuer: OidcTestIssuer) -> tuple[str, str]:
    """The provider, the player role and the identity pool with its role: (role, pool id)."""
    iam, cognito = client("iam", url), client("cognito-identity", url)
    prefix = issuer.url.removeprefix("http://")
    provider_arn = iam.create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    trust = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{prefix}:aud": CLIENT_ID}},
    }
    role_arn = iam.create_role(RoleName="LoadPlayer", AssumeRolePolicyDocument=_document([trust]))[
        "Role"
    ]["Arn"]
    own_prefix = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{BUCKET}/${{{prefix}:sub}}/*",
    }
    iam.put_role_policy(
        RoleName="LoadPlayer", PolicyName="own-prefix", PolicyDocument=_document([own_prefix])
    )
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="load",
        AllowUnauthenticatedIdentities=False,
        OpenIdConnectProviderARNs=[provider_arn],
    )["IdentityPoolId"]
    pool_trust = {
        "Effect": "Allow",
        "Principal": {"Federated": COGNITO},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{COGNITO}:aud": pool_id},
            "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"},
        },
    }
    pool_role = iam.create_role(
        RoleName="LoadPoolPlayer", AssumeRolePolicyDocument=_document([pool_trust])
    )["Role"]["Arn"]
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": pool_role})
    return str(role_arn), str(pool_id)


def _eventually(call: Callable[[], _Result], within: float = 20.0) -> _Result:
    """``call()`` retried while the node has not seen the set-up yet (it polls every second)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return call()
        except botocore.exceptions.ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _player(node: Node, issuer: OidcTestIssuer, role_arn: str, subject: str) -> Player:
    sts = client("sts", node.serve.url, unsigned=True)
    token = issuer.mint(issuer.claims(subject=subject, lifetime=3600))
    answer = _eventually(
        lambda: sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="load", WebIdentityToken=token
        )
    )
    credentials = answer["Credentials"]
    return Player(
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
        subject,
    )


def _check_pool(node: Node, issuer: OidcTestIssuer, pool_id: str, logins_key: str) -> None:
    cognito = client("cognito-identity", node.serve.url, unsigned=True)
    logins = {logins_key: issuer.mint(issuer.claims(subject="set-up-check", lifetime=600))}
    identity_id = _eventually(lambda: cognito.get_id(IdentityPoolId=pool_id, Logins=logins))[
        "IdentityId"
    ]
    _eventually(lambda: cognito.get_credentials_for_identity(IdentityId=identity_id, Logins=logins))


def prepare(nodes: Sequence[Node], issuer: OidcTestIssuer, upstream: str, players: int) -> Account:
    role_arn, pool_id = _create_account(nodes[0].serve.url, issuer)
    logins_key = issuer.url.removeprefix("http://")
    for node in nodes:
        _check_pool(node, issuer, pool_id, logins_key)
    minted = tuple(
        _player(nodes[n % len(nodes)], issuer, role_arn, f"player-{n:03d}") for n in range(players)
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=upstream,
        region_name="us-east-1",
        aws_access_key_id=UPSTREAM_KEY_ID,
        aws_secret_access_key=UPSTREAM_SECRET,
    )
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # the second topology
        s3.create_bucket(Bucket=BUCKET)
    for player in minted:
        s3.put_object(Bucket=BUCKET, Key=f"{player.prefix}/save", Body=PAYLOAD)
    return Account(role_arn, pool_id, logins_key, minted)

"""Every call leaves one CloudTrail-shaped audit event; tokens and secrets never do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer
from tests.support.oidc_issuer import OidcTestIssuer


@pytest.fixture(scope="module")
def issuer() -> Iterator[OidcTestIssuer]:
    with OidcTestIssuer() as running:
        yield running


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    server = WebfedServer(
        tmp_path_factory.mktemp("audit"), None, {"WEBFED_ALLOW_HTTP_ISSUERS": "true"}
    )
    server.start()
    yield server
    server.stop()


def tail(server: WebfedServer, *args: str) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
    command = [
        sys.executable,
        "-m",
        "webfed",
        "audit",
        "tail",
        "--json",
        "--data-dir",
        str(server.data_dir),
        *args,
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def wait_for_events(server: WebfedServer, name: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        events = [e for e in tail(server, "-n", "200") if e["eventName"] == name]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.3)


def test_federation_calls_are_audited_without_the_token(
    audited: WebfedServer, issuer: OidcTestIssuer
) -> None:
    iam = audited.client("iam")
    arn = iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=[issuer.client_id])[
        "OpenIDConnectProviderArn"
    ]
    key = issuer.url.split("://", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{key}:aud": issuer.client_id}},
            }
        ],
    }
    role = iam.create_role(RoleName="Audited", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    sts = audited.client("sts")
    good = issuer.mint(issuer.claims(subject="player-42"))
    credentials = sts.assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="s1", WebIdentityToken=good
    )["Credentials"]
    bad = issuer.mint(issuer.claims(subject="player-43", audience="someone-else"))
    with pytest.raises(botocore.exceptions.ClientError):
        sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="s2", WebIdentityToken=bad
        )

    events = wait_for_events(audited, "AssumeRoleWithWebIdentity", 2)
    assert len(events) == 2
    success, failure = events
    assert success["eventSource"] == "sts.amazonaws.com"
    assert success["userIdentity"]["type"] == "WebIdentityUser"
    assert success["userIdentity"]["userName"] == "player-42"
    assert success["additionalEventData"]["sub"] == "player-42"
    assert success["additionalEventData"]["tokenFingerprint"].startswith("sha256:")
    assert success["responseElements"]["credentials"]["accessKeyId"] == credentials["AccessKeyId"]
    assert success["requestParameters"]["roleArn"] == role["Arn"]
    assert failure["errorCode"] == "InvalidIdentityToken"
    assert failure["additionalEventData"]["explanation"]["check"] == "audience"
    everything = json.dumps(events) + audited.log()
    for secret in (good, bad, credentials["SecretAccessKey"], credentials["SessionToken"]):
        assert secret not in everything


def test_iam_writes_are_audited_as_root(audited: WebfedServer) -> None:
    audited.client("iam").create_policy(
        PolicyName="AuditedPolicy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    events = wait_for_events(audited, "CreatePolicy", 1)
    assert events[-1]["userIdentity"]["type"] == "Root"
    assert events[-1]["eventSource"] == "iam.amazonaws.com"
    assert events[-1]["readOnly"] is False


def test_tail_table_output(audited: WebfedServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "webfed",
            "audit",
            "tail",
            "--data-dir",
            str(audited.data_dir),
            "-n",
            "5",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "CreatePolicy" in result.stdout or "AssumeRoleWithWebIdentity" in result.stdout

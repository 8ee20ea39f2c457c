"""Every IAM operation webfed serves, through the real AWS CLI (one SQLite-backed server).

The boto3 tests (test_iam.py) cover behaviour and errors on SQLite and PostgreSQL; this module
proves the CLI's own encoding of each operation round-trips through webfed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import WebfedServer

ACCOUNT = "000000000000"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "accounts.google.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"accounts.google.com:aud": "cli-app"}},
        }
    ],
}
READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
WRITE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    server = WebfedServer(tmp_path_factory.mktemp("cli"), None, {})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder: Path = tmp_path_factory.mktemp("docs")
    paths = {}
    for name, document in (("trust", TRUST), ("read", READ), ("write", WRITE)):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(document))
        paths[name] = f"file://{path}"
    return paths


def test_provider_operations(cli_server: WebfedServer) -> None:
    aws = cli_server.aws
    arn = aws(
        "iam",
        "create-open-id-connect-provider",
        "--url",
        "https://cli.example.com",
        "--client-id-list",
        "a",
    )["OpenIDConnectProviderArn"]
    aws(
        "iam",
        "add-client-id-to-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        arn,
        "--client-id",
        "b",
    )
    aws(
        "iam",
        "remove-client-id-from-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        arn,
        "--client-id",
        "a",
    )
    aws(
        "iam",
        "update-open-id-connect-provider-thumbprint",
        "--open-id-connect-provider-arn",
        arn,
        "--thumbprint-list",
        "f" * 40,
    )
    aws(
        "iam",
        "tag-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        arn,
        "--tags",
        "Key=team,Value=games",
    )
    assert aws("iam", "list-open-id-connect-provider-tags", "--open-id-connect-provider-arn", arn)[
        "Tags"
    ] == [{"Key": "team", "Value": "games"}]
    aws(
        "iam",
        "untag-open-id-connect-provider",
        "--open-id-connect-provider-arn",
        arn,
        "--tag-keys",
        "team",
    )
    described = aws("iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert (described["ClientIDList"], described["ThumbprintList"]) == (["b"], ["f" * 40])
    assert {"Arn": arn} in aws("iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"]
    aws("iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert aws("iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"] == []


def test_role_operations(cli_server: WebfedServer, files: dict[str, str]) -> None:
    aws = cli_server.aws
    aws(
        "iam",
        "create-role",
        "--role-name",
        "CliRole",
        "--assume-role-policy-document",
        files["trust"],
    )
    aws("iam", "update-role", "--role-name", "CliRole", "--max-session-duration", "7200")
    aws("iam", "update-role-description", "--role-name", "CliRole", "--description", "from the CLI")
    aws(
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "CliRole",
        "--policy-document",
        files["trust"],
    )
    role = aws("iam", "get-role", "--role-name", "CliRole")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (7200, "from the CLI")
    assert role["AssumeRolePolicyDocument"] == TRUST
    aws(
        "iam",
        "put-role-policy",
        "--role-name",
        "CliRole",
        "--policy-name",
        "read",
        "--policy-document",
        files["read"],
    )
    assert aws("iam", "list-role-policies", "--role-name", "CliRole")["PolicyNames"] == ["read"]
    assert (
        aws("iam", "get-role-policy", "--role-name", "CliRole", "--policy-name", "read")[
            "PolicyDocument"
        ]
        == READ
    )
    aws("iam", "delete-role-policy", "--role-name", "CliRole", "--policy-name", "read")
    aws("iam", "tag-role", "--role-name", "CliRole", "--tags", "Key=Project,Value=game")
    assert aws("iam", "list-role-tags", "--role-name", "CliRole")["Tags"] == [
        {"Key": "Project", "Value": "game"}
    ]
    aws("iam", "untag-role", "--role-name", "CliRole", "--tag-keys", "Project")
    assert aws("iam", "list-role-tags", "--role-name", "CliRole")["Tags"] == []
    boundary = aws(
        "iam", "create-policy", "--policy-name", "CliBoundary", "--policy-document", files["read"]
    )["Policy"]["Arn"]
    aws(
        "iam",
        "put-role-permissions-boundary",
        "--role-name",
        "CliRole",
        "--permissions-boundary",
        boundary,
    )
    assert (
        aws("iam", "get-role", "--role-name", "CliRole")["Role"]["PermissionsBoundary"][
            "PermissionsBoundaryArn"
        ]
        == boundary
    )
    aws("iam", "delete-role-permissions-boundary", "--role-name", "CliRole")
    assert "CliRole" in {
        r["RoleName"] for r in aws("iam", "list-roles", "--path-prefix", "/")["Roles"]
    }
    aws("iam", "delete-role", "--role-name", "CliRole")
    failure = aws("iam", "get-role", "--role-name", "CliRole", expect_ok=False)
    assert "NoSuchEntity" in failure.stderr


def test_managed_policy_operations(cli_server: WebfedServer, files: dict[str, str]) -> None:
    aws = cli_server.aws
    arn = aws(
        "iam", "create-policy", "--policy-name", "CliPolicy", "--policy-document", files["read"]
    )["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/CliPolicy"
    version = aws(
        "iam",
        "create-policy-version",
        "--policy-arn",
        arn,
        "--policy-document",
        files["write"],
        "--set-as-default",
    )
    assert version["PolicyVersion"]["VersionId"] == "v2"
    assert aws("iam", "get-policy", "--policy-arn", arn)["Policy"]["DefaultVersionId"] == "v2"
    assert (
        aws("iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v2")[
            "PolicyVersion"
        ]["Document"]
        == WRITE
    )
    assert len(aws("iam", "list-policy-versions", "--policy-arn", arn)["Versions"]) == 2
    aws("iam", "set-default-policy-version", "--policy-arn", arn, "--version-id", "v1")
    aws("iam", "delete-policy-version", "--policy-arn", arn, "--version-id", "v2")
    aws(
        "iam",
        "create-role",
        "--role-name",
        "Holder",
        "--assume-role-policy-document",
        files["trust"],
    )
    aws("iam", "attach-role-policy", "--role-name", "Holder", "--policy-arn", arn)
    attached = aws("iam", "list-attached-role-policies", "--role-name", "Holder")[
        "AttachedPolicies"
    ]
    assert attached == [{"PolicyName": "CliPolicy", "PolicyArn": arn}]
    listed: Any = aws("iam", "list-policies", "--scope", "Local", "--only-attached")["Policies"]
    assert [p["Arn"] for p in listed] == [arn]
    aws("iam", "detach-role-policy", "--role-name", "Holder", "--policy-arn", arn)
    aws("iam", "delete-policy", "--policy-arn", arn)
    assert "NoSuchEntity" in aws("iam", "get-policy", "--policy-arn", arn, expect_ok=False).stderr

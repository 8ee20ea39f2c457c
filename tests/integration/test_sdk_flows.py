"""The standard web identity credential provider of the AWS SDKs, against webfed, unchanged.

EKS (IRSA) and GitHub Actions hand a process ``AWS_WEB_IDENTITY_TOKEN_FILE`` + ``AWS_ROLE_ARN``
(+ ``AWS_ROLE_SESSION_NAME``); the SDK reads the token file, calls
``AssumeRoleWithWebIdentity`` itself and signs later calls with the result (AWS SDKs and Tools
Reference Guide, "Assume role credential provider" / "web identity"). ``AWS_ENDPOINT_URL_STS``
and ``AWS_ENDPOINT_URL`` ("Service-specific endpoints") point the SDK at webfed. Then a token
shaped like GitHub Actions' with a trust policy that pins its ``sub`` and ``repository`` claims
(every top-level claim is a condition key, ``docs/oidc.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    Federation,
    encoded_blob,
    error_of,
    federation,
    message_of,
)
from tests.support.oidc_issuer import OidcTestIssuer

__all__ = ["federation"]

GITHUB_AUDIENCE = "sts.amazonaws.com"
GITHUB_SUB = "repo:octo-org/octo-repo:ref:refs/heads/main"


def sdk_environment(
    federation: Federation, token_file: Path, role_arn: str, session_name: str
) -> dict[str, str]:
    """A clean environment with only what EKS / GitHub Actions would set, plus the endpoints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
        AWS_ROLE_ARN=role_arn,
        AWS_ROLE_SESSION_NAME=session_name,
        AWS_ENDPOINT_URL_STS=federation.server.url,
        AWS_ENDPOINT_URL=federation.server.url,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return tmp_path / "token"


def _apply(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


def test_boto3_session_from_environment(
    federation: Federation, token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role_arn = federation.role()
    token_file.write_text(federation.token(subject="pod-1"), encoding="utf-8")
    _apply(monkeypatch, sdk_environment(federation, token_file, role_arn, "irsa-pod"))

    session = boto3.Session()
    credentials = session.get_credentials()
    assert credentials is not None
    assert credentials.method == "assume-role-with-web-identity"
    identity = session.client("sts").get_caller_identity()
    role_name = role_arn.rsplit("/", 1)[1]
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/irsa-pod"
    assert identity["Account"] == ACCOUNT
    assert credentials.get_frozen_credentials().access_key.startswith("ASIA")


def test_boto3_session_routes_other_services(
    federation: Federation, token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``AWS_ENDPOINT_URL`` sends every other service to webfed too: an IAM call signed with the
    session's credentials authenticates (no ``InvalidClientTokenId``) and is refused, because the
    IAM control plane answers only the administrator, whatever the role's policies say."""
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}],
    }
    role_arn = federation.role(inline=allow)
    token_file.write_text(federation.token(), encoding="utf-8")
    _apply(monkeypatch, sdk_environment(federation, token_file, role_arn, "irsa-iam"))
    iam = boto3.Session().client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])
    assert error_of(caught) == ("AccessDenied", 403)
    assert "assumed-role/" in message_of(caught)


def test_boto3_rereads_the_token_file_on_refresh(
    federation: Federation, token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role_arn = federation.role()
    token_file.write_text(federation.token(audience="not-registered"), encoding="utf-8")
    _apply(monkeypatch, sdk_environment(federation, token_file, role_arn, "refresh"))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        boto3.Session().client("sts").get_caller_identity()
    assert error_of(caught)[0] == "InvalidIdentityToken"
    token_file.write_text(federation.token(), encoding="utf-8")  # the kubelet rotated it
    assert boto3.Session().client("sts").get_caller_identity()["Account"] == ACCOUNT


def test_aws_cli_from_environment(federation: Federation, token_file: Path) -> None:
    role_arn = federation.role()
    token_file.write_text(federation.token(subject="ci-job"), encoding="utf-8")
    env = sdk_environment(federation, token_file, role_arn, "cli-web-identity")
    result = subprocess.run(
        [sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["Arn"].endswith("/cli-web-identity")
    assert identity["Account"] == ACCOUNT


# --- a GitHub Actions-shaped token ----------------------------------------------------------------


def github_claims(issuer: OidcTestIssuer, **overrides: Any) -> dict[str, Any]:
    """The claims GitHub's token service puts in a job's ID token (trimmed to what matters)."""
    claims = issuer.claims(
        audience=GITHUB_AUDIENCE,
        subject=GITHUB_SUB,
        repository="octo-org/octo-repo",
        repository_owner="octo-org",
        ref="refs/heads/main",
        ref_type="branch",
        job_workflow_ref="octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        event_name="push",
        run_id="4242424242",
        runner_environment="github-hosted",
    )
    claims.update(overrides)
    return claims


@pytest.fixture(scope="module")
def github(federation: Federation) -> tuple[OidcTestIssuer, str]:
    """A GitHub-like issuer (audience ``sts.amazonaws.com``) and a deploy role pinned to one
    repository and branch, and to one reusable workflow."""
    issuer, provider_arn = federation.new_issuer(client_ids=(GITHUB_AUDIENCE,))
    prefix = issuer.url.removeprefix("http://")
    condition = {
        "StringEquals": {
            f"{prefix}:aud": GITHUB_AUDIENCE,
            f"{prefix}:sub": GITHUB_SUB,
            f"{prefix}:repository": "octo-org/octo-repo",
        },
        "StringLike": {f"{prefix}:job_workflow_ref": "octo-org/octo-repo/.github/workflows/*"},
    }
    role_arn = federation.role(
        federation.web_identity_statement(condition, provider_arn=provider_arn)
    )
    return issuer, role_arn


def test_github_actions_token_is_accepted(
    federation: Federation, github: tuple[OidcTestIssuer, str]
) -> None:
    issuer, role_arn = github
    result = federation.assume(role_arn, issuer.mint(github_claims(issuer)), RoleSessionName="gha")
    assert result["SubjectFromWebIdentityToken"] == GITHUB_SUB
    assert result["Audience"] == GITHUB_AUDIENCE


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        pytest.param({"repository": "evil-org/octo-repo"}, "repository", id="other-repository"),
        pytest.param(
            {"sub": "repo:octo-org/octo-repo:pull_request"}, "sub", id="pull-request-subject"
        ),
        pytest.param(
            {"job_workflow_ref": "evil-org/x/.github/workflows/a.yml@refs/heads/main"},
            "job_workflow_ref",
            id="foreign-workflow",
        ),
        pytest.param({"repository": "Octo-Org/octo-repo"}, "repository", id="case-differs"),
    ],
)
def test_github_actions_pins(
    federation: Federation,
    github: tuple[OidcTestIssuer, str],
    overrides: dict[str, Any],
    key: str,
) -> None:
    issuer, role_arn = github
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, issuer.mint(github_claims(issuer, **overrides)))
    assert error_of(caught) == ("AccessDenied", 403)
    decoded = json.dumps(federation.decode(encoded_blob(message_of(caught))))
    assert f":{key}" in decoded


def test_github_actions_through_the_sdk_environment(
    federation: Federation,
    github: tuple[OidcTestIssuer, str],
    token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issuer, role_arn = github
    token_file.write_text(issuer.mint(github_claims(issuer)), encoding="utf-8")
    _apply(monkeypatch, sdk_environment(federation, token_file, role_arn, "gha-deploy"))
    identity = boto3.Session().client("sts").get_caller_identity()
    assert identity["Arn"].endswith("/gha-deploy")

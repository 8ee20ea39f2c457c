"""Session revocation through a real ``webfed serve``, boto3 and ``webfed sessions``.

Each kind of rule (one session's access key, a web identity subject, a role, the whole account)
ends the sessions issued before it within the documented bound (two seconds), leaves the other
sessions alone and lets the same subject or role sign in again afterwards. The refusal is
``InvalidClientTokenId`` with an encoded message the administrator decodes to the rule. AWS's own
way, a role policy denying sessions whose ``aws:TokenIssueTime`` is before a moment, works too.
SQLite here; ``test_multinode.py`` runs revocations on PostgreSQL across three nodes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import pytest
from click.testing import CliRunner

from tests.integration.test_federation_harness import (
    Federation,
    encoded_blob,
    error_of,
    federation_for,
)
from webfed.cli import main

# The documented bound is two seconds (one poll, one load); the slack absorbs a loaded machine.
BOUND = 2.0
DEADLINE = BOUND + 2.0
DECODE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}],
}


@pytest.fixture(scope="module", params=["sqlite"])
def federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    yield from federation_for(request, tmp_path_factory)


def sessions_cli(fed: Federation, *args: str) -> str:
    """Run ``webfed sessions ...`` against the server's database; its output."""
    result = CliRunner().invoke(
        main, ["sessions", *args, "--data-dir", str(fed.server.data_dir)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def revoke(fed: Federation, *args: str) -> datetime:
    """Revoke; the rule's "issued before" moment (from ``sessions list``)."""
    output = sessions_cli(fed, "revoke", *args)
    rule_id = int(output.split("(rule ", 1)[1].split(")", 1)[0])
    for line in sessions_cli(fed, "list", "--json").splitlines():
        rule = json.loads(line)
        if rule["rule"] == rule_id:
            return datetime.fromisoformat(rule["issuedBefore"])
    raise AssertionError(f"rule {rule_id} not listed")


def wait_until(moment: datetime) -> None:
    """Sleep past ``moment``, so sessions minted next are issued at or after it."""
    remaining = (moment - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.05)


def eventually(check: Callable[[], object], deadline: float = DEADLINE) -> float:
    """Poll ``check`` until it stops failing; the seconds that took."""
    started = time.monotonic()
    while True:
        try:
            check()
            return time.monotonic() - started
        except (AssertionError, botocore.exceptions.ClientError):
            if time.monotonic() - started > deadline:
                raise
            time.sleep(0.1)


def caller_arn(fed: Federation, credentials: dict[str, Any]) -> str:
    return str(fed.session_client("sts", credentials).get_caller_identity()["Arn"])


def refused(fed: Federation, credentials: dict[str, Any]) -> botocore.exceptions.ClientError:
    """The refusal of a revoked session (``AssertionError`` while it still works)."""
    try:
        fed.session_client("sts", credentials).get_caller_identity()
    except botocore.exceptions.ClientError as error:
        response = error.response
        assert response["Error"]["Code"] == "InvalidClientTokenId", response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return error
    raise AssertionError("the session still works")


def assume(fed: Federation, role_arn: str, subject: str) -> dict[str, Any]:
    credentials: dict[str, Any] = fed.assume(role_arn, fed.token(subject=subject))["Credentials"]
    return credentials


def test_revoking_one_session_by_its_access_key(federation: Federation) -> None:
    role = federation.role()
    first, second = assume(federation, role, "alice"), assume(federation, role, "alice")
    revoke(federation, "--access-key-id", first["AccessKeyId"], "--reason", "laptop stolen")
    took = eventually(lambda: refused(federation, first))
    assert took <= DEADLINE
    assert caller_arn(federation, second).endswith("/app1")  # the same user's other session
    message = str(refused(federation, first).response["Error"]["Message"])
    assert message.startswith("The security token included in the request is invalid.")
    decoded = federation.decode(encoded_blob(message))
    assert decoded["check"] == "session-token"
    revocation = decoded["revocation"]
    assert revocation["kind"] == "access-key"
    assert revocation["target"] == first["AccessKeyId"]
    assert revocation["note"] == "laptop stolen"
    assert first["SecretAccessKey"] not in json.dumps(decoded)
    assert first["SessionToken"] not in json.dumps(decoded)


def test_revoking_a_subject_then_signing_in_again(federation: Federation) -> None:
    roles = [federation.role(), federation.role()]
    alice = [assume(federation, role, "carol") for role in roles]
    bob = assume(federation, roles[0], "dave")
    moment = revoke(federation, "--sub", "carol", "--provider", federation.issuer.url)
    for credentials in alice:
        eventually(lambda credentials=credentials: refused(federation, credentials))  # type: ignore[misc]
    assert caller_arn(federation, bob)
    wait_until(moment)
    again = assume(federation, roles[1], "carol")
    assert caller_arn(federation, again).endswith("/app1")


def test_a_subject_rule_of_another_provider_does_not_match(federation: Federation) -> None:
    role = federation.role()
    erin, frank = assume(federation, role, "erin"), assume(federation, role, "frank2")
    revoke(federation, "--sub", "erin", "--provider", "https://accounts.google.com")
    revoke(federation, "--sub", "frank2", "--provider", federation.issuer.url)
    # Rules load together, in order: once the later one is enforced, the earlier one is loaded.
    eventually(lambda: refused(federation, frank))
    assert caller_arn(federation, erin)


def test_revoking_a_role_then_the_whole_account(federation: Federation) -> None:
    revoked_role, other_role = federation.role(), federation.role()
    revoked = assume(federation, revoked_role, "frank")
    other = assume(federation, other_role, "frank")
    moment = revoke(federation, "--role", revoked_role.rsplit("/", 1)[1])
    eventually(lambda: refused(federation, revoked))
    assert caller_arn(federation, other)
    wait_until(moment)
    assert caller_arn(federation, assume(federation, revoked_role, "frank"))

    moment = revoke(federation, "--all")
    eventually(lambda: refused(federation, other))
    assert federation.sts.get_caller_identity()["Arn"].endswith(":root")  # admin: no session
    wait_until(moment)
    assert caller_arn(federation, assume(federation, other_role, "frank"))


def test_aws_policy_based_revocation_works_through_webfed(federation: Federation) -> None:
    """IAM User Guide, "Revoking IAM role temporary security credentials": an inline policy
    (``AWSRevokeOlderSessions``) denying everything to sessions issued before a moment."""
    role = federation.role(inline=DECODE)
    old = assume(federation, role, "grace")

    def decode_with(credentials: dict[str, Any]) -> None:
        client = federation.session_client("sts", credentials)
        client.decode_authorization_message(EncodedMessage="not-a-message")

    def decode_allowed(credentials: dict[str, Any]) -> None:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            decode_with(credentials)
        assert error_of(caught)[0] == "InvalidAuthorizationMessageException"  # got past authz

    decode_allowed(old)
    moment = datetime.fromtimestamp(int(time.time()) + 1, UTC)  # after `old` was issued
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "DateLessThan": {"aws:TokenIssueTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
                },
            }
        ],
    }
    federation.iam.put_role_policy(
        RoleName=role.rsplit("/", 1)[1],
        PolicyName="AWSRevokeOlderSessions",
        PolicyDocument=json.dumps(deny),
    )

    def old_denied() -> None:
        try:
            decode_with(old)
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied", error.response
            return
        raise AssertionError("the old session is still allowed")

    eventually(old_denied)
    wait_until(moment)
    decode_allowed(assume(federation, role, "grace"))

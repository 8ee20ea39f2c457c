"""What a web identity session carries: tags, source identity, chaining, decodable denials.

* Session tags and source identity in the token need ``sts:TagSession`` / ``sts:SetSourceIdentity``
  in the trust policy (IAM User Guide, "Passing session tags in AWS STS", "Monitor and control
  actions taken with assumed roles"); chaining with ``AssumeRole`` carries the transitive tags
  and the source identity, and is limited to one hour ("Role chaining").
* ``DecodeAuthorizationMessage`` (STS API reference): who may decode, and what a tampered blob gets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    Federation,
    encoded_blob,
    error_of,
    federation,
    message_of,
    statement,
)

__all__ = ["federation"]

TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_CLAIM = "https://aws.amazon.com/source_identity"
CHAINING = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "Resource": "*",
        }
    ],
}
ALLOW_DECODE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}],
}


def tags_claim(transitive: tuple[str, ...] = (), **tags: str) -> dict[str, Any]:
    return {
        TAGS_CLAIM: {
            "principal_tags": {key: [value] for key, value in tags.items()},
            "transitive_tag_keys": list(transitive),
        }
    }


def _refusal(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    code, status = error_of(caught)
    return code, status, message_of(caught)


# --- session tags and source identity in the token ---------------------------------------------


def test_tags_need_tag_session(federation: Federation) -> None:
    arn = federation.role()
    token = federation.token(**tags_claim(Project="Automation"))
    code, status, message = _refusal(federation.assume, role_arn=arn, token=token)
    assert (code, status) == ("AccessDenied", 403)
    assert "sts:TagSession" in message
    decoded = json.dumps(federation.decode(encoded_blob(message)))
    assert "sts:TagSession" in decoded


def test_source_identity_needs_set_source_identity(federation: Federation) -> None:
    arn = federation.role()
    token = federation.token(**{SOURCE_CLAIM: "alice"})
    code, status, message = _refusal(federation.assume, role_arn=arn, token=token)
    assert (code, status) == ("AccessDenied", 403)
    assert "sts:SetSourceIdentity" in json.dumps(federation.decode(encoded_blob(message)))


def test_request_tag_conditions(federation: Federation) -> None:
    arn = federation.role(
        federation.web_identity_statement(),
        federation.web_identity_statement(
            {"StringEquals": {"aws:RequestTag/Project": "Automation"}}, actions="sts:TagSession"
        ),
    )
    allowed = federation.token(**tags_claim(Project="Automation"))
    result = federation.assume(arn, allowed)
    assert 0 < result["PackedPolicySize"] <= 100
    code, _, message = _refusal(
        federation.assume, role_arn=arn, token=federation.token(**tags_claim(Project="Other"))
    )
    assert code == "AccessDenied"
    decoded = json.dumps(federation.decode(encoded_blob(message)))
    assert "aws:RequestTag/Project" in decoded
    assert "Other" in decoded


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param({TAGS_CLAIM: {"principal_tags": {"k": ["a", "b"]}}}, id="two-values"),
        pytest.param({TAGS_CLAIM: {"principal_tags": {"aws:k": ["v"]}}}, id="aws-prefix"),
        pytest.param(tags_claim(("Missing",), Present="v"), id="transitive-not-a-tag"),
        pytest.param({SOURCE_CLAIM: "x"}, id="source-identity-too-short"),
        pytest.param({SOURCE_CLAIM: "has space"}, id="source-identity-bad-char"),
    ],
)
def test_malformed_tag_claims(federation: Federation, claim: dict[str, Any]) -> None:
    arn = federation.role(
        federation.web_identity_statement(
            actions=["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"]
        )
    )
    code, status, _ = _refusal(federation.assume, role_arn=arn, token=federation.token(**claim))
    assert (code, status) == ("InvalidIdentityToken", 400)


# --- role chaining -----------------------------------------------------------------------------


def _chain_target(federation: Federation, caller_role: str, condition: dict[str, Any]) -> str:
    return federation.role(
        statement(
            {"AWS": caller_role},
            ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            condition,
        ),
        max_session=7200,
        inline=CHAINING,
    )


@pytest.fixture(scope="module")
def tagged_session(federation: Federation) -> tuple[str, dict[str, Any]]:
    """A web identity session with a transitive tag, a plain tag and a source identity."""
    arn = federation.role(
        federation.web_identity_statement(
            actions=["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"]
        ),
        inline=CHAINING,
    )
    claims = tags_claim(("Project",), Project="Automation", Desk="blue") | {SOURCE_CLAIM: "alice"}
    result = federation.assume(arn, federation.token(**claims))
    assert result["SourceIdentity"] == "alice"
    return arn, result["Credentials"]


def test_chaining_carries_transitive_tags_and_source_identity(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    first_role, credentials = tagged_session
    carried = {
        "StringEquals": {"aws:PrincipalTag/Project": "Automation", "aws:SourceIdentity": "alice"}
    }
    second_role = _chain_target(federation, first_role, carried)
    sts = federation.session_client("sts", credentials)
    second = sts.assume_role(RoleArn=second_role, RoleSessionName="hop-1")
    assert second["SourceIdentity"] == "alice"
    assert second["AssumedRoleUser"]["Arn"].endswith(f"/{second_role.rsplit('/', 1)[1]}/hop-1")

    # One hop further: only what is transitive is still there.
    third_role = _chain_target(federation, second_role, carried)
    plain_tag_role = _chain_target(
        federation, second_role, {"StringEquals": {"aws:PrincipalTag/Desk": "blue"}}
    )
    hop = federation.session_client("sts", second["Credentials"])
    assert hop.assume_role(RoleArn=third_role, RoleSessionName="hop-2")["SourceIdentity"] == "alice"
    code, status, _ = _refusal(hop.assume_role, RoleArn=plain_tag_role, RoleSessionName="hop-2")
    assert (code, status) == ("AccessDenied", 403)


def test_chaining_cannot_change_source_identity(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    first_role, credentials = tagged_session
    target = _chain_target(federation, first_role, {})
    sts = federation.session_client("sts", credentials)
    code, status, _ = _refusal(
        sts.assume_role, RoleArn=target, RoleSessionName="session", SourceIdentity="mallory"
    )
    assert status == 400
    assert code == "ValidationError"


def test_chaining_cannot_override_transitive_tag(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    first_role, credentials = tagged_session
    target = _chain_target(federation, first_role, {})
    sts = federation.session_client("sts", credentials)
    code, status, _ = _refusal(
        sts.assume_role,
        RoleArn=target,
        RoleSessionName="session",
        Tags=[{"Key": "project", "Value": "Other"}],
    )
    assert (code, status) == ("InvalidParameterValue", 400)


def test_chained_duration_limit(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    first_role, credentials = tagged_session
    target = _chain_target(federation, first_role, {})
    sts = federation.session_client("sts", credentials)
    code, status, message = _refusal(
        sts.assume_role, RoleArn=target, RoleSessionName="session", DurationSeconds=3601
    )
    assert (code, status) == ("ValidationError", 400)
    assert "1 hour" in message
    started = datetime.now(UTC)
    ok = sts.assume_role(RoleArn=target, RoleSessionName="session", DurationSeconds=3600)
    expiration = ok["Credentials"]["Expiration"]
    assert abs((expiration - started - timedelta(hours=1)).total_seconds()) < 5


def test_chaining_to_a_role_that_does_not_trust_the_caller(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    _, credentials = tagged_session
    stranger = federation.role(statement({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}, "sts:*"))
    sts = federation.session_client("sts", credentials)
    code, status, message = _refusal(sts.assume_role, RoleArn=stranger, RoleSessionName="session")
    assert (code, status) == ("AccessDenied", 403)
    assert "trust" in json.dumps(federation.decode(encoded_blob(message))).lower()


def test_web_identity_keys_survive_into_chaining(
    federation: Federation, tagged_session: tuple[str, dict[str, Any]]
) -> None:
    """``<p>:sub`` and ``<p>:aud`` stay available to the next trust policy (IAM User Guide,
    "Available keys for web identity federation")."""
    first_role, credentials = tagged_session
    prefix = federation.prefix
    matching = _chain_target(federation, first_role, {"StringEquals": {f"{prefix}:sub": "user-1"}})
    other = _chain_target(federation, first_role, {"StringEquals": {f"{prefix}:sub": "user-2"}})
    sts = federation.session_client("sts", credentials)
    assert sts.assume_role(RoleArn=matching, RoleSessionName="by-sub")["Credentials"]
    code, status, _ = _refusal(sts.assume_role, RoleArn=other, RoleSessionName="by-sub")
    assert (code, status) == ("AccessDenied", 403)


def test_session_policy_limits_chaining(federation: Federation) -> None:
    """The caller's session policy is part of its permissions: without ``sts:AssumeRole`` in it,
    chaining is denied even though the role's own policy and the target's trust allow it."""
    first_role = federation.role(inline=CHAINING)
    only_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    narrowed = federation.assume(first_role, federation.token(), Policy=json.dumps(only_s3))
    target = _chain_target(federation, first_role, {})
    sts = federation.session_client("sts", narrowed["Credentials"])
    code, status, _ = _refusal(sts.assume_role, RoleArn=target, RoleSessionName="narrowed")
    assert (code, status) == ("AccessDenied", 403)
    wide = federation.assume(first_role, federation.token())["Credentials"]
    wide_sts = federation.session_client("sts", wide)
    assert wide_sts.assume_role(RoleArn=target, RoleSessionName="wide")["Credentials"]


def test_admin_cannot_assume_role(federation: Federation) -> None:
    target = federation.role(statement({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "sts:AssumeRole"))
    code, status, _ = _refusal(
        federation.sts.assume_role, RoleArn=target, RoleSessionName="session"
    )
    assert (code, status) == ("AccessDenied", 403)


# --- DecodeAuthorizationMessage ----------------------------------------------------------------


@pytest.fixture(scope="module")
def denial(federation: Federation) -> tuple[str, str]:
    """A real denial blob, and the token whose denial it explains."""
    arn = federation.role()
    wrong = federation.token(audience="not-our-client", subject="decode-me")
    code, _, message = _refusal(federation.assume, role_arn=arn, token=wrong)
    assert code == "InvalidIdentityToken"
    return encoded_blob(message), wrong


def test_admin_decodes(federation: Federation, denial: tuple[str, str]) -> None:
    blob, token = denial
    decoded_text = federation.sts.decode_authorization_message(EncodedMessage=blob)[
        "DecodedMessage"
    ]
    decoded = json.loads(decoded_text)
    assert decoded["check"] == "audience"
    assert token not in decoded_text
    assert token.split(".")[2] not in decoded_text  # not even the signature


def test_session_without_permission_cannot_decode(
    federation: Federation, denial: tuple[str, str]
) -> None:
    credentials = federation.assume(federation.role(), federation.token())["Credentials"]
    client = federation.session_client("sts", credentials)
    code, status, message = _refusal(client.decode_authorization_message, EncodedMessage=denial[0])
    assert (code, status) == ("AccessDenied", 403)
    assert "sts:DecodeAuthorizationMessage" in message


def test_session_with_permission_decodes(federation: Federation, denial: tuple[str, str]) -> None:
    credentials = federation.assume(federation.role(inline=ALLOW_DECODE), federation.token())[
        "Credentials"
    ]
    client = federation.session_client("sts", credentials)
    decoded = client.decode_authorization_message(EncodedMessage=denial[0])["DecodedMessage"]
    assert json.loads(decoded)["check"] == "audience"


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(
            lambda blob: blob[:-4] + ("AAAA" if blob[-4:] != "AAAA" else "BBBB"), id="tail"
        ),
        pytest.param(lambda blob: blob[:20], id="truncated"),
        pytest.param(lambda blob: "not-a-message", id="garbage"),
    ],
)
def test_tampered_message(federation: Federation, denial: tuple[str, str], mangle: Any) -> None:
    code, status, _ = _refusal(
        federation.sts.decode_authorization_message, EncodedMessage=mangle(denial[0])
    )
    assert (code, status) == ("InvalidAuthorizationMessageException", 400)


def test_aws_cli_decodes(federation: Federation, denial: tuple[str, str]) -> None:
    result = federation.server.aws(
        "sts", "decode-authorization-message", "--encoded-message", denial[0]
    )
    assert json.loads(result["DecodedMessage"])["check"] == "audience"


def test_a_session_of_a_deleted_and_recreated_role_cannot_chain(federation: Federation) -> None:
    name = f"recreated-{datetime.now(UTC).strftime('%H%M%S%f')}"
    first = federation.role(name=name, inline=CHAINING)
    credentials = federation.assume(first, federation.token())["Credentials"]
    target = federation.role(statement({"AWS": first}, "sts:AssumeRole"))
    sts = federation.session_client("sts", credentials)
    assert sts.assume_role(RoleArn=target, RoleSessionName="before")["Credentials"]
    federation.iam.delete_role_policy(RoleName=name, PolicyName="inline")
    federation.iam.delete_role(RoleName=name)
    federation.role(name=name, inline=CHAINING)  # same name and ARN, a new role id
    refusals: list[tuple[str, int, str]] = []

    def refused() -> None:
        refusals.append(_refusal(sts.assume_role, RoleArn=target, RoleSessionName="after"))

    federation.wait_for_iam(refused)  # same node: the delete is seen at once; polled to be sure
    code, status, message = refusals[-1]
    assert (code, status) == ("AccessDenied", 403)
    assert "no longer exists" in json.dumps(federation.decode(encoded_blob(message)))

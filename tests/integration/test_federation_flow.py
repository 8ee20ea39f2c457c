"""``AssumeRoleWithWebIdentity`` end to end: the happy path, every response member, and every
request parameter constraint with AWS's error code and HTTP status (STS API reference,
"AssumeRoleWithWebIdentity"; spec §1.2-§1.4). Real ``webfed serve``, real boto3 and AWS CLI.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import botocore.exceptions
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    CLIENT_ID,
    Federation,
    encoded_blob,
    error_of,
    federation,
    message_of,
    statement,
    unique,
)

__all__ = ["federation"]

ALLOW_S3_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"},
    ],
}


@pytest.fixture(scope="module")
def role_arn(federation: Federation) -> str:
    return federation.role(max_session=7200, inline=ALLOW_S3_READ)


def _close_to(moment: datetime, expected: datetime, slack: float = 5.0) -> bool:
    return abs((moment - expected).total_seconds()) <= slack


# --- happy path ---------------------------------------------------------------------------------


def test_boto3_happy_path_every_member(federation: Federation, role_arn: str) -> None:
    token = federation.token(subject="player-0001")
    started = datetime.now(UTC)
    result = federation.assume(role_arn, token, RoleSessionName="app1", DurationSeconds=1800)

    credentials = result["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert len(credentials["SessionToken"]) > 40
    assert _close_to(credentials["Expiration"], started + timedelta(seconds=1800))
    assert result["SubjectFromWebIdentityToken"] == "player-0001"
    role_name = role_arn.rsplit("/", 1)[1]
    user = result["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/app1"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:app1", user["AssumedRoleId"])
    assert result["Provider"] == federation.issuer.url
    assert result["Audience"] == CLIENT_ID
    assert "PackedPolicySize" not in result  # neither session policies nor tags were passed
    assert "SourceIdentity" not in result

    identity = federation.session_client("sts", credentials).get_caller_identity()
    assert identity["Arn"] == user["Arn"]
    assert identity["UserId"] == user["AssumedRoleId"]
    assert identity["Account"] == ACCOUNT


def test_default_duration_is_one_hour(federation: Federation, role_arn: str) -> None:
    started = datetime.now(UTC)
    result = federation.assume(role_arn, federation.token())
    assert _close_to(result["Credentials"]["Expiration"], started + timedelta(hours=1))


def test_session_policy_reports_packed_size(federation: Federation, role_arn: str) -> None:
    narrow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    result = federation.assume(role_arn, federation.token(), Policy=json.dumps(narrow))
    assert 0 < result["PackedPolicySize"] <= 100


def test_source_identity_in_response(federation: Federation) -> None:
    arn = federation.role(
        federation.web_identity_statement(
            actions=["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"]
        )
    )
    token = federation.token(**{"https://aws.amazon.com/source_identity": "alice@example"})
    result = federation.assume(arn, token)
    assert result["SourceIdentity"] == "alice@example"


def test_aws_cli_happy_path(federation: Federation, role_arn: str) -> None:
    token = federation.token(subject="cli-user-1")
    result = federation.server.aws(
        "sts",
        "assume-role-with-web-identity",
        "--role-arn",
        role_arn,
        "--role-session-name",
        "cli-session",
        "--web-identity-token",
        token,
        "--duration-seconds",
        "900",
    )
    assert result["SubjectFromWebIdentityToken"] == "cli-user-1"
    assert result["AssumedRoleUser"]["Arn"].endswith("/cli-session")
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    expiration = datetime.fromisoformat(result["Credentials"]["Expiration"])
    assert _close_to(expiration, datetime.now(UTC) + timedelta(seconds=900))
    credentials = result["Credentials"]
    identity = federation.session_client("sts", credentials).get_caller_identity()
    assert identity["Arn"] == result["AssumedRoleUser"]["Arn"]


# --- parameter constraints ----------------------------------------------------------------------

SESSION_NAMES = [
    pytest.param("a", "ValidationError", id="name-too-short"),
    pytest.param("n" * 65, "ValidationError", id="name-too-long"),
    pytest.param("has space", "ValidationError", id="name-space"),
    pytest.param("slash/name", "ValidationError", id="name-slash"),
    pytest.param("colon:name", "ValidationError", id="name-colon"),
    pytest.param("ok", None, id="name-2-chars"),
    pytest.param("n" * 64, None, id="name-64-chars"),
    pytest.param("a_b+c=d,e.f@g-h", None, id="name-every-allowed-symbol"),
]


@pytest.mark.parametrize(("name", "code"), SESSION_NAMES)
def test_role_session_name(
    federation: Federation, role_arn: str, name: str, code: str | None
) -> None:
    if code is None:
        result = federation.assume(role_arn, federation.token(), RoleSessionName=name)
        assert result["AssumedRoleUser"]["Arn"].endswith(f"/{name}")
        return
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), RoleSessionName=name)
    assert error_of(caught) == (code, 400)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("abc", id="3-chars"),
        pytest.param("a" * 20_001, id="20001-chars"),
    ],
)
def test_web_identity_token_length(federation: Federation, role_arn: str, token: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, token)
    assert error_of(caught) == ("ValidationError", 400)


def test_web_identity_token_not_a_jwt(federation: Federation, role_arn: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, "not-a-token-at-all")
    assert error_of(caught) == ("InvalidIdentityToken", 400)


@pytest.mark.parametrize(
    ("duration", "code"),
    [
        pytest.param(899, "ValidationError", id="below-900"),
        pytest.param(43_201, "ValidationError", id="above-43200"),
        pytest.param(7201, "ValidationError", id="above-role-max"),
        pytest.param(900, None, id="900"),
        pytest.param(7200, None, id="role-max"),
    ],
)
def test_duration_seconds(
    federation: Federation, role_arn: str, duration: int, code: str | None
) -> None:
    if code is None:
        started = datetime.now(UTC)
        result = federation.assume(role_arn, federation.token(), DurationSeconds=duration)
        expected = started + timedelta(seconds=duration)
        assert _close_to(result["Credentials"]["Expiration"], expected)
        return
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), DurationSeconds=duration)
    assert error_of(caught) == (code, 400)


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        pytest.param("{not json", "MalformedPolicyDocument", id="not-json"),
        pytest.param('{"Version":"2012-10-17"}', "MalformedPolicyDocument", id="no-statement"),
        pytest.param(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}',
            "MalformedPolicyDocument",
            id="bad-effect",
        ),
        pytest.param("x" * 2049, "ValidationError", id="over-2048-chars"),
    ],
)
def test_session_policy_errors(
    federation: Federation, role_arn: str, policy: str, code: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), Policy=policy)
    assert error_of(caught) == (code, 400)


def test_session_policy_narrows_the_role(federation: Federation, role_arn: str) -> None:
    only_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    blob = encoded_blob(_denial_message(federation, role_arn))
    wide = federation.assume(role_arn, federation.token())["Credentials"]
    decoded = federation.session_client("sts", wide).decode_authorization_message(
        EncodedMessage=blob
    )
    assert "DecodedMessage" in decoded
    narrow = federation.assume(role_arn, federation.token(), Policy=json.dumps(only_s3))
    client = federation.session_client("sts", narrow["Credentials"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.decode_authorization_message(EncodedMessage=blob)
    assert error_of(caught) == ("AccessDenied", 403)


def _denial_message(federation: Federation, role_arn: str) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(audience="other-client"))
    return message_of(caught)


def test_policy_arns(federation: Federation, role_arn: str) -> None:
    managed = federation.iam.create_policy(
        PolicyName=unique("session"), PolicyDocument=json.dumps(ALLOW_S3_READ)
    )["Policy"]["Arn"]
    ok = federation.assume(role_arn, federation.token(), PolicyArns=[{"arn": managed}])
    assert ok["PackedPolicySize"] >= 0

    eleven = [{"arn": managed}] * 11
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), PolicyArns=eleven)
    assert error_of(caught) == ("ValidationError", 400)

    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique('absent')}"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), PolicyArns=[{"arn": missing}])
    assert error_of(caught) == ("MalformedPolicyDocument", 400)

    other_account = managed.replace(f"::{ACCOUNT}:", "::111122223333:")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), PolicyArns=[{"arn": other_account}])
    assert error_of(caught) == ("MalformedPolicyDocument", 400)  # not a policy of this account


def test_provider_id_for_id_tokens_is_refused(federation: Federation, role_arn: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), ProviderId="www.amazon.com")
    assert error_of(caught) == ("InvalidIdentityToken", 400)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, federation.token(), ProviderId="abc")
    assert error_of(caught) == ("ValidationError", 400)


# --- denials with decodable messages --------------------------------------------------------------


def test_unknown_role_is_access_denied(federation: Federation) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(missing, federation.token())
    assert error_of(caught) == ("AccessDenied", 403)
    decoded = federation.decode(encoded_blob(message_of(caught)))
    assert "does not exist" in json.dumps(decoded)


def test_role_in_another_account_is_access_denied(federation: Federation, role_arn: str) -> None:
    other = role_arn.replace(f"::{ACCOUNT}:", "::111122223333:")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(other, federation.token())
    assert error_of(caught) == ("AccessDenied", 403)


def test_malformed_role_arn(federation: Federation) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume("arn:aws:iam::000000000000:user/someone", federation.token())
    assert error_of(caught) == ("ValidationError", 400)


def test_trust_mismatch_names_the_condition(federation: Federation) -> None:
    arn = federation.role(
        federation.web_identity_statement(
            {"StringEquals": {f"{federation.prefix}:sub": "expected-user"}}
        )
    )
    token = federation.token(subject="someone-else")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(arn, token)
    assert error_of(caught) == ("AccessDenied", 403)
    message = message_of(caught)
    assert message.startswith("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    decoded = federation.decode(encoded_blob(message))
    text = json.dumps(decoded)
    assert f"{federation.prefix}:sub" in text
    assert "someone-else" in text
    assert "expected-user" in text
    assert token not in text


def test_trust_policy_for_another_provider(federation: Federation) -> None:
    arn = federation.role(
        statement(
            {"Federated": "accounts.google.com"},
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {"accounts.google.com:aud": CLIENT_ID}},
        )
    )
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(arn, federation.token())
    assert error_of(caught) == ("AccessDenied", 403)


def test_explicit_deny_wins(federation: Federation) -> None:
    deny = federation.web_identity_statement(
        {"StringEquals": {f"{federation.prefix}:sub": "banned"}}
    )
    deny["Effect"] = "Deny"
    arn = federation.role(federation.web_identity_statement(), deny)
    assert federation.assume(arn, federation.token(subject="fine-user"))["Credentials"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(arn, federation.token(subject="banned"))
    assert error_of(caught) == ("AccessDenied", 403)
    assert "explicit" in json.dumps(federation.decode(encoded_blob(message_of(caught)))).lower()


def test_role_session_name_condition(federation: Federation) -> None:
    arn = federation.role(
        federation.web_identity_statement(
            {
                "StringEquals": {f"{federation.prefix}:aud": CLIENT_ID},
                "StringLike": {"sts:RoleSessionName": "${" + federation.prefix + ":sub}"},
            }
        )
    )
    token = federation.token(subject="player-7")
    assert federation.assume(arn, token, RoleSessionName="player-7")["Credentials"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(arn, token, RoleSessionName="player-8")
    assert error_of(caught) == ("AccessDenied", 403)


def test_missing_parameters(federation: Federation, role_arn: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.sts.assume_role_with_web_identity(
            RoleArn=role_arn, WebIdentityToken=federation.token()
        )
    assert error_of(caught)[1] == 400
    assert error_of(caught)[0] == "ValidationError"

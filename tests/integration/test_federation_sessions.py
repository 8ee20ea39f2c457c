"""What a web identity session carries and how it ends.

* Session tags and source identity in the token need ``sts:TagSession`` / ``sts:SetSourceIdentity``
  in the trust policy (IAM User Guide, "Passing session tags in AWS STS", "Monitor and control
  actions taken with assumed roles"); chaining with ``AssumeRole`` carries the transitive tags
  and the source identity, and is limited to one hour ("Role chaining").
* ``DecodeAuthorizationMessage`` (STS API reference): who may decode, and what a tampered blob gets.
* Expired and tampered session tokens; sealing-key rotation while the server runs
  (``docs/credentials.md``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

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
)
from webfed.core.credentials import SessionContext, WebIdentity, mint_credentials
from webfed.master_key import load_or_create_master_key
from webfed.storage import Store
from webfed.storage.keys import load_key_ring

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
    token = federation.token(audience=CLIENT_ID, subject="decode-me")
    wrong = federation.issuer.mint(federation.issuer.claims(subject="decode-me") | {"aud": "x"})
    code, _, message = _refusal(federation.assume, role_arn=arn, token=wrong)
    assert code == "InvalidIdentityToken"
    del token
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


# --- expired and tampered session tokens -------------------------------------------------------


def _server_database_url(federation: Federation) -> str:
    if federation.server.database_url:
        return federation.server.database_url
    return f"sqlite+aiosqlite:///{(federation.server.data_dir / 'webfed.db').resolve()}"


async def _mint_expired(federation: Federation, role_arn: str) -> dict[str, str]:
    """Seal an already-expired session with the server's own key ring (read from its store with
    its master key file): the only way to hold expired credentials without waiting 15 minutes."""
    master, created = load_or_create_master_key(federation.server.data_dir, None)
    assert not created
    store = await Store.open(_server_database_url(federation))
    try:
        ring = await load_key_ring(store, master, datetime.now(UTC))
    finally:
        await store.close()
    role = federation.iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    issued = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    session = SessionContext(
        account_id=ACCOUNT,
        role_arn=role_arn,
        role_id=role["RoleId"],
        role_name=role["RoleName"],
        session_name="expired",
        issued_at=issued,
        expires_at=issued + timedelta(seconds=900),
        web_identity=WebIdentity(provider=federation.prefix, aud=CLIENT_ID, sub="user-1"),
    )
    minted = mint_credentials(session, key_ring=ring, rng=random.Random())
    return {
        "AccessKeyId": minted.access_key_id,
        "SecretAccessKey": minted.secret_access_key,
        "SessionToken": minted.session_token,
    }


def test_expired_credentials(federation: Federation) -> None:
    arn = federation.role()
    credentials = asyncio.run(_mint_expired(federation, arn))
    client = federation.session_client("sts", credentials)
    code, status, message = _refusal(client.get_caller_identity)
    assert (code, status) == ("ExpiredToken", 403)  # as AWS STS answers an expired session
    assert credentials["SessionToken"] not in message


def test_tampered_session_token(federation: Federation) -> None:
    credentials = dict(federation.assume(federation.role(), federation.token())["Credentials"])
    token = credentials["SessionToken"]
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    credentials["SessionToken"] = token[:middle] + flipped + token[middle + 1 :]
    client = federation.session_client("sts", credentials)
    code, status, _ = _refusal(client.get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_session_token_of_another_access_key(federation: Federation) -> None:
    first = federation.assume(federation.role(), federation.token())["Credentials"]
    second = federation.assume(federation.role(), federation.token())["Credentials"]
    mixed = {**second, "SessionToken": first["SessionToken"]}
    code, status, _ = _refusal(federation.session_client("sts", mixed).get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


# --- sealing-key rotation while the server runs --------------------------------------------------


def _webfed_keys(federation: Federation, *args: str) -> str:
    command = [sys.executable, "-m", "webfed", "keys", *args]
    command += ["--data-dir", str(federation.server.data_dir)]
    if federation.server.database_url:
        command += ["--database-url", federation.server.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_key_rotation_keeps_old_sessions(federation: Federation) -> None:
    arn = federation.role()
    before = federation.assume(arn, federation.token(subject="before"))
    _webfed_keys(federation, "rotate")
    listing = _webfed_keys(federation, "list")
    assert "(current)" in listing
    old = federation.session_client("sts", before["Credentials"]).get_caller_identity()
    assert old["Arn"] == before["AssumedRoleUser"]["Arn"]
    after = federation.assume(arn, federation.token(subject="after"))
    new = federation.session_client("sts", after["Credentials"]).get_caller_identity()
    assert new["Arn"] == after["AssumedRoleUser"]["Arn"]

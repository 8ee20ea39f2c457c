"""Identity-pool management through a real ``webfed serve`` with boto3 and the AWS CLI.

Runs on SQLite and PostgreSQL (the ``server`` fixture); proves the JSON 1.1 wire (target
routing, timestamps, error envelopes and statuses) for every management operation.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import ADMIN_KEY_ID, WebfedServer
from tests.integration.test_federation_harness import Federation, federation
from webfed.storage import Store

__all__ = ["federation"]

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/game-players"
GUEST_ROLE = f"arn:aws:iam::{ACCOUNT}:role/game-guests"


@pytest.fixture(scope="module")
def cognito(server: WebfedServer) -> Any:
    return server.client("cognito-identity")


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_pool_lifecycle(cognito: Any) -> None:
    created = cognito.create_identity_pool(
        IdentityPoolName="mobile game",
        AllowUnauthenticatedIdentities=True,
        SupportedLoginProviders={"accounts.google.com": "game-client"},
        DeveloperProviderName="login.game",
        IdentityPoolTags={"team": "games"},
    )
    pool_id = created["IdentityPoolId"]
    assert pool_id.startswith("us-east-1:")
    described = cognito.describe_identity_pool(IdentityPoolId=pool_id)
    assert described["IdentityPoolName"] == "mobile game"
    assert described["SupportedLoginProviders"] == {"accounts.google.com": "game-client"}
    updated = cognito.update_identity_pool(
        IdentityPoolId=pool_id,
        IdentityPoolName="mobile game 2",
        AllowUnauthenticatedIdentities=False,
    )
    assert updated["AllowUnauthenticatedIdentities"] is False
    assert updated["DeveloperProviderName"] == "login.game"
    assert "accounts.google.com" not in updated.get("SupportedLoginProviders", {})
    listed = cognito.list_identity_pools(MaxResults=60)["IdentityPools"]
    assert {"IdentityPoolId": pool_id, "IdentityPoolName": "mobile game 2"} in listed
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_identity_pool(IdentityPoolId=pool_id)
    code, status, message = _error(excinfo)
    assert (code, status) == ("ResourceNotFoundException", 404) and pool_id in message


def test_roles_mappings_tags_and_principal_tags(cognito: Any) -> None:
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="roles",
        AllowUnauthenticatedIdentities=True,
        SupportedLoginProviders={"accounts.google.com": "game-client"},
    )["IdentityPoolId"]
    mappings = {
        "accounts.google.com": {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {
                "Rules": [
                    {"Claim": "hd", "MatchType": "Equals", "Value": "example.com", "RoleARN": ROLE}
                ]
            },
        }
    }
    roles = {"authenticated": ROLE, "unauthenticated": GUEST_ROLE}
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles, RoleMappings=mappings)
    got = cognito.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert got["Roles"] == roles and got["RoleMappings"] == mappings

    arn = f"arn:aws:cognito-identity:us-east-1:{ACCOUNT}:identitypool/{pool_id}"
    cognito.tag_resource(ResourceArn=arn, Tags={"env": "prod", "tier": "1"})
    cognito.untag_resource(ResourceArn=arn, TagKeys=["tier"])
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}

    stored = cognito.set_principal_tag_attribute_map(
        IdentityPoolId=pool_id,
        IdentityProviderName="accounts.google.com",
        PrincipalTags={"domain": "hd"},
    )
    assert stored["PrincipalTags"] == {"domain": "hd"}
    read = cognito.get_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName="accounts.google.com"
    )
    assert read["PrincipalTags"] == {"domain": "hd"} and read["UseDefaults"] is False


async def _seed_identities(server: WebfedServer, account: str, pool_id: str) -> list[str]:
    """Identities as GetId will make them (that flow is not served yet), written to the server's
    own database by a second process, as another node would."""
    url = server.database_url or f"sqlite+aiosqlite:///{(server.data_dir / 'webfed.db').resolve()}"
    store = await Store.open(url)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        guest = await store.identities.create_unauthenticated(
            account, pool_id, f"us-east-1:{uuid.uuid4()}", now
        )
        user, _ = await store.identities.get_or_create_for_login(
            account,
            pool_id,
            "accounts.google.com",
            "sub-1",
            new_identity_id=f"us-east-1:{uuid.uuid4()}",
            now=now,
        )
        await store.identities.merge(guest.identity_id, user.identity_id, now)
        return [guest.identity_id, user.identity_id]
    finally:
        await store.close()


def test_identities_on_the_wire(server: WebfedServer, cognito: Any) -> None:
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="wire identities",
        AllowUnauthenticatedIdentities=True,
        SupportedLoginProviders={"accounts.google.com": "game-client"},
    )["IdentityPoolId"]
    guest_id, user_id = asyncio.run(_seed_identities(server, ACCOUNT, pool_id))
    described = cognito.describe_identity(IdentityId=user_id)
    assert described["Logins"] == ["accounts.google.com"]
    assert isinstance(described["CreationDate"], datetime)
    assert described["CreationDate"].tzinfo is not None
    every = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=1)
    rest = cognito.list_identities(
        IdentityPoolId=pool_id, MaxResults=1, NextToken=every["NextToken"]
    )
    listed = [item["IdentityId"] for item in every["Identities"] + rest["Identities"]]
    assert sorted(listed) == sorted([guest_id, user_id])
    shown = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)
    assert [item["IdentityId"] for item in shown["Identities"]] == [user_id]
    assert cognito.delete_identities(IdentityIdsToDelete=[guest_id])["UnprocessedIdentityIds"] == []
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_identity(IdentityId=user_id)
    assert _error(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_identities_listing_and_deletion(cognito: Any) -> None:
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="identities", AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]
    listed = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=10, HideDisabled=True)
    assert listed["IdentityPoolId"] == pool_id and listed["Identities"] == []
    missing = "us-east-1:00000000-0000-4000-8000-000000000000"
    deleted = cognito.delete_identities(IdentityIdsToDelete=[missing])
    assert deleted["UnprocessedIdentityIds"] == [
        {"IdentityId": missing, "ErrorCode": "AccessDenied"}
    ]
    with pytest.raises(ClientError) as excinfo:
        cognito.describe_identity(IdentityId=missing)
    assert _error(excinfo)[:2] == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("call", "code", "status", "fragment"),
    [
        (
            lambda c: c.set_identity_pool_roles(
                IdentityPoolId="us-east-1:00000000-0000-4000-8000-000000000000", Roles={}
            ),
            "ResourceNotFoundException",
            404,
            "does not exist",
        ),
        (
            lambda c: c.create_identity_pool(
                IdentityPoolName="bad",
                AllowUnauthenticatedIdentities=True,
                SupportedLoginProviders={"login.example.com": "x"},
            ),
            "InvalidParameterException",
            400,
            "not a public provider",
        ),
        (
            lambda c: c.create_identity_pool(
                IdentityPoolName="bad/name", AllowUnauthenticatedIdentities=True
            ),
            "InvalidParameterException",
            400,
            "IdentityPoolName",
        ),
        (
            lambda c: c.list_identity_pools(MaxResults=61),
            "InvalidParameterException",
            400,
            "MaxResults",
        ),
        (
            lambda c: c.list_identity_pools(MaxResults=5, NextToken="forged"),
            "InvalidParameterException",
            400,
            "NextToken",
        ),
        (
            lambda c: c.delete_identities(IdentityIdsToDelete=[]),
            "InvalidParameterException",
            400,
            "IdentityIdsToDelete",
        ),
    ],
    ids=["unknown-pool", "bad-provider", "bad-name", "max-results", "forged-token", "empty-delete"],
)
def test_errors_on_the_wire(cognito: Any, call: Any, code: str, status: int, fragment: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(cognito)
    got_code, got_status, message = _error(excinfo)
    assert (got_code, got_status) == (code, status), message
    assert fragment.lower() in message.lower(), message


def test_unsigned_management_call_is_refused(server: WebfedServer) -> None:
    anonymous = boto3.client(
        "cognito-identity",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        anonymous.list_identity_pools(MaxResults=5)
    code, status, _ = _error(excinfo)
    assert (code, status) == ("MissingAuthenticationTokenException", 403)


def test_wrong_secret_is_refused(server: WebfedServer) -> None:
    client = server.client(
        "cognito-identity", access_key_id=ADMIN_KEY_ID, secret_access_key="wrong" * 8
    )
    with pytest.raises(ClientError) as excinfo:
        client.list_identity_pools(MaxResults=5)
    assert _error(excinfo)[1] == 403


def test_aws_cli_round_trip(server: WebfedServer) -> None:
    created = server.aws(
        "cognito-identity",
        "create-identity-pool",
        "--identity-pool-name",
        "cli pool",
        "--allow-unauthenticated-identities",
    )
    described = server.aws(
        "cognito-identity",
        "describe-identity-pool",
        "--identity-pool-id",
        created["IdentityPoolId"],
    )
    assert described["IdentityPoolName"] == "cli pool"
    assert described["AllowUnauthenticatedIdentities"] is True


def test_temporary_credentials_cannot_manage_pools(federation: Federation) -> None:
    """Pool management answers the administrator only, whatever the role's policies say."""
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cognito-identity:*", "Resource": "*"}],
    }
    role_arn = federation.role(inline=allow)
    credentials = federation.assume(role_arn, federation.token())["Credentials"]
    client = federation.session_client("cognito-identity", credentials)
    with pytest.raises(ClientError) as excinfo:
        client.list_identity_pools(MaxResults=5)
    code, status, message = _error(excinfo)
    # Cognito's own spelling of the denial (the Query services say AccessDenied).
    assert (code, status) == ("NotAuthorizedException", 403)
    assert "cognito-identity:ListIdentityPools" in message

"""Handler-level Cognito Identity management tests: a real Store (SQLite and PostgreSQL).

Every call goes through :func:`call`, which checks the returned members against botocore's
``cognito-identity`` output shape, so the JSON adapter can render them as they are.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import NOW
from webfed.api.cognito_identity import OPERATIONS
from webfed.api.context import Auth, CallContext
from webfed.errors import (
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFound,
    WebfedError,
)
from webfed.storage import identity_pools

MODEL = botocore.session.get_session().get_service_model("cognito-identity")
GOOGLE = {"accounts.google.com": "game-client.apps.googleusercontent.com"}
USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"


def _check_shape(value: Any, shape: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        assert not set(value) - set(shape.members), f"{where}: unknown members"
        assert not set(shape.required_members) - set(value), f"{where}: missing members"
        for name, member in value.items():
            _check_shape(member, shape.members[name], f"{where}.{name}")
    elif kind == "map":
        assert isinstance(value, dict), where
        for key, item in value.items():
            _check_shape(key, shape.key, f"{where} key")
            _check_shape(item, shape.value, f"{where}[{key}]")
    elif kind == "list":
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            _check_shape(item, shape.member, f"{where}[{index}]")
    elif kind == "timestamp":
        assert isinstance(value, datetime) and value.tzinfo is not None, where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    else:
        assert kind == "string" and isinstance(value, str), where
        if "enum" in shape.metadata:
            assert value in shape.metadata["enum"], where


async def call(ctx: CallContext, operation: str, **params: Any) -> dict[str, Any]:
    result = await OPERATIONS[operation].handler(ctx, params)
    shape = MODEL.operation_model(operation).output_shape
    if shape is None:
        assert result == {}
    else:
        _check_shape(result, shape, operation)
    return result


async def new_pool(ctx: CallContext, **params: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"IdentityPoolName": "game", "AllowUnauthenticatedIdentities": True}
    return await call(ctx, "CreateIdentityPool", **{**base, **params})


def role(ctx: CallContext, name: str = "game") -> str:
    return f"arn:aws:iam::{ctx.account_id}:role/{name}"


def pool_arn(ctx: CallContext, pool_id: str) -> str:
    return f"arn:aws:cognito-identity:us-east-1:{ctx.account_id}:identitypool/{pool_id}"


async def add_oidc_provider(ctx: CallContext, host: str = "id.example.com") -> str:
    provider = await ctx.store.iam.providers.create(
        ctx.account_id,
        url=f"https://{host}",
        resource=host,
        client_ids=["app"],
        thumbprints=[],
        tags=(),
        now=NOW,
    )
    return provider.arn


PUBLIC = {"GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "UnlinkIdentity"}


def test_every_operation_is_served_and_only_the_four_public_calls_are_unsigned() -> None:
    """The API reference: every operation of the model, and all but the four public calls need
    developer (here: administrator) credentials."""
    assert set(OPERATIONS) == set(MODEL.operation_names)
    unsigned = {name for name, operation in OPERATIONS.items() if operation.auth is Auth.NONE}
    assert unsigned == PUBLIC
    signed = {operation.auth for name, operation in OPERATIONS.items() if name not in PUBLIC}
    assert signed == {Auth.ADMIN}


async def test_create_and_describe_round_trip(ctx: CallContext) -> None:
    oidc = await add_oidc_provider(ctx)
    created = await new_pool(
        ctx,
        AllowClassicFlow=True,
        SupportedLoginProviders=GOOGLE,
        DeveloperProviderName="login.game",
        OpenIdConnectProviderARNs=[oidc],
        CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": "app1"}],
        IdentityPoolTags={"team": "games"},
    )
    pool_id = created["IdentityPoolId"]
    region, _, guid = pool_id.partition(":")
    assert region == "us-east-1" and str(uuid.UUID(guid)) == guid
    described = await call(ctx, "DescribeIdentityPool", IdentityPoolId=pool_id)
    assert described == created
    assert described["CognitoIdentityProviders"] == [
        {"ProviderName": USER_POOL, "ClientId": "app1", "ServerSideTokenCheck": False}
    ]
    assert described["DeveloperProviderName"] == "login.game"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"SupportedLoginProviders": {"login.example.com": "x"}}, "not a public provider"),
        ({"DeveloperProviderName": "accounts.google.com"}, "reserved"),
        ({"DeveloperProviderName": "cognito-identity.amazonaws.com"}, "reserved"),
        (
            {"OpenIdConnectProviderARNs": ["arn:aws:iam::000000000000:oidc-provider/x.example"]},
            "not an OIDC provider ARN of this account",
        ),
        (
            {"CognitoIdentityProviders": [{"ProviderName": "idp.example", "ClientId": "a"}]},
            "cognito-idp",
        ),
        (
            {
                "CognitoIdentityProviders": [
                    {"ProviderName": USER_POOL, "ClientId": "a"},
                    {"ProviderName": USER_POOL, "ClientId": "a"},
                ]
            },
            "twice",
        ),
        ({"SamlProviderARNs": ["arn:aws:iam::123456789012:saml-provider/corp"]}, "SAML"),
        ({"IdentityPoolTags": {f"k{i}": "v" for i in range(51)}}, "at most 50"),
        ({"IdentityPoolTags": {"aws:owner": "v"}}, "reserved prefix"),
    ],
    ids=[
        "oidc-host-as-login-provider",
        "developer-name-public",
        "developer-name-cognito",
        "oidc-arn-other-account",
        "user-pool-name-shape",
        "user-pool-twice",
        "saml",
        "too-many-tags",
        "aws-tag-prefix",
    ],
)
async def test_create_refuses(ctx: CallContext, params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterException, match=message):
        await new_pool(ctx, **params)


async def test_create_refuses_an_unknown_oidc_provider(ctx: CallContext) -> None:
    arn = f"arn:aws:iam::{ctx.account_id}:oidc-provider/nobody.example.com"
    with pytest.raises(InvalidParameterException, match="IAM has no provider"):
        await new_pool(ctx, OpenIdConnectProviderARNs=[arn])
    oidc = await add_oidc_provider(ctx)
    with pytest.raises(InvalidParameterException, match="twice"):
        await new_pool(ctx, OpenIdConnectProviderARNs=[oidc, oidc])


async def test_pool_limit_is_limit_exceeded(
    ctx: CallContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_pools, "MAX_POOLS", 2)
    await new_pool(ctx)
    await new_pool(ctx)
    with pytest.raises(LimitExceededException, match="at most 2 identity pools"):
        await new_pool(ctx)


async def test_update_is_a_full_replace(ctx: CallContext) -> None:
    created = await new_pool(
        ctx, AllowClassicFlow=True, SupportedLoginProviders=GOOGLE, IdentityPoolTags={"a": "1"}
    )
    pool_id = created["IdentityPoolId"]
    updated = await call(
        ctx,
        "UpdateIdentityPool",
        IdentityPoolId=pool_id,
        IdentityPoolName="renamed",
        AllowUnauthenticatedIdentities=False,
    )
    assert updated["IdentityPoolName"] == "renamed"
    assert updated["AllowClassicFlow"] is False and updated["SupportedLoginProviders"] == {}
    assert updated["IdentityPoolTags"] == {"a": "1"}  # tags change only when sent
    assert await call(ctx, "DescribeIdentityPool", IdentityPoolId=pool_id) == updated


async def test_developer_provider_is_immutable(ctx: CallContext) -> None:
    pool_id = (await new_pool(ctx, DeveloperProviderName="login.game"))["IdentityPoolId"]
    base = {
        "IdentityPoolId": pool_id,
        "IdentityPoolName": "g",
        "AllowUnauthenticatedIdentities": True,
    }
    with pytest.raises(InvalidParameterException, match="cannot be changed"):
        await call(ctx, "UpdateIdentityPool", **base, DeveloperProviderName="login.other")
    kept = await call(ctx, "UpdateIdentityPool", **base)
    assert kept["DeveloperProviderName"] == "login.game"


@pytest.mark.parametrize(
    ("operation", "extra"),
    [
        ("DescribeIdentityPool", {}),
        ("DeleteIdentityPool", {}),
        ("GetIdentityPoolRoles", {}),
        ("SetIdentityPoolRoles", {"Roles": {}}),
        ("ListIdentities", {"MaxResults": 10}),
        ("GetPrincipalTagAttributeMap", {"IdentityProviderName": "accounts.google.com"}),
        ("SetPrincipalTagAttributeMap", {"IdentityProviderName": "accounts.google.com"}),
        ("UpdateIdentityPool", {"IdentityPoolName": "x", "AllowUnauthenticatedIdentities": True}),
    ],
    ids=[
        "describe",
        "delete",
        "get-roles",
        "set-roles",
        "list-identities",
        "get-tag-map",
        "set-tag-map",
        "update",
    ],
)
async def test_unknown_pool_is_not_found(
    ctx: CallContext, operation: str, extra: dict[str, Any]
) -> None:
    missing = f"us-east-1:{uuid.uuid4()}"
    with pytest.raises(ResourceNotFound, match=missing):
        await call(ctx, operation, IdentityPoolId=missing, **extra)


async def test_delete_then_describe(ctx: CallContext) -> None:
    pool_id = (await new_pool(ctx))["IdentityPoolId"]
    await call(ctx, "DeleteIdentityPool", IdentityPoolId=pool_id)
    with pytest.raises(ResourceNotFound):
        await call(ctx, "DescribeIdentityPool", IdentityPoolId=pool_id)


async def test_list_pages_with_next_token(ctx: CallContext) -> None:
    made = sorted([(await new_pool(ctx))["IdentityPoolId"] for _ in range(3)])
    first = await call(ctx, "ListIdentityPools", MaxResults=2)
    second = await call(ctx, "ListIdentityPools", MaxResults=2, NextToken=first["NextToken"])
    seen = [item["IdentityPoolId"] for item in first["IdentityPools"] + second["IdentityPools"]]
    assert seen == made and "NextToken" not in second
    assert first["IdentityPools"][0]["IdentityPoolName"] == "game"


@pytest.mark.parametrize(
    "token", ["%%%", "aWRlbnRpdGllcwBhYmM=", "Zm9v"], ids=["not-base64", "other-listing", "no-kind"]
)
async def test_list_refuses_a_foreign_token(ctx: CallContext, token: str) -> None:
    with pytest.raises(InvalidParameterException, match="NextToken"):
        await call(ctx, "ListIdentityPools", MaxResults=2, NextToken=token)


async def test_roles_and_mappings_round_trip(ctx: CallContext) -> None:
    pool_id = (
        await new_pool(
            ctx,
            SupportedLoginProviders=GOOGLE,
            CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": "app1"}],
        )
    )["IdentityPoolId"]
    mappings = {
        "accounts.google.com": {
            "Type": "Rules",
            "AmbiguousRoleResolution": "Deny",
            "RulesConfiguration": {
                "Rules": [
                    {
                        "Claim": "hd",
                        "MatchType": "Equals",
                        "Value": "example.com",
                        "RoleARN": role(ctx),
                    },
                    {
                        "Claim": "email",
                        "MatchType": "NotEqual",
                        "Value": "x",
                        "RoleARN": role(ctx, "b"),
                    },
                ]
            },
        },
        f"{USER_POOL}:app1": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"},
    }
    roles = {"authenticated": role(ctx), "unauthenticated": role(ctx, "guest")}
    await call(
        ctx, "SetIdentityPoolRoles", IdentityPoolId=pool_id, Roles=roles, RoleMappings=mappings
    )
    got = await call(ctx, "GetIdentityPoolRoles", IdentityPoolId=pool_id)
    assert got == {"IdentityPoolId": pool_id, "Roles": roles, "RoleMappings": mappings}
    await call(ctx, "SetIdentityPoolRoles", IdentityPoolId=pool_id, Roles={})
    assert await call(ctx, "GetIdentityPoolRoles", IdentityPoolId=pool_id) == {
        "IdentityPoolId": pool_id,
        "Roles": {},
    }


def _rule(arn: str, match: str = "Equals") -> dict[str, str]:
    return {"Claim": "sub", "MatchType": match, "Value": "v", "RoleARN": arn}


@pytest.mark.parametrize(
    ("roles", "mappings", "message"),
    [
        ({"authenticated": "arn:aws:iam::000000000000:role/x"}, {}, "account 000000000000"),
        ({"authenticated": "arn:aws:s3:::bucket"}, {}, "not an IAM role ARN"),
        ({"authenticated": "not-an-arn"}, {}, "not an ARN"),
        ({"admin": "ROLE"}, {}, "'authenticated' or 'unauthenticated'"),
        (
            {},
            {"login.example.com": {"Type": "Token", "AmbiguousRoleResolution": "Deny"}},
            "not a provider",
        ),
        ({}, {"accounts.google.com": {"Type": "Token"}}, "AmbiguousRoleResolution is required"),
        (
            {},
            {"accounts.google.com": {"Type": "Groups", "AmbiguousRoleResolution": "Deny"}},
            "Type",
        ),
        (
            {},
            {"accounts.google.com": {"Type": "Rules", "AmbiguousRoleResolution": "Deny"}},
            "Rules is required",
        ),
        (
            {},
            {
                "accounts.google.com": {
                    "Type": "Token",
                    "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": [_rule("ROLE")]},
                }
            },
            "only allowed with Type 'Rules'",
        ),
        (
            {},
            {
                "accounts.google.com": {
                    "Type": "Rules",
                    "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": [_rule("ROLE")] * 26},
                }
            },
            "at most 25",
        ),
        (
            {},
            {
                "accounts.google.com": {
                    "Type": "Rules",
                    "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": [_rule("ROLE", "Regex")]},
                }
            },
            "MatchType",
        ),
        (
            {},
            {
                "accounts.google.com": {
                    "Type": "Rules",
                    "AmbiguousRoleResolution": "Deny",
                    "RulesConfiguration": {"Rules": [_rule("arn:aws:iam::000000000000:role/x")]},
                }
            },
            r"Rules\[0\]\.RoleARN",
        ),
        ({}, {f"p{i}.example": {"Type": "Token"} for i in range(11)}, "at most 10"),
    ],
    ids=[
        "role-other-account",
        "not-a-role-arn",
        "not-an-arn",
        "bad-role-key",
        "unknown-provider",
        "no-resolution",
        "bad-type",
        "rules-missing",
        "token-with-rules",
        "too-many-rules",
        "bad-match-type",
        "rule-role-other-account",
        "too-many-mappings",
    ],
)
async def test_set_roles_refuses(
    ctx: CallContext, roles: dict[str, str], mappings: dict[str, Any], message: str
) -> None:
    pool_id = (await new_pool(ctx, SupportedLoginProviders=GOOGLE))["IdentityPoolId"]
    roles = {key: role(ctx) if value == "ROLE" else value for key, value in roles.items()}
    for mapping in mappings.values():
        for rule in mapping.get("RulesConfiguration", {}).get("Rules", []):
            if rule["RoleARN"] == "ROLE":
                rule["RoleARN"] = role(ctx)
    with pytest.raises(InvalidParameterException, match=message):
        await call(
            ctx, "SetIdentityPoolRoles", IdentityPoolId=pool_id, Roles=roles, RoleMappings=mappings
        )
    assert (await call(ctx, "GetIdentityPoolRoles", IdentityPoolId=pool_id))["Roles"] == {}


async def test_principal_tag_maps(ctx: CallContext) -> None:
    pool_id = (await new_pool(ctx, SupportedLoginProviders=GOOGLE))["IdentityPoolId"]
    base = {"IdentityPoolId": pool_id, "IdentityProviderName": "accounts.google.com"}
    assert await call(ctx, "GetPrincipalTagAttributeMap", **base) == {
        **base,
        "UseDefaults": False,
        "PrincipalTags": {},
    }
    stored = await call(ctx, "SetPrincipalTagAttributeMap", **base, PrincipalTags={"dept": "hd"})
    assert await call(ctx, "GetPrincipalTagAttributeMap", **base) == stored
    assert stored["PrincipalTags"] == {"dept": "hd"} and stored["UseDefaults"] is False
    defaults = await call(ctx, "SetPrincipalTagAttributeMap", **base, UseDefaults=True)
    assert defaults["UseDefaults"] is True and defaults["PrincipalTags"] == {}
    with pytest.raises(InvalidParameterException, match="must be empty when UseDefaults"):
        await call(
            ctx, "SetPrincipalTagAttributeMap", **base, UseDefaults=True, PrincipalTags={"a": "b"}
        )
    with pytest.raises(InvalidParameterException, match="not a provider"):
        await call(
            ctx,
            "SetPrincipalTagAttributeMap",
            IdentityPoolId=pool_id,
            IdentityProviderName="x.example",
        )


async def test_resource_tags(ctx: CallContext) -> None:
    pool_id = (await new_pool(ctx, IdentityPoolTags={"a": "1"}))["IdentityPoolId"]
    arn = pool_arn(ctx, pool_id)
    await call(ctx, "TagResource", ResourceArn=arn, Tags={"b": "2", "a": "3"})
    await call(ctx, "UntagResource", ResourceArn=arn, TagKeys=["b", "absent"])
    assert await call(ctx, "ListTagsForResource", ResourceArn=arn) == {"Tags": {"a": "3"}}
    with pytest.raises(LimitExceededException, match="at most 50"):
        await call(ctx, "TagResource", ResourceArn=arn, Tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(InvalidParameterException, match="reserved prefix"):
        await call(ctx, "TagResource", ResourceArn=arn, Tags={"AWS:x": "v"})


@pytest.mark.parametrize(
    ("arn", "error"),
    [
        ("arn:aws:iam::123456789012:role/x", InvalidParameterException),
        (
            "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/us-east-1:0a",
            ResourceNotFound,
        ),
        ("arn:aws:cognito-identity:eu-west-1:ACCOUNT:identitypool/us-east-1:0a", ResourceNotFound),
        ("arn:aws:cognito-identity:us-east-1:ACCOUNT:identitypool/us-east-1:0a", ResourceNotFound),
    ],
    ids=["not-a-pool-arn", "other-account", "region-mismatch", "unknown-pool"],
)
@pytest.mark.parametrize("operation", ["TagResource", "UntagResource", "ListTagsForResource"])
async def test_tag_operations_refuse_bad_arns(
    ctx: CallContext, operation: str, arn: str, error: type[WebfedError]
) -> None:
    params = {"TagResource": {"Tags": {"a": "b"}}, "UntagResource": {"TagKeys": ["a"]}}
    with pytest.raises(error):
        await call(
            ctx,
            operation,
            ResourceArn=arn.replace("ACCOUNT", ctx.account_id),
            **params.get(operation, {}),
        )


async def test_identities_describe_list_delete(ctx: CallContext) -> None:
    pool_id = (await new_pool(ctx, DeveloperProviderName="login.game"))["IdentityPoolId"]
    store = ctx.store.identities
    guest = await store.create_unauthenticated(
        ctx.account_id, pool_id, f"us-east-1:{uuid.uuid4()}", NOW
    )
    user, _ = await store.get_or_create_for_login(
        ctx.account_id,
        pool_id,
        "login.game",
        "u1",
        new_identity_id=f"us-east-1:{uuid.uuid4()}",
        now=NOW,
    )
    described = await call(ctx, "DescribeIdentity", IdentityId=user.identity_id)
    assert described == {
        "IdentityId": user.identity_id,
        "Logins": ["login.game"],
        "CreationDate": NOW,
        "LastModifiedDate": NOW,
    }
    await store.merge(guest.identity_id, user.identity_id, NOW)
    every = await call(ctx, "ListIdentities", IdentityPoolId=pool_id, MaxResults=60)
    assert len(every["Identities"]) == 2 and every["IdentityPoolId"] == pool_id
    visible = await call(
        ctx, "ListIdentities", IdentityPoolId=pool_id, MaxResults=1, HideDisabled=True
    )
    assert [item["IdentityId"] for item in visible["Identities"]] == [user.identity_id]
    assert "NextToken" not in visible
    first = await call(ctx, "ListIdentities", IdentityPoolId=pool_id, MaxResults=1)
    with pytest.raises(InvalidParameterException, match="NextToken"):
        await call(ctx, "ListIdentityPools", MaxResults=1, NextToken=first["NextToken"])
    unknown = f"us-east-1:{uuid.uuid4()}"
    deleted = await call(ctx, "DeleteIdentities", IdentityIdsToDelete=[guest.identity_id, unknown])
    assert deleted == {
        "UnprocessedIdentityIds": [{"IdentityId": unknown, "ErrorCode": "AccessDenied"}]
    }
    with pytest.raises(ResourceNotFound, match=guest.identity_id):
        await call(ctx, "DescribeIdentity", IdentityId=guest.identity_id)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    claims=st.lists(
        st.tuples(
            st.text(min_size=1, max_size=64),
            st.sampled_from(["Equals", "Contains", "StartsWith", "NotEqual"]),
            st.text(min_size=1, max_size=128),
        ),
        min_size=1,
        max_size=25,
    )
)
async def test_any_valid_rule_list_round_trips(
    ctx: CallContext, claims: list[tuple[str, str, str]]
) -> None:
    pool_id = (await new_pool(ctx, SupportedLoginProviders=GOOGLE))["IdentityPoolId"]
    rules = [{"Claim": c, "MatchType": m, "Value": v, "RoleARN": role(ctx)} for c, m, v in claims]
    mappings = {
        "accounts.google.com": {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {"Rules": rules},
        }
    }
    await call(ctx, "SetIdentityPoolRoles", IdentityPoolId=pool_id, Roles={}, RoleMappings=mappings)
    got = await call(ctx, "GetIdentityPoolRoles", IdentityPoolId=pool_id)
    assert got["RoleMappings"] == mappings

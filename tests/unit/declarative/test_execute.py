"""Each change maps to IAM (or Cognito Identity) requests that fit botocore's input shapes."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from tests.unit.declarative.helpers import ACCOUNT, ISSUER, PROVIDER_ARN, allow, trust
from webfed.declarative import changes as c
from webfed.declarative.execute import calls_for
from webfed.declarative.model import (
    IdentityPool,
    InlinePolicy,
    ManagedPolicy,
    MappingRule,
    PrincipalTags,
    Provider,
    Role,
    RoleMapping,
    Tags,
)
from webfed.declarative.pool_wire import CREATE_WITH_ID
from webfed.declarative.static_keys import SET_STATIC_KEYS

IAM = botocore.session.get_session().get_service_model("iam")
COGNITO = botocore.session.get_session().get_service_model("cognito-identity")
POLICY = ManagedPolicy("p", allow(), path="/team/", description="d", tags=Tags.of({"k": "v"}))
POLICY_ARN = POLICY.arn(ACCOUNT)
ROLE = Role(
    "r",
    trust(),
    description="who",
    max_session_duration=7200,
    inline_policies=(InlinePolicy("i", allow()),),
    permissions_boundary=POLICY_ARN,
    tags=Tags.of({"Team": "a"}),
)
TAGS = Tags.of({"a": "1", "b": ""})

EXPECTED: list[tuple[c.Change, list[tuple[str, dict[str, Any]]]]] = [
    (
        c.CreateProvider(Provider(ISSUER, ("app",), ("a" * 40,), Tags.of({"t": "x"}))),
        [
            (
                "CreateOpenIDConnectProvider",
                {
                    "Url": ISSUER,
                    "ClientIDList": ["app"],
                    "ThumbprintList": ["a" * 40],
                    "Tags": [{"Key": "t", "Value": "x"}],
                },
            )
        ],
    ),
    (
        c.CreateProvider(Provider(ISSUER)),
        [("CreateOpenIDConnectProvider", {"Url": ISSUER, "ClientIDList": []})],
    ),
    (
        c.AddClientId(PROVIDER_ARN, "x"),
        [
            (
                "AddClientIDToOpenIDConnectProvider",
                {"OpenIDConnectProviderArn": PROVIDER_ARN, "ClientID": "x"},
            )
        ],
    ),
    (
        c.RemoveClientId(PROVIDER_ARN, "x"),
        [
            (
                "RemoveClientIDFromOpenIDConnectProvider",
                {"OpenIDConnectProviderArn": PROVIDER_ARN, "ClientID": "x"},
            )
        ],
    ),
    (
        c.SetThumbprints(PROVIDER_ARN, ()),
        [
            (
                "UpdateOpenIDConnectProviderThumbprint",
                {"OpenIDConnectProviderArn": PROVIDER_ARN, "ThumbprintList": []},
            )
        ],
    ),
    (
        c.TagProvider(PROVIDER_ARN, TAGS),
        [
            (
                "TagOpenIDConnectProvider",
                {
                    "OpenIDConnectProviderArn": PROVIDER_ARN,
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}],
                },
            )
        ],
    ),
    (
        c.UntagProvider(PROVIDER_ARN, ("a",)),
        [
            (
                "UntagOpenIDConnectProvider",
                {"OpenIDConnectProviderArn": PROVIDER_ARN, "TagKeys": ["a"]},
            )
        ],
    ),
    (
        c.DeleteProvider(PROVIDER_ARN),
        [("DeleteOpenIDConnectProvider", {"OpenIDConnectProviderArn": PROVIDER_ARN})],
    ),
    (
        c.CreatePolicy(POLICY),
        [
            (
                "CreatePolicy",
                {
                    "PolicyName": "p",
                    "Path": "/team/",
                    "PolicyDocument": allow().text,
                    "Description": "d",
                    "Tags": [{"Key": "k", "Value": "v"}],
                },
            )
        ],
    ),
    (
        c.CreatePolicyVersion(POLICY_ARN, allow("s3:*")),
        [
            (
                "CreatePolicyVersion",
                {
                    "PolicyArn": POLICY_ARN,
                    "PolicyDocument": allow("s3:*").text,
                    "SetAsDefault": True,
                },
            )
        ],
    ),
    (
        c.CreatePolicyVersion(POLICY_ARN, allow("s3:*"), "v2"),
        [
            ("DeletePolicyVersion", {"PolicyArn": POLICY_ARN, "VersionId": "v2"}),
            (
                "CreatePolicyVersion",
                {
                    "PolicyArn": POLICY_ARN,
                    "PolicyDocument": allow("s3:*").text,
                    "SetAsDefault": True,
                },
            ),
        ],
    ),
    (
        c.TagPolicy(POLICY_ARN, Tags.of({"a": "1"})),
        [("TagPolicy", {"PolicyArn": POLICY_ARN, "Tags": [{"Key": "a", "Value": "1"}]})],
    ),
    (
        c.UntagPolicy(POLICY_ARN, ("a",)),
        [("UntagPolicy", {"PolicyArn": POLICY_ARN, "TagKeys": ["a"]})],
    ),
    (
        c.DeletePolicyVersion(POLICY_ARN, "v1"),
        [("DeletePolicyVersion", {"PolicyArn": POLICY_ARN, "VersionId": "v1"})],
    ),
    (c.DeletePolicy(POLICY_ARN), [("DeletePolicy", {"PolicyArn": POLICY_ARN})]),
    (
        c.CreateRole(ROLE),
        [
            (
                "CreateRole",
                {
                    "RoleName": "r",
                    "Path": "/",
                    "AssumeRolePolicyDocument": trust().text,
                    "MaxSessionDuration": 7200,
                    "Description": "who",
                    "PermissionsBoundary": POLICY_ARN,
                    "Tags": [{"Key": "Team", "Value": "a"}],
                },
            )
        ],
    ),
    (
        c.UpdateTrustPolicy("r", trust()),
        [("UpdateAssumeRolePolicy", {"RoleName": "r", "PolicyDocument": trust().text})],
    ),
    (
        c.UpdateRole("r", "", 3600),
        [("UpdateRole", {"RoleName": "r", "Description": "", "MaxSessionDuration": 3600})],
    ),
    (
        c.PutInlinePolicy("r", "i", allow(), True),
        [
            (
                "PutRolePolicy",
                {"RoleName": "r", "PolicyName": "i", "PolicyDocument": allow().text},
            )
        ],
    ),
    (
        c.DeleteInlinePolicy("r", "i"),
        [("DeleteRolePolicy", {"RoleName": "r", "PolicyName": "i"})],
    ),
    (
        c.AttachPolicy("r", POLICY_ARN),
        [("AttachRolePolicy", {"RoleName": "r", "PolicyArn": POLICY_ARN})],
    ),
    (
        c.DetachPolicy("r", POLICY_ARN),
        [("DetachRolePolicy", {"RoleName": "r", "PolicyArn": POLICY_ARN})],
    ),
    (
        c.PutBoundary("r", POLICY_ARN),
        [("PutRolePermissionsBoundary", {"RoleName": "r", "PermissionsBoundary": POLICY_ARN})],
    ),
    (c.DeleteBoundary("r"), [("DeleteRolePermissionsBoundary", {"RoleName": "r"})]),
    (
        c.TagRole("r", Tags.of({"a": "1"})),
        [("TagRole", {"RoleName": "r", "Tags": [{"Key": "a", "Value": "1"}]})],
    ),
    (c.UntagRole("r", ("a",)), [("UntagRole", {"RoleName": "r", "TagKeys": ["a"]})]),
    (c.DeleteRole("r"), [("DeleteRole", {"RoleName": "r"})]),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    EXPECTED,
    ids=[f"{type(change).__name__}-{index}" for index, (change, _) in enumerate(EXPECTED)],
)
def test_change_maps_to_iam_requests(
    change: c.Change, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    calls = calls_for(change)
    assert calls == expected
    for operation, params in calls:
        shape = IAM.operation_model(operation).input_shape
        assert set(params) <= set(shape.members), operation
        assert set(shape.required_members) <= set(params), operation


POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000001"
POOL_ARN = f"arn:aws:cognito-identity:us-east-1:{ACCOUNT}:identitypool/{POOL_ID}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/r"
POOL = IdentityPool(
    "players",
    POOL_ID,
    allow_unauthenticated=True,
    supported_login_providers=Tags.of({"accounts.google.com": "app"}),
    openid_connect_providers=(PROVIDER_ARN,),
    developer_provider_name="login.example",
    roles=Tags.of({"authenticated": ROLE_ARN}),
    role_mappings=(
        (
            "accounts.example.com",
            RoleMapping("Rules", "Deny", (MappingRule("team", "Equals", "red", ROLE_ARN),)),
        ),
        ("accounts.google.com", RoleMapping("Token", "AuthenticatedRole")),
    ),
    tags=Tags.of({"env": "demo"}),
)
POOL_CONFIG = {
    "IdentityPoolId": POOL_ID,
    "IdentityPoolName": "players",
    "AllowUnauthenticatedIdentities": True,
    "AllowClassicFlow": False,
    "SupportedLoginProviders": {"accounts.google.com": "app"},
    "OpenIdConnectProviderARNs": [PROVIDER_ARN],
    "CognitoIdentityProviders": [],
    "DeveloperProviderName": "login.example",
}

POOL_EXPECTED: list[tuple[c.Change, list[tuple[str, dict[str, Any]]]]] = [
    (
        c.CreateIdentityPool(POOL),
        [(CREATE_WITH_ID, {**POOL_CONFIG, "IdentityPoolTags": {"env": "demo"}})],
    ),
    (c.UpdateIdentityPool(POOL), [("UpdateIdentityPool", POOL_CONFIG)]),
    (
        c.SetIdentityPoolRoles(POOL),
        [
            (
                "SetIdentityPoolRoles",
                {
                    "IdentityPoolId": POOL_ID,
                    "Roles": {"authenticated": ROLE_ARN},
                    "RoleMappings": {
                        "accounts.example.com": {
                            "Type": "Rules",
                            "AmbiguousRoleResolution": "Deny",
                            "RulesConfiguration": {
                                "Rules": [
                                    {
                                        "Claim": "team",
                                        "MatchType": "Equals",
                                        "Value": "red",
                                        "RoleARN": ROLE_ARN,
                                    }
                                ]
                            },
                        },
                        "accounts.google.com": {
                            "Type": "Token",
                            "AmbiguousRoleResolution": "AuthenticatedRole",
                        },
                    },
                },
            )
        ],
    ),
    (
        c.SetPrincipalTags(
            POOL_ID, "accounts.google.com", PrincipalTags(False, Tags.of({"t": "sub"}))
        ),
        [
            (
                "SetPrincipalTagAttributeMap",
                {
                    "IdentityPoolId": POOL_ID,
                    "IdentityProviderName": "accounts.google.com",
                    "UseDefaults": False,
                    "PrincipalTags": {"t": "sub"},
                },
            )
        ],
    ),
    (
        c.TagIdentityPool(POOL_ARN, Tags.of({"a": "1"})),
        [("TagResource", {"ResourceArn": POOL_ARN, "Tags": {"a": "1"}})],
    ),
    (
        c.UntagIdentityPool(POOL_ARN, ("a",)),
        [("UntagResource", {"ResourceArn": POOL_ARN, "TagKeys": ["a"]})],
    ),
    (
        c.DeleteIdentityPool(POOL_ID, "players"),
        [("DeleteIdentityPool", {"IdentityPoolId": POOL_ID})],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    POOL_EXPECTED,
    ids=[type(change).__name__ for change, _ in POOL_EXPECTED],
)
def test_pool_change_maps_to_cognito_identity_requests(
    change: c.Change, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    """Every request fits Cognito Identity's input shape; the create with a fixed id is
    ``CreateIdentityPool``'s shape plus ``IdentityPoolId``."""
    calls = calls_for(change)
    assert calls == expected
    for operation, params in calls:
        name = "CreateIdentityPool" if operation == CREATE_WITH_ID else operation
        shape = COGNITO.operation_model(name).input_shape
        members = set(shape.members) | ({"IdentityPoolId"} if name != operation else set())
        assert set(params) <= members, operation
        assert set(shape.required_members) <= set(params), operation


KEYS = '{"keys":[]}'
STATIC_EXPECTED: list[tuple[c.Change, list[tuple[str, dict[str, Any]]]]] = [
    (
        c.SetStaticKeys(PROVIDER_ARN, KEYS, created=True),
        [(SET_STATIC_KEYS, {"OpenIDConnectProviderArn": PROVIDER_ARN, "StaticKeySet": KEYS})],
    ),
    (
        c.SetStaticKeys(PROVIDER_ARN, None),
        [(SET_STATIC_KEYS, {"OpenIDConnectProviderArn": PROVIDER_ARN, "StaticKeySet": None})],
    ),
]


@pytest.mark.parametrize(("change", "expected"), STATIC_EXPECTED, ids=["set-on-create", "remove"])
def test_static_key_change_maps_to_webfed_operation(
    change: c.Change, expected: list[tuple[str, dict[str, Any]]]
) -> None:
    """Not an IAM operation: IAM's wire has no key set member."""
    assert calls_for(change) == expected
    assert SET_STATIC_KEYS not in IAM.operation_names


def test_every_change_type_is_covered() -> None:
    covered = {type(change) for change, _ in [*EXPECTED, *POOL_EXPECTED, *STATIC_EXPECTED]}
    assert covered == set(c.Change.__args__)  # type: ignore[attr-defined]  # a union's members


def test_every_change_describes_itself() -> None:
    for change, _ in [*EXPECTED, *POOL_EXPECTED, *STATIC_EXPECTED]:
        text = change.describe()
        assert text and "\n" not in text
        assert change.effect in c.Effect

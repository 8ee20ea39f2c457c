"""Each change maps to IAM requests that fit botocore's IAM input shapes."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from tests.unit.declarative.helpers import ACCOUNT, ISSUER, PROVIDER_ARN, allow, trust
from webfed.declarative import changes as c
from webfed.declarative.execute import calls_for
from webfed.declarative.model import InlinePolicy, ManagedPolicy, Provider, Role, Tags

IAM = botocore.session.get_session().get_service_model("iam")
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


def test_every_change_type_is_covered() -> None:
    covered = {type(change) for change, _ in EXPECTED}
    assert covered == set(c.Change.__args__)  # type: ignore[attr-defined]  # a union's members


def test_every_change_describes_itself() -> None:
    for change, _ in EXPECTED:
        text = change.describe()
        assert text and "\n" not in text
        assert change.effect in c.Effect

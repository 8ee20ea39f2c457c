"""Managed policy operations and role attachments through their handlers."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.api.conftest import NOW, PERMISSIONS, TRUST, call
from webfed.api.context import CallContext
from webfed.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)


async def create_policy(ctx: CallContext, name: str = "Read", **extra: object) -> str:
    result = await call(ctx, "CreatePolicy", PolicyName=name, PolicyDocument=PERMISSIONS, **extra)
    return str(result["Policy"]["Arn"])


async def create_role(ctx: CallContext, name: str = "GameRole", **extra: object) -> None:
    await call(ctx, "CreateRole", RoleName=name, AssumeRolePolicyDocument=TRUST, **extra)


async def test_create_policy_shape(ctx: CallContext) -> None:
    result = await call(
        ctx,
        "CreatePolicy",
        PolicyName="Read",
        Path="/game/",
        PolicyDocument=PERMISSIONS,
        Description="read things",
        Tags=[{"Key": "t", "Value": "v"}],
    )
    policy = result["Policy"]
    assert policy["Arn"] == f"arn:aws:iam::{ctx.account_id}:policy/game/Read"
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert policy["DefaultVersionId"] == "v1"
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (0, 0)
    assert policy["IsAttachable"] is True
    assert policy["CreateDate"] == policy["UpdateDate"] == NOW
    got = await call(ctx, "GetPolicy", PolicyArn=policy["Arn"])
    assert got["Policy"] == policy


@pytest.mark.parametrize("name", ["read", "READ"], ids=["lower", "upper"])
async def test_policy_names_unique_across_paths_and_case(ctx: CallContext, name: str) -> None:
    await create_policy(ctx, Path="/a/")
    with pytest.raises(EntityAlreadyExists) as caught:
        await create_policy(ctx, name, Path="/b/")
    assert caught.value.message == (
        f"A policy called {name} already exists. Duplicate names are not allowed."
    )


async def test_managed_policy_size_quota(ctx: CallContext) -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Sid": ""}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    statement["Sid"] = "S" * (6145 - len(json.dumps(document, separators=(",", ":"))))
    with pytest.raises(LimitExceeded) as caught:
        await call(
            ctx,
            "CreatePolicy",
            PolicyName="big",
            PolicyDocument=json.dumps(document, separators=(",", ":")),
        )
    assert caught.value.message == "Cannot exceed quota for PolicySize: 6144"


async def test_malformed_policy(ctx: CallContext) -> None:
    with pytest.raises(MalformedPolicyDocument):
        await call(ctx, "CreatePolicy", PolicyName="bad", PolicyDocument='{"Statement": 1}')


async def test_missing_policy(ctx: CallContext) -> None:
    arn = f"arn:aws:iam::{ctx.account_id}:policy/Ghost"
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, "GetPolicy", PolicyArn=arn)
    assert (caught.value.status, caught.value.message) == (404, f"Policy {arn} was not found.")
    with pytest.raises(NoSuchEntity):
        await call(ctx, "GetPolicy", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")


async def test_malformed_policy_arn(ctx: CallContext) -> None:
    with pytest.raises(InvalidInput):
        await call(ctx, "GetPolicy", PolicyArn="arn:aws:iam::12:role/NotAPolicy")


async def test_versions_lifecycle(ctx: CallContext) -> None:
    arn = await create_policy(ctx)
    newer = PERMISSIONS.replace("s3:GetObject", "s3:PutObject")
    made = await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=newer)
    assert made["PolicyVersion"] == {
        "VersionId": "v2",
        "IsDefaultVersion": False,
        "CreateDate": NOW,
    }
    await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=newer, SetAsDefault=True)
    assert (await call(ctx, "GetPolicy", PolicyArn=arn))["Policy"]["DefaultVersionId"] == "v3"
    got = await call(ctx, "GetPolicyVersion", PolicyArn=arn, VersionId="v3")
    assert got["PolicyVersion"]["IsDefaultVersion"] is True
    assert unquote(got["PolicyVersion"]["Document"]) == newer
    listed = await call(ctx, "ListPolicyVersions", PolicyArn=arn)
    assert [item["VersionId"] for item in listed["Versions"]] == ["v3", "v2", "v1"]
    with pytest.raises(DeleteConflict) as caught:
        await call(ctx, "DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    assert caught.value.message == "Cannot delete the default version of a policy."
    await call(ctx, "SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v1")
    await call(ctx, "DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    with pytest.raises(NoSuchEntity) as missing:
        await call(ctx, "GetPolicyVersion", PolicyArn=arn, VersionId="v3")
    assert missing.value.message == f"Policy {arn} version v3 does not exist."
    # Version numbers are never reused.
    again = await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=newer)
    assert again["PolicyVersion"]["VersionId"] == "v4"


async def test_version_quota(ctx: CallContext) -> None:
    arn = await create_policy(ctx)
    for _ in range(4):
        await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=PERMISSIONS)
    with pytest.raises(LimitExceeded) as caught:
        await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=PERMISSIONS)
    assert caught.value.status == 409
    page = await call(ctx, "ListPolicyVersions", PolicyArn=arn, MaxItems=2)
    assert page["IsTruncated"] is True
    rest = await call(ctx, "ListPolicyVersions", PolicyArn=arn, Marker=page["Marker"])
    ids = [item["VersionId"] for item in page["Versions"] + rest["Versions"]]
    assert ids == ["v5", "v4", "v3", "v2", "v1"]


@pytest.mark.parametrize("version", ["v9", "v0", "v1.beta"], ids=["absent", "zero", "suffix"])
async def test_missing_version(ctx: CallContext, version: str) -> None:
    arn = await create_policy(ctx)
    with pytest.raises(NoSuchEntity):
        await call(ctx, "SetDefaultPolicyVersion", PolicyArn=arn, VersionId=version)


async def test_delete_policy_conflicts(ctx: CallContext) -> None:
    arn = await create_policy(ctx)
    await call(ctx, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=PERMISSIONS)
    with pytest.raises(DeleteConflict) as versions:
        await call(ctx, "DeletePolicy", PolicyArn=arn)
    assert "more than one version" in versions.value.message
    await call(ctx, "DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    await create_role(ctx)
    await call(ctx, "AttachRolePolicy", RoleName="GameRole", PolicyArn=arn)
    with pytest.raises(DeleteConflict) as attached:
        await call(ctx, "DeletePolicy", PolicyArn=arn)
    assert attached.value.message == "Cannot delete a policy attached to entities."
    await call(ctx, "DetachRolePolicy", RoleName="GameRole", PolicyArn=arn)
    await call(ctx, "PutRolePermissionsBoundary", RoleName="GameRole", PermissionsBoundary=arn)
    with pytest.raises(DeleteConflict):
        await call(ctx, "DeletePolicy", PolicyArn=arn)
    await call(ctx, "DeleteRolePermissionsBoundary", RoleName="GameRole")
    await call(ctx, "DeletePolicy", PolicyArn=arn)
    with pytest.raises(NoSuchEntity):
        await call(ctx, "GetPolicy", PolicyArn=arn)


async def test_attach_detach_list(ctx: CallContext) -> None:
    await create_role(ctx)
    first = await create_policy(ctx, "Beta", Path="/x/")
    second = await create_policy(ctx, "alpha")
    for arn in (first, second, first):
        await call(ctx, "AttachRolePolicy", RoleName="gamerole", PolicyArn=arn)
    listed = await call(ctx, "ListAttachedRolePolicies", RoleName="GameRole")
    assert listed == {
        "AttachedPolicies": [
            {"PolicyName": "alpha", "PolicyArn": second},
            {"PolicyName": "Beta", "PolicyArn": first},
        ],
        "IsTruncated": False,
    }
    only_x = await call(ctx, "ListAttachedRolePolicies", RoleName="GameRole", PathPrefix="/x/")
    assert only_x["AttachedPolicies"] == [{"PolicyName": "Beta", "PolicyArn": first}]
    policy = (await call(ctx, "GetPolicy", PolicyArn=first))["Policy"]
    assert policy["AttachmentCount"] == 1
    with pytest.raises(DeleteConflict) as caught:
        await call(ctx, "DeleteRole", RoleName="GameRole")
    assert caught.value.message == "Cannot delete entity, must detach all policies first."
    await call(ctx, "DetachRolePolicy", RoleName="GameRole", PolicyArn=first)
    with pytest.raises(NoSuchEntity) as again:
        await call(ctx, "DetachRolePolicy", RoleName="GameRole", PolicyArn=first)
    assert again.value.message == f"Policy {first} was not found."


async def test_attach_errors(ctx: CallContext) -> None:
    await create_role(ctx)
    ghost = f"arn:aws:iam::{ctx.account_id}:policy/Ghost"
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, "AttachRolePolicy", RoleName="GameRole", PolicyArn=ghost)
    assert caught.value.message == f"Policy {ghost} does not exist or is not attachable."
    arn = await create_policy(ctx)
    with pytest.raises(NoSuchEntity) as role:
        await call(ctx, "AttachRolePolicy", RoleName="Nobody", PolicyArn=arn)
    assert role.value.message == "The role with name Nobody cannot be found."


async def test_attach_quota(ctx: CallContext) -> None:
    await create_role(ctx)
    for index in range(10):
        arn = await create_policy(ctx, f"p{index}")
        await call(ctx, "AttachRolePolicy", RoleName="GameRole", PolicyArn=arn)
    extra = await create_policy(ctx, "p10")
    with pytest.raises(LimitExceeded) as caught:
        await call(ctx, "AttachRolePolicy", RoleName="GameRole", PolicyArn=extra)
    assert caught.value.message == "Cannot exceed quota for PoliciesPerRole: 10"
    page = await call(ctx, "ListAttachedRolePolicies", RoleName="GameRole", MaxItems=4)
    names = [item["PolicyName"] for item in page["AttachedPolicies"]]
    while page["IsTruncated"]:
        page = await call(
            ctx, "ListAttachedRolePolicies", RoleName="GameRole", MaxItems=4, Marker=page["Marker"]
        )
        names += [item["PolicyName"] for item in page["AttachedPolicies"]]
    assert sorted(names) == sorted(f"p{index}" for index in range(10)) and len(names) == 10


async def test_permissions_boundary(ctx: CallContext) -> None:
    arn = await create_policy(ctx)
    await create_role(ctx, PermissionsBoundary=arn)
    role = (await call(ctx, "GetRole", RoleName="GameRole"))["Role"]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": arn,
    }
    policy = (await call(ctx, "GetPolicy", PolicyArn=arn))["Policy"]
    assert policy["PermissionsBoundaryUsageCount"] == 1
    await call(ctx, "DeleteRolePermissionsBoundary", RoleName="GameRole")
    role = (await call(ctx, "GetRole", RoleName="GameRole"))["Role"]
    assert "PermissionsBoundary" not in role


async def test_unknown_boundary(ctx: CallContext) -> None:
    ghost = f"arn:aws:iam::{ctx.account_id}:policy/Ghost"
    with pytest.raises(NoSuchEntity) as caught:
        await create_role(ctx, PermissionsBoundary=ghost)
    assert caught.value.message == f"Scope ARN: {ghost} does not exist or is not attachable."
    with pytest.raises(NoSuchEntity):
        await call(ctx, "GetRole", RoleName="GameRole")
    await create_role(ctx)
    with pytest.raises(NoSuchEntity):
        await call(
            ctx, "PutRolePermissionsBoundary", RoleName="GameRole", PermissionsBoundary=ghost
        )
    with pytest.raises(InvalidInput):
        await call(
            ctx, "PutRolePermissionsBoundary", RoleName="GameRole", PermissionsBoundary="x" * 20
        )


async def test_list_policies_filters_and_pages(ctx: CallContext) -> None:
    await create_role(ctx)
    arns = {
        name: await create_policy(ctx, name, Path=path)
        for name, path in [("a1", "/a/"), ("a2", "/a/"), ("b1", "/b/"), ("b2", "/b/"), ("c1", "/")]
    }
    await call(ctx, "AttachRolePolicy", RoleName="GameRole", PolicyArn=arns["a2"])
    await call(
        ctx, "PutRolePermissionsBoundary", RoleName="GameRole", PermissionsBoundary=arns["b1"]
    )

    async def names(**params: object) -> list[str]:
        found: list[str] = []
        while True:
            page = await call(ctx, "ListPolicies", **params)
            found += [policy["PolicyName"] for policy in page["Policies"]]
            assert all("Tags" not in policy for policy in page["Policies"])
            if not page["IsTruncated"]:
                return found
            params = {**params, "Marker": page["Marker"]}

    assert await names() == ["a1", "a2", "b1", "b2", "c1"]
    assert await names(MaxItems=2, Scope="Local") == ["a1", "a2", "b1", "b2", "c1"]
    assert await names(Scope="AWS") == []
    assert await names(PathPrefix="/a/") == ["a1", "a2"]
    assert await names(OnlyAttached=True) == ["a2"]
    assert await names(PolicyUsageFilter="PermissionsBoundary") == ["b1"]
    assert await names(PolicyUsageFilter="PermissionsPolicy") == ["a2"]


async def test_policy_tag_keys_that_sql_lower_would_merge(ctx: CallContext) -> None:
    """``ik`` and ``İK`` differ after Python's folding, so CreatePolicy keeps both (no 409)."""
    tags = [{"Key": "ik", "Value": "1"}, {"Key": "İK", "Value": "2"}]
    arn = await create_policy(ctx, Tags=tags)
    policy = (await call(ctx, "GetPolicy", PolicyArn=arn))["Policy"]
    assert policy["Tags"] == tags
    with pytest.raises(InvalidInput, match="Duplicate tag keys found"):
        await create_policy(
            ctx, "Other", Tags=[{"Key": "ẞ", "Value": "1"}, {"Key": "ß", "Value": "2"}]
        )

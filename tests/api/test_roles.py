"""Role operations through their handlers: CreateRole ... ListRoleTags."""

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
    WebfedError,
)


async def create(ctx: CallContext, name: str = "GameRole", **extra: object) -> dict[str, object]:
    result = await call(ctx, "CreateRole", RoleName=name, AssumeRolePolicyDocument=TRUST, **extra)
    role = result["Role"]
    assert isinstance(role, dict)
    return role


async def test_create_role_returns_aws_shape(ctx: CallContext) -> None:
    role = await create(ctx, Path="/game/", Description="players", MaxSessionDuration=7200)
    assert role["RoleName"] == "GameRole"
    assert role["Path"] == "/game/"
    assert role["Arn"] == f"arn:aws:iam::{ctx.account_id}:role/game/GameRole"
    assert str(role["RoleId"]).startswith("AROA") and len(str(role["RoleId"])) == 21
    assert role["CreateDate"] == NOW
    assert role["MaxSessionDuration"] == 7200
    assert role["Description"] == "players"
    assert json.loads(unquote(str(role["AssumeRolePolicyDocument"]))) == json.loads(TRUST)


async def test_trust_policy_is_percent_encoded(ctx: CallContext) -> None:
    role = await create(ctx)
    encoded = str(role["AssumeRolePolicyDocument"])
    assert "{" not in encoded and '"' not in encoded and " " not in encoded
    assert encoded.startswith("%7B%22Version%22%3A")
    assert unquote(encoded) == TRUST


async def test_defaults(ctx: CallContext) -> None:
    role = await create(ctx)
    assert role["Path"] == "/"
    assert role["MaxSessionDuration"] == 3600
    assert "Description" not in role and "PermissionsBoundary" not in role and "Tags" not in role


@pytest.mark.parametrize(
    "other", ["gamerole", "GAMEROLE", "GameRole"], ids=["lower", "upper", "same"]
)
async def test_role_names_are_unique_without_regard_to_case(ctx: CallContext, other: str) -> None:
    await create(ctx)
    with pytest.raises(EntityAlreadyExists) as caught:
        await create(ctx, other)
    assert caught.value.status == 409
    assert caught.value.message == f"Role with name {other} already exists."


async def test_get_role_finds_any_case_and_keeps_spelling(ctx: CallContext) -> None:
    await create(ctx, "MixedCase", Tags=[{"Key": "team", "Value": "a"}])
    role = (await call(ctx, "GetRole", RoleName="mixedcase"))["Role"]
    assert role["RoleName"] == "MixedCase"
    assert role["Tags"] == [{"Key": "team", "Value": "a"}]
    assert role["RoleLastUsed"] == {}


async def test_get_missing_role(ctx: CallContext) -> None:
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, "GetRole", RoleName="Nope")
    assert (caught.value.code, caught.value.status) == ("NoSuchEntity", 404)
    assert caught.value.message == "The role with name Nope cannot be found."


async def test_roles_are_per_account(ctx: CallContext, store: object) -> None:
    from tests.api.conftest import make_context

    await create(ctx)
    other = make_context(ctx.store)
    with pytest.raises(NoSuchEntity):
        await call(other, "GetRole", RoleName="GameRole")
    await create(other)


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("not json", MalformedPolicyDocument),
        ("[]", MalformedPolicyDocument),
        ('{"Version": "2012-10-17", "Statement": []}', MalformedPolicyDocument),
    ],
    ids=["not-json", "array", "no-statement"],
)
async def test_malformed_trust_policy(
    ctx: CallContext, document: str, error: type[WebfedError]
) -> None:
    with pytest.raises(error) as caught:
        await call(ctx, "CreateRole", RoleName="r", AssumeRolePolicyDocument=document)
    assert caught.value.code == "MalformedPolicyDocument"
    assert caught.value.status == 400


def _trust_of_size(size: int) -> str:
    base = json.loads(TRUST)
    base["Statement"][0]["Sid"] = ""
    text = json.dumps(base, separators=(",", ":"))
    padding = size - len(text)
    base["Statement"][0]["Sid"] = "A" * padding
    document = json.dumps(base, separators=(",", ":"))
    assert len(document) == size
    return document


async def test_trust_policy_size_quota(ctx: CallContext) -> None:
    await call(ctx, "CreateRole", RoleName="fits", AssumeRolePolicyDocument=_trust_of_size(2048))
    with pytest.raises(LimitExceeded) as caught:
        await call(ctx, "CreateRole", RoleName="big", AssumeRolePolicyDocument=_trust_of_size(2049))
    assert caught.value.message == "Cannot exceed quota for ACLSizePerRole: 2048"
    assert caught.value.status == 409


async def test_trust_policy_whitespace_does_not_count(ctx: CallContext) -> None:
    spaced = _trust_of_size(2048).replace(",", ",    \n")
    await call(ctx, "CreateRole", RoleName="spaced", AssumeRolePolicyDocument=spaced)


async def test_update_role(ctx: CallContext) -> None:
    await create(ctx)
    result = await call(
        ctx, "UpdateRole", RoleName="gamerole", Description="new", MaxSessionDuration=43200
    )
    assert result == {}
    role = (await call(ctx, "GetRole", RoleName="GameRole"))["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("new", 43200)
    await call(ctx, "UpdateRole", RoleName="GameRole")
    role = (await call(ctx, "GetRole", RoleName="GameRole"))["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("new", 43200)


async def test_update_role_description_returns_role(ctx: CallContext) -> None:
    await create(ctx)
    result = await call(ctx, "UpdateRoleDescription", RoleName="GameRole", Description="d2")
    assert result["Role"]["Description"] == "d2"


@pytest.mark.parametrize(
    "operation",
    [
        "UpdateRole",
        "DeleteRole",
        "ListRolePolicies",
        "ListRoleTags",
        "ListAttachedRolePolicies",
        "DeleteRolePermissionsBoundary",
    ],
    ids=lambda name: name,
)
async def test_missing_role_everywhere(ctx: CallContext, operation: str) -> None:
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, operation, RoleName="Ghost")
    assert caught.value.message == "The role with name Ghost cannot be found."


async def test_update_assume_role_policy(ctx: CallContext) -> None:
    await create(ctx)
    new = TRUST.replace("game-app", "other-app")
    await call(ctx, "UpdateAssumeRolePolicy", RoleName="GameRole", PolicyDocument=new)
    role = (await call(ctx, "GetRole", RoleName="GameRole"))["Role"]
    assert unquote(role["AssumeRolePolicyDocument"]) == new
    with pytest.raises(MalformedPolicyDocument):
        await call(ctx, "UpdateAssumeRolePolicy", RoleName="GameRole", PolicyDocument="{")
    with pytest.raises(LimitExceeded):
        await call(
            ctx, "UpdateAssumeRolePolicy", RoleName="GameRole", PolicyDocument=_trust_of_size(2049)
        )
    with pytest.raises(NoSuchEntity):
        await call(ctx, "UpdateAssumeRolePolicy", RoleName="Ghost", PolicyDocument=new)


async def test_inline_policies(ctx: CallContext) -> None:
    await create(ctx)
    await call(
        ctx, "PutRolePolicy", RoleName="GameRole", PolicyName="b", PolicyDocument=PERMISSIONS
    )
    await call(
        ctx, "PutRolePolicy", RoleName="GameRole", PolicyName="a", PolicyDocument=PERMISSIONS
    )
    listed = await call(ctx, "ListRolePolicies", RoleName="GameRole")
    assert listed == {"PolicyNames": ["a", "b"], "IsTruncated": False}
    got = await call(ctx, "GetRolePolicy", RoleName="gamerole", PolicyName="a")
    assert got["RoleName"] == "GameRole" and got["PolicyName"] == "a"
    assert unquote(got["PolicyDocument"]) == PERMISSIONS
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, "GetRolePolicy", RoleName="GameRole", PolicyName="zz")
    assert caught.value.message == "The role policy with name zz cannot be found."
    with pytest.raises(DeleteConflict) as conflict:
        await call(ctx, "DeleteRole", RoleName="GameRole")
    assert conflict.value.message == "Cannot delete entity, must delete policies first."
    await call(ctx, "DeleteRolePolicy", RoleName="GameRole", PolicyName="a")
    await call(ctx, "DeleteRolePolicy", RoleName="GameRole", PolicyName="b")
    with pytest.raises(NoSuchEntity):
        await call(ctx, "DeleteRolePolicy", RoleName="GameRole", PolicyName="b")
    await call(ctx, "DeleteRole", RoleName="GameRole")
    with pytest.raises(NoSuchEntity):
        await call(ctx, "GetRole", RoleName="GameRole")


async def test_put_role_policy_replaces(ctx: CallContext) -> None:
    await create(ctx)
    other = PERMISSIONS.replace("s3:GetObject", "s3:PutObject")
    await call(
        ctx, "PutRolePolicy", RoleName="GameRole", PolicyName="p", PolicyDocument=PERMISSIONS
    )
    await call(ctx, "PutRolePolicy", RoleName="GameRole", PolicyName="p", PolicyDocument=other)
    got = await call(ctx, "GetRolePolicy", RoleName="GameRole", PolicyName="p")
    assert unquote(got["PolicyDocument"]) == other


def _permissions_of_size(size: int) -> str:
    statement = {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    padding = size - len(json.dumps(document, separators=(",", ":")))
    statement["Sid"] = "S" * padding
    text = json.dumps(document, separators=(",", ":"))
    assert len(text) == size
    return text


async def test_inline_aggregate_quota(ctx: CallContext) -> None:
    await create(ctx)
    put = {"RoleName": "GameRole", "PolicyDocument": _permissions_of_size(5120)}
    await call(ctx, "PutRolePolicy", PolicyName="one", **put)
    await call(ctx, "PutRolePolicy", PolicyName="two", **put)
    # Replacing a policy counts its new size, not old plus new.
    await call(ctx, "PutRolePolicy", PolicyName="two", **put)
    with pytest.raises(LimitExceeded) as caught:
        await call(
            ctx,
            "PutRolePolicy",
            RoleName="GameRole",
            PolicyName="three",
            PolicyDocument=_permissions_of_size(200),
        )
    assert caught.value.message == "Maximum policy size of 10240 bytes exceeded for role GameRole"


async def test_list_roles_pagination_and_prefix(ctx: CallContext) -> None:
    for index in range(7):
        await create(ctx, f"role{index}", Path="/a/" if index % 2 else "/b/")
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        params = {"MaxItems": 3} | ({"Marker": marker} if marker else {})
        page = await call(ctx, "ListRoles", **params)
        seen += [role["RoleName"] for role in page["Roles"]]
        pages += 1
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert seen == [f"role{index}" for index in range(7)]
    assert pages == 3
    only_a = await call(ctx, "ListRoles", PathPrefix="/a/")
    assert [role["RoleName"] for role in only_a["Roles"]] == ["role1", "role3", "role5"]
    assert all("Tags" not in role for role in only_a["Roles"])


@pytest.mark.parametrize(
    "marker", ["garbage!!", "cm9sZXMAeA", "dGFncwB4"], ids=["not-base64", "edited", "other-listing"]
)
async def test_list_roles_rejects_bad_marker(ctx: CallContext, marker: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await call(ctx, "ListRoles", Marker=marker)
    assert caught.value.status == 400


async def test_role_tags(ctx: CallContext) -> None:
    await create(ctx, Tags=[{"Key": "Team", "Value": "a"}, {"Key": "env", "Value": "dev"}])
    await call(ctx, "TagRole", RoleName="GameRole", Tags=[{"Key": "team", "Value": "b"}])
    tags = await call(ctx, "ListRoleTags", RoleName="GameRole")
    assert tags == {
        "Tags": [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}],
        "IsTruncated": False,
    }
    await call(ctx, "UntagRole", RoleName="GameRole", TagKeys=["ENV", "absent"])
    tags = await call(ctx, "ListRoleTags", RoleName="GameRole", MaxItems=1)
    assert tags["Tags"] == [{"Key": "team", "Value": "b"}] and tags["IsTruncated"] is False


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (
            [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
        ([{"Key": "aws:x", "Value": "1"}], "User-defined tag keys can't start with 'aws:'."),
    ],
    ids=["case-duplicate", "reserved-prefix"],
)
async def test_bad_role_tags(ctx: CallContext, tags: list[dict[str, str]], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create(ctx, Tags=tags)
    assert caught.value.message == message
    await create(ctx)
    with pytest.raises(InvalidInput):
        await call(ctx, "TagRole", RoleName="GameRole", Tags=tags)


async def test_role_tag_quota(ctx: CallContext) -> None:
    first = [{"Key": f"k{index}", "Value": "v"} for index in range(50)]
    await create(ctx, Tags=first)
    await call(ctx, "TagRole", RoleName="GameRole", Tags=[{"Key": "K1", "Value": "replaced"}])
    with pytest.raises(LimitExceeded) as caught:
        await call(ctx, "TagRole", RoleName="GameRole", Tags=[{"Key": "new", "Value": "v"}])
    assert caught.value.message == "Cannot exceed quota for TagsPerRole: 50"
    tags = await call(ctx, "ListRoleTags", RoleName="GameRole", MaxItems=1000)
    assert len(tags["Tags"]) == 50
    assert {"Key": "K1", "Value": "replaced"} in tags["Tags"]


async def test_unicode_tag_keys_fold_alike_on_every_database(ctx: CallContext) -> None:
    await create(ctx, Tags=[{"Key": "Équipe", "Value": "a"}])
    await call(ctx, "TagRole", RoleName="GameRole", Tags=[{"Key": "équipe", "Value": "b"}])
    tags = await call(ctx, "ListRoleTags", RoleName="GameRole")
    assert tags["Tags"] == [{"Key": "équipe", "Value": "b"}]
    await call(ctx, "UntagRole", RoleName="GameRole", TagKeys=["ÉQUIPE"])
    assert (await call(ctx, "ListRoleTags", RoleName="GameRole"))["Tags"] == []


@pytest.mark.parametrize("name", ["Rôle", "ロール"], ids=["accent", "katakana"])
async def test_non_ascii_role_names_are_refused(ctx: CallContext, name: str) -> None:
    from webfed.errors import ValidationError

    with pytest.raises(ValidationError):
        await create(ctx, name)


async def test_dotted_capital_i_tag_next_to_ik(ctx: CallContext) -> None:
    """PostgreSQL's lower('İK') is 'ik', Python's is 'i' + U+0307 + 'k': webfed folds in Python."""
    await create(ctx, Tags=[{"Key": "ik", "Value": "1"}])
    await call(ctx, "TagRole", RoleName="GameRole", Tags=[{"Key": "İK", "Value": "2"}])
    tags = await call(ctx, "ListRoleTags", RoleName="GameRole")
    assert tags["Tags"] == [{"Key": "ik", "Value": "1"}, {"Key": "İK", "Value": "2"}]
    await create(ctx, "Other", Tags=[{"Key": "ik", "Value": "1"}, {"Key": "İK", "Value": "2"}])
    other = await call(ctx, "ListRoleTags", RoleName="Other")
    assert other["Tags"] == tags["Tags"]


@pytest.mark.parametrize(
    "keys",
    [["ẞ", "ß"], ["ΟΔΟΣ", "οδος"], ["\u212a", "k"]],
    ids=["sharp-s", "final-sigma", "kelvin"],
)
async def test_keys_equal_after_folding_are_duplicates(ctx: CallContext, keys: list[str]) -> None:
    tags = [{"Key": key, "Value": str(index)} for index, key in enumerate(keys)]
    with pytest.raises(InvalidInput, match="Duplicate tag keys found"):
        await create(ctx, Tags=tags)
    await create(ctx)
    with pytest.raises(InvalidInput, match="Duplicate tag keys found"):
        await call(ctx, "TagRole", RoleName="GameRole", Tags=tags)

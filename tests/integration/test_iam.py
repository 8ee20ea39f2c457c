"""The IAM control plane through the real boto3 client and the real AWS CLI."""

from __future__ import annotations

import json
import uuid
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer

ACCOUNT = "000000000000"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def trust_policy(provider: str = "accounts.google.com", aud: str = "game-app") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{provider}:aud": aud}},
            }
        ],
    }


PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::game-assets/${cognito-identity.amazonaws.com:sub}/*",
        }
    ],
}


def error_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def make_role(iam: Any, name: str | None = None, **extra: Any) -> str:
    role_name = name or unique("role")
    iam.create_role(
        RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust_policy()), **extra
    )
    return role_name


# --- OIDC providers ---------------------------------------------------------------------------


def test_oidc_provider_lifecycle(iam: Any) -> None:
    host = f"{uuid.uuid4().hex[:8]}.idp.example.com"
    created = iam.create_open_id_connect_provider(
        Url=f"https://{host}/tenant",
        ClientIDList=["app-one"],
        ThumbprintList=["a" * 40],
        Tags=[{"Key": "team", "Value": "games"}],
    )
    arn = created["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}/tenant"
    assert created["Tags"] == [{"Key": "team", "Value": "games"}]

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-two")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-two")
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert described["Url"] == f"{host}/tenant"
    assert sorted(described["ClientIDList"]) == ["app-one", "app-two"]
    assert described["ThumbprintList"] == ["a" * 40]
    assert described["CreateDate"].tzinfo is not None

    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="app-one"
    )
    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="app-one"
    )
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40, "c" * 40]
    )
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert described["ClientIDList"] == ["app-two"]
    assert described["ThumbprintList"] == ["b" * 40, "c" * 40]

    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Arn": arn} in listed

    iam.tag_open_id_connect_provider(
        OpenIDConnectProviderArn=arn,
        Tags=[{"Key": "Env", "Value": "dev"}, {"Key": "env", "Value": "x"}],
    )
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert [t["Key"] for t in tags] == ["Env", "env", "team"]  # case-sensitive, sorted by key
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team", "env"])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert tags == [{"Key": "Env", "Value": "dev"}]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(caught) == ("NoSuchEntity", 404)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://insecure.example.com", "InvalidInput"),
        ("https://example.com/?q=1", "InvalidInput"),
        ("not a url", "InvalidInput"),
    ],
    ids=["http-without-flag", "query", "garbage"],
)
def test_oidc_provider_bad_urls(iam: Any, url: str, code: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])
    assert error_of(caught) == (code, 400)


def test_oidc_provider_duplicates_and_limits(iam: Any) -> None:
    url = f"https://{uuid.uuid4().hex[:8]}.example.com"
    iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])
    assert error_of(caught) == ("EntityAlreadyExists", 409)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(
            Url=f"https://{uuid.uuid4().hex[:8]}.example.com",
            ClientIDList=[f"c{i}" for i in range(101)],
        )
    assert error_of(caught)[1] in (400, 409)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(
            Url=f"https://{uuid.uuid4().hex[:8]}.example.com", ThumbprintList=["a" * 40] * 6
        )
    assert error_of(caught)[1] in (400, 409)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(
            Url=f"https://{uuid.uuid4().hex[:8]}.example.com", ThumbprintList=["abc"]
        )
    assert error_of(caught) == ("ValidationError", 400)


def test_missing_provider_errors(iam: Any) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/missing.example.com"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="x")
    assert error_of(caught) == ("NoSuchEntity", 404)


# --- roles ------------------------------------------------------------------------------------


def test_role_lifecycle(iam: Any) -> None:
    name = unique("Player")
    created = iam.create_role(
        RoleName=name,
        Path="/games/",
        AssumeRolePolicyDocument=json.dumps(trust_policy()),
        Description="players of the game",
        MaxSessionDuration=7200,
        Tags=[{"Key": "Team", "Value": "games"}],
    )["Role"]
    assert created["RoleName"] == name
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/games/{name}"
    assert created["RoleId"].startswith("AROA")
    assert created["AssumeRolePolicyDocument"] == trust_policy()  # boto3 decoded it back
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Description"] == "players of the game"
    assert role["MaxSessionDuration"] == 7200
    assert role["RoleId"] == created["RoleId"]
    assert role["Tags"] == [{"Key": "Team", "Value": "games"}]

    iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=43200)
    iam.update_role_description(RoleName=name, Description="changed again")
    role = iam.get_role(RoleName=name)["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("changed again", 43200)

    new_trust = trust_policy(aud="other-app")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(new_trust))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == new_trust

    iam.delete_role(RoleName=name)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.get_role(RoleName=name)
    assert error_of(caught) == ("NoSuchEntity", 404)


def test_role_names_are_unique_ignoring_case(iam: Any) -> None:
    name = unique("ProdRole")
    make_role(iam, name)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        make_role(iam, name.upper())
    assert error_of(caught) == ("EntityAlreadyExists", 409)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"RoleName": "bad/name"}, "ValidationError"),
        ({"RoleName": "x" * 65}, "ValidationError"),
        ({"MaxSessionDuration": 60}, "ValidationError"),
        ({"MaxSessionDuration": 50000}, "ValidationError"),
        ({"Path": "no-slashes"}, "ValidationError"),
        ({"AssumeRolePolicyDocument": "{not json"}, "MalformedPolicyDocument"),
        (
            {"AssumeRolePolicyDocument": json.dumps({"Statement": [{"Effect": "Allow"}]})},
            "MalformedPolicyDocument",
        ),
        (
            {
                "AssumeRolePolicyDocument": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
                        ],
                    }
                )
            },
            "MalformedPolicyDocument",
        ),
    ],
    ids=[
        "slash-in-name",
        "name-too-long",
        "session-too-short",
        "session-too-long",
        "bad-path",
        "trust-not-json",
        "trust-no-action",
        "trust-no-principal",
    ],
)
def test_create_role_rejections(iam: Any, overrides: dict[str, Any], code: str) -> None:
    params: dict[str, Any] = {
        "RoleName": unique("r"),
        "AssumeRolePolicyDocument": json.dumps(trust_policy()),
        **overrides,
    }
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_role(**params)
    assert error_of(caught) == (code, 400)


def test_trust_policy_size_limit(iam: Any) -> None:
    big = trust_policy()
    big["Statement"][0]["Condition"]["StringEquals"]["accounts.google.com:aud"] = [
        f"app-{i:05d}" for i in range(250)
    ]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_role(RoleName=unique("big"), AssumeRolePolicyDocument=json.dumps(big))
    assert error_of(caught) == ("LimitExceeded", 409)


def test_list_roles_paginates_and_filters(iam: Any) -> None:
    prefix = f"/page{uuid.uuid4().hex[:6]}/"
    names = sorted(make_role(iam, Path=prefix) for _ in range(5))
    seen: list[str] = []
    marker: dict[str, str] = {}
    while True:
        page = iam.list_roles(PathPrefix=prefix, MaxItems=2, **marker)
        assert len(page["Roles"]) <= 2
        seen.extend(role["RoleName"] for role in page["Roles"])
        if not page["IsTruncated"]:
            break
        marker = {"Marker": page["Marker"]}
    assert sorted(seen) == names
    paginated = iam.get_paginator("list_roles").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 3}
    )
    assert sorted(r["RoleName"] for page in paginated for r in page["Roles"]) == names


def test_bad_marker_is_rejected(iam: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.list_roles(Marker="not-a-marker-we-gave")
    assert error_of(caught)[1] == 400


def test_inline_role_policies(iam: Any) -> None:
    name = make_role(iam)
    iam.put_role_policy(RoleName=name, PolicyName="data", PolicyDocument=json.dumps(PERMISSIONS))
    got = iam.get_role_policy(RoleName=name, PolicyName="data")
    assert got["PolicyDocument"] == PERMISSIONS
    assert (got["RoleName"], got["PolicyName"]) == (name, "data")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["data"]

    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.delete_role(RoleName=name)
    assert error_of(caught) == ("DeleteConflict", 409)

    identity_with_principal = {
        **PERMISSIONS,
        "Statement": [{**PERMISSIONS["Statement"][0], "Principal": "*"}],
    }
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.put_role_policy(
            RoleName=name, PolicyName="bad", PolicyDocument=json.dumps(identity_with_principal)
        )
    assert error_of(caught) == ("MalformedPolicyDocument", 400)

    iam.delete_role_policy(RoleName=name, PolicyName="data")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.get_role_policy(RoleName=name, PolicyName="data")
    assert error_of(caught) == ("NoSuchEntity", 404)
    iam.delete_role(RoleName=name)


def test_inline_policy_aggregate_limit(iam: Any) -> None:
    name = make_role(iam)
    statement = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::" + "b" * 80 + "/*",
    }
    document = {"Version": "2012-10-17", "Statement": [statement] * 30}  # ~4,000 characters
    iam.put_role_policy(RoleName=name, PolicyName="one", PolicyDocument=json.dumps(document))
    iam.put_role_policy(RoleName=name, PolicyName="two", PolicyDocument=json.dumps(document))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.put_role_policy(RoleName=name, PolicyName="three", PolicyDocument=json.dumps(document))
    assert error_of(caught) == ("LimitExceeded", 409)
    # Whitespace is not counted: the same document pretty-printed replaces "two" in place.
    iam.put_role_policy(
        RoleName=name, PolicyName="two", PolicyDocument=json.dumps(document, indent=8)
    )


def test_role_tags(iam: Any) -> None:
    name = make_role(iam)
    iam.tag_role(
        RoleName=name, Tags=[{"Key": "Project", "Value": "a"}, {"Key": "Cost", "Value": "1"}]
    )
    iam.tag_role(RoleName=name, Tags=[{"Key": "project", "Value": "b"}])  # same key, other case
    tags = {t["Key"].lower(): t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
    assert tags == {"project": "b", "cost": "1"}
    iam.untag_role(RoleName=name, TagKeys=["PROJECT"])
    assert [t["Key"] for t in iam.list_role_tags(RoleName=name)["Tags"]] == ["Cost"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.tag_role(RoleName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(caught) == ("LimitExceeded", 409)


# --- managed policies -------------------------------------------------------------------------


def make_policy(iam: Any, document: dict[str, Any] = PERMISSIONS) -> dict[str, Any]:
    return iam.create_policy(PolicyName=unique("pol"), PolicyDocument=json.dumps(document))[
        "Policy"
    ]


def test_managed_policy_versions(iam: Any) -> None:
    policy = make_policy(iam)
    arn = policy["Arn"]
    assert policy["PolicyId"].startswith("ANPA")
    assert policy["DefaultVersionId"] == "v1"
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{policy['PolicyName']}"
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == PERMISSIONS
    assert version["IsDefaultVersion"] is True

    for number in range(2, 6):
        doc = {**PERMISSIONS, "Statement": [{**PERMISSIONS["Statement"][0], "Sid": f"V{number}"}]}
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=number == 3
        )
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(PERMISSIONS))
    assert error_of(caught) == ("LimitExceeded", 409)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]

    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(caught) == ("DeleteConflict", 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v5"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(PERMISSIONS))
    assert "v6" in {v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]}


def test_attach_detach_and_delete_rules(iam: Any) -> None:
    policy = make_policy(iam)
    name = make_role(iam)
    iam.attach_role_policy(RoleName=name, PolicyArn=policy["Arn"])
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]}]
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.delete_policy(PolicyArn=policy["Arn"])
    assert error_of(caught) == ("DeleteConflict", 409)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.delete_role(RoleName=name)
    assert error_of(caught) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName=name, PolicyArn=policy["Arn"])
    iam.delete_role(RoleName=name)
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.get_policy(PolicyArn=policy["Arn"])
    assert error_of(caught) == ("NoSuchEntity", 404)


def test_attach_limits_and_missing(iam: Any) -> None:
    name = make_role(iam)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none-such")
    assert error_of(caught) == ("NoSuchEntity", 404)
    policies = [make_policy(iam) for _ in range(11)]
    for policy in policies[:10]:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy["Arn"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.attach_role_policy(RoleName=name, PolicyArn=policies[10]["Arn"])
    assert error_of(caught) == ("LimitExceeded", 409)


def test_list_policies_scope_and_only_attached(iam: Any) -> None:
    attached = make_policy(iam)
    loose = make_policy(iam)
    name = make_role(iam)
    iam.attach_role_policy(RoleName=name, PolicyArn=attached["Arn"])
    local = {p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert {attached["Arn"], loose["Arn"]} <= local
    only = {p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]}
    assert attached["Arn"] in only
    assert loose["Arn"] not in only


def test_managed_policy_size_limit(iam: Any) -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::" + "b" * 200,
    }
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        make_policy(iam, {"Version": "2012-10-17", "Statement": [statement] * 30})
    assert error_of(caught) == ("LimitExceeded", 409)


def test_permissions_boundary(iam: Any) -> None:
    boundary = make_policy(iam)
    name = make_role(iam, PermissionsBoundary=boundary["Arn"])
    role = iam.get_role(RoleName=name)["Role"]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": boundary["Arn"],
    }
    assert iam.get_policy(PolicyArn=boundary["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary["Arn"])
    assert (
        iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        == boundary["Arn"]
    )


# --- the AWS CLI and restarts -----------------------------------------------------------------


def test_cli_round_trip(server: WebfedServer, tmp_path: Any) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(trust_policy()))
    name = unique("CliRole")
    created = server.aws(
        "iam",
        "create-role",
        "--role-name",
        name,
        "--assume-role-policy-document",
        f"file://{trust}",
    )
    assert created["Role"]["AssumeRolePolicyDocument"] == trust_policy()
    perms = tmp_path / "perms.json"
    perms.write_text(json.dumps(PERMISSIONS))
    server.aws(
        "iam",
        "put-role-policy",
        "--role-name",
        name,
        "--policy-name",
        "p",
        "--policy-document",
        f"file://{perms}",
    )
    assert (
        server.aws("iam", "get-role-policy", "--role-name", name, "--policy-name", "p")[
            "PolicyDocument"
        ]
        == PERMISSIONS
    )
    url = f"https://{uuid.uuid4().hex[:8]}.cli.example.com"
    arn = server.aws(
        "iam", "create-open-id-connect-provider", "--url", url, "--client-id-list", "cli-app"
    )["OpenIDConnectProviderArn"]
    assert server.aws("iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)[
        "ClientIDList"
    ] == ["cli-app"]
    policy_arn = server.aws(
        "iam",
        "create-policy",
        "--policy-name",
        unique("clipol"),
        "--policy-document",
        f"file://{perms}",
    )["Policy"]["Arn"]
    server.aws("iam", "attach-role-policy", "--role-name", name, "--policy-arn", policy_arn)
    listed = server.aws("iam", "list-attached-role-policies", "--role-name", name)[
        "AttachedPolicies"
    ]
    assert [p["PolicyArn"] for p in listed] == [policy_arn]
    roles = server.aws("iam", "list-roles")["Roles"]  # the CLI paginates on its own
    assert name in {role["RoleName"] for role in roles}
    failure = server.aws("iam", "get-role", "--role-name", unique("missing"), expect_ok=False)
    assert "NoSuchEntity" in failure.stderr


def test_state_survives_restart(server: WebfedServer) -> None:
    name = make_role(server.client("iam"))
    server.restart()
    assert server.client("iam").get_role(RoleName=name)["Role"]["RoleName"] == name


@pytest.mark.parametrize(
    "url",
    [
        "https://nul.example.com/\x00x",
        "https://tab.example.com/\tx",
        "https://del.example.com/\x7f",
    ],
    ids=["nul", "tab", "del"],
)
def test_provider_url_control_characters_are_invalid_input(iam: Any, url: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"])
    assert error_of(caught) == ("InvalidInput", 400)


def test_client_id_control_characters_are_invalid_input(iam: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.create_open_id_connect_provider(
            Url=f"https://{uuid.uuid4().hex[:8]}.example.com", ClientIDList=["a\x00b"]
        )
    assert error_of(caught) == ("InvalidInput", 400)
    arn = iam.create_open_id_connect_provider(
        Url=f"https://{uuid.uuid4().hex[:8]}.example.com", ClientIDList=["a"]
    )["OpenIDConnectProviderArn"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn=arn, ClientID="x\x01"
        )
    assert error_of(caught) == ("InvalidInput", 400)


def test_path_prefix_is_case_sensitive(iam: Any) -> None:
    lower = f"/svc{uuid.uuid4().hex[:6]}/"
    name = make_role(iam, Path=lower)
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix=lower)["Roles"]] == [name]
    assert iam.list_roles(PathPrefix=lower.upper())["Roles"] == []

"""SimulatePrincipalPolicy and SimulateCustomPolicy through boto3 and the AWS CLI."""

from __future__ import annotations

import json
import uuid
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer

ACCOUNT = "000000000000"
GAME = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OwnPrefix",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::game-assets/${cognito-identity.amazonaws.com:sub}/*",
        },
        {
            "Sid": "OwnRows",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/Scores",
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]
                }
            },
        },
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    ],
}
SUB = [
    {
        "ContextKeyName": "cognito-identity.amazonaws.com:sub",
        "ContextKeyValues": ["p1"],
        "ContextKeyType": "string",
    }
]


def decisions(response: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"]
        for r in response["EvaluationResults"]
    }


def test_simulate_custom_policy(iam: Any) -> None:
    response = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(GAME)],
        ActionNames=["s3:GetObject", "s3:DeleteObject"],
        ResourceArns=[
            "arn:aws:s3:::game-assets/p1/avatar.png",
            "arn:aws:s3:::game-assets/p2/avatar.png",
        ],
        ContextEntries=SUB,
    )
    assert decisions(response) == {
        ("s3:GetObject", "arn:aws:s3:::game-assets/p1/avatar.png"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::game-assets/p2/avatar.png"): "implicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::game-assets/p1/avatar.png"): "explicitDeny",
        ("s3:DeleteObject", "arn:aws:s3:::game-assets/p2/avatar.png"): "explicitDeny",
    }
    allowed = response["EvaluationResults"][0]
    assert allowed["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert allowed["MissingContextValues"] == ["dynamodb:LeadingKeys"]


def test_simulate_leading_keys_multi_valued(iam: Any) -> None:
    table = "arn:aws:dynamodb:us-east-1:000000000000:table/Scores"
    own = [
        *SUB,
        {
            "ContextKeyName": "dynamodb:LeadingKeys",
            "ContextKeyValues": ["p1"],
            "ContextKeyType": "stringList",
        },
    ]
    other = [
        *SUB,
        {
            "ContextKeyName": "dynamodb:LeadingKeys",
            "ContextKeyValues": ["p1", "p2"],
            "ContextKeyType": "stringList",
        },
    ]
    for entries, expected in ((own, "allowed"), (other, "implicitDeny")):
        response = iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(GAME)],
            ActionNames=["dynamodb:GetItem"],
            ResourceArns=[table],
            ContextEntries=entries,
        )
        assert response["EvaluationResults"][0]["EvalDecision"] == expected


def test_simulate_principal_policy_with_boundary_and_paging(iam: Any) -> None:
    name = f"Sim-{uuid.uuid4().hex[:8]}"
    boundary = iam.create_policy(
        PolicyName=f"bound-{uuid.uuid4().hex[:8]}",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    arn = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=boundary
    )["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="game", PolicyDocument=json.dumps(GAME))
    response = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::game-assets/p1/x"],
        ContextEntries=SUB,
    )
    results = {r["EvalActionName"]: r for r in response["EvaluationResults"]}
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"  # outside the boundary
    assert results["s3:PutObject"]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }
    page = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"], MaxItems=1
    )
    assert page["IsTruncated"] is True
    rest = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        MaxItems=1,
        Marker=page["Marker"],
    )
    assert [r["EvalActionName"] for r in page["EvaluationResults"] + rest["EvaluationResults"]] == [
        "s3:GetObject",
        "s3:PutObject",
    ]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/none-such", ActionNames=["s3:GetObject"]
        )
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_simulate_with_the_cli(server: WebfedServer, tmp_path: Any) -> None:
    policy = tmp_path / "game.json"
    policy.write_text(json.dumps([json.dumps(GAME)]))  # the CLI reads a list of documents
    output = server.aws(
        "iam",
        "simulate-custom-policy",
        "--policy-input-list",
        f"file://{policy}",
        "--action-names",
        "s3:PutObject",
        "--resource-arns",
        "arn:aws:s3:::game-assets/p1/save.json",
        "--context-entries",
        "ContextKeyName=cognito-identity.amazonaws.com:sub,ContextKeyValues=p1,ContextKeyType=string",
    )
    assert output["EvaluationResults"][0]["EvalDecision"] == "allowed"

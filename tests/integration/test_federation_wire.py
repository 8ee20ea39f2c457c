"""``AssumeRoleWithWebIdentity`` on the wire, below boto3: the Query protocol's form and GET
encodings, the XML success and error envelopes (spec §1.1), and the model's constraints that an
SDK with validation off passes straight through (``RoleArn`` 20..2048, ``Policy`` pattern,
``DurationSeconds`` an integer). Plus a role with a path, whose session ARN drops the path.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    Federation,
    error_of,
    federation,
    unique,
)

__all__ = ["federation"]

NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


@pytest.fixture(scope="module")
def role_arn(federation: Federation) -> str:
    return federation.role()


def _form(federation: Federation, role_arn: str, **extra: str) -> dict[str, str]:
    return {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": role_arn,
        "RoleSessionName": "wire",
        "WebIdentityToken": federation.token(),
        **extra,
    }


def test_post_form_success_envelope(federation: Federation, role_arn: str) -> None:
    response = httpx.post(federation.server.url, data=_form(federation, role_arn), timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}AssumeRoleWithWebIdentityResponse"
    result = root.find(f"{NS}AssumeRoleWithWebIdentityResult")
    assert result is not None
    expiration = result.findtext(f"{NS}Credentials/{NS}Expiration") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expiration)
    assert result.findtext(f"{NS}SubjectFromWebIdentityToken") == "user-1"
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")


def test_get_query_is_accepted(federation: Federation, role_arn: str) -> None:
    response = httpx.get(federation.server.url, params=_form(federation, role_arn), timeout=10)
    assert response.status_code == 200, response.text
    assert b"<AccessKeyId>ASIA" in response.content


def test_error_envelope(federation: Federation, role_arn: str) -> None:
    form = _form(federation, role_arn, WebIdentityToken="abcd.efgh.ijkl")
    response = httpx.post(federation.server.url, data=form, timeout=10)
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}ErrorResponse"
    assert root.findtext(f"{NS}Error/{NS}Type") == "Sender"
    assert root.findtext(f"{NS}Error/{NS}Code") == "InvalidIdentityToken"
    assert root.findtext(f"{NS}Error/{NS}Message")
    assert root.findtext(f"{NS}RequestId")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        pytest.param({"RoleArn": "arn:aws:iam::1:r"}, "ValidationError", id="role-arn-too-short"),
        pytest.param(
            {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/" + "r" * 2100},
            "ValidationError",
            id="role-arn-too-long",
        ),
        pytest.param({"DurationSeconds": "an-hour"}, "ValidationError", id="duration-not-int"),
        pytest.param({"DurationSeconds": "3600.5"}, "ValidationError", id="duration-fraction"),
        pytest.param(
            {"Policy": '{"Version":"2012-10-17","Statement":[]}\u2603'},
            "ValidationError",
            id="policy-outside-pattern",
        ),
        pytest.param({"RoleSessionName": ""}, "ValidationError", id="empty-session-name"),
    ],
)
def test_model_constraints(
    federation: Federation, role_arn: str, extra: dict[str, str], code: str
) -> None:
    response = httpx.post(federation.server.url, data=_form(federation, role_arn, **extra))
    assert response.status_code == 400, response.text
    root = ET.fromstring(response.content)
    assert root.findtext(f"{NS}Error/{NS}Code") == code


def test_missing_token_parameter(federation: Federation, role_arn: str) -> None:
    form = _form(federation, role_arn)
    del form["WebIdentityToken"]
    response = httpx.post(federation.server.url, data=form, timeout=10)
    assert response.status_code == 400
    code = ET.fromstring(response.content).findtext(f"{NS}Error/{NS}Code")
    assert code == "ValidationError"


def test_role_with_a_path(federation: Federation) -> None:
    name = unique("pathed")
    created: dict[str, Any] = federation.iam.create_role(
        RoleName=name,
        Path="/games/mobile/",
        AssumeRolePolicyDocument=_trust(federation),
    )
    arn = created["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/games/mobile/{name}"
    result = federation.assume(arn, federation.token(), RoleSessionName="pathed")
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/pathed"
    without_path = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(without_path, federation.token())
    assert error_of(caught) == ("AccessDenied", 403)


def _trust(federation: Federation) -> str:
    statement = federation.web_identity_statement()
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

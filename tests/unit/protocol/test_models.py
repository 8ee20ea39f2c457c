"""Loading and compiling the botocore service models."""

from __future__ import annotations

import pytest

from webfed.errors import InvalidParameterException, ValidationError
from webfed.protocol.models import load_service
from webfed.protocol.shapes import ListNode, MapNode, Ref, Scalar, Structure, resolve

METADATA = [
    (
        "sts",
        "2011-06-15",
        "query",
        "https://sts.amazonaws.com/doc/2011-06-15/",
        "",
        "sts",
        ValidationError,
    ),
    (
        "iam",
        "2010-05-08",
        "query",
        "https://iam.amazonaws.com/doc/2010-05-08/",
        "",
        "iam",
        ValidationError,
    ),
    (
        "cognito-identity",
        "2014-06-30",
        "json",
        "",
        "AWSCognitoIdentityService",
        "cognito-identity",
        InvalidParameterException,
    ),
]


@pytest.mark.parametrize(
    ("name", "version", "protocol", "namespace", "target", "signing", "error"),
    METADATA,
    ids=[m[0] for m in METADATA],
)
def test_service_metadata(
    name: str, version: str, protocol: str, namespace: str, target: str, signing: str, error: type
) -> None:
    meta = load_service(name).meta
    assert (meta.api_version, meta.protocol, meta.xml_namespace) == (version, protocol, namespace)
    assert (meta.target_prefix, meta.signing_name, meta.validation_error) == (
        target,
        signing,
        error,
    )


def test_load_is_cached() -> None:
    assert load_service("sts") is load_service("sts")


def test_operations_are_a_dict() -> None:
    sts = load_service("sts")
    assert isinstance(sts.operations, type(sts.operations))
    assert sts.operation("AssumeRoleWithWebIdentity") is sts.operations["AssumeRoleWithWebIdentity"]
    assert sts.operation("Nope") is None
    with pytest.raises(TypeError):
        sts.operations["X"] = sts.operations["GetCallerIdentity"]  # type: ignore[index]


def test_assume_role_with_web_identity_is_compiled_from_the_model() -> None:
    op = load_service("sts").operations["AssumeRoleWithWebIdentity"]
    assert op.result_wrapper == "AssumeRoleWithWebIdentityResult"
    assert {"InvalidIdentityToken", "ExpiredTokenException", "IDPRejectedClaim"} <= op.error_codes
    members = {m.name: m for m in op.input.members}
    assert {n for n, m in members.items() if m.required} == {
        "RoleArn",
        "RoleSessionName",
        "WebIdentityToken",
    }
    token = members["WebIdentityToken"].node
    assert isinstance(token, Scalar) and token.sensitive and token.max_length == 20000
    assert members["RoleSessionName"].label == "roleSessionName"
    duration = members["DurationSeconds"].node
    assert isinstance(duration, Scalar) and (duration.minimum, duration.maximum) == (900, 43200)
    arns = members["PolicyArns"].node
    assert isinstance(arns, ListNode) and isinstance(arns.member, Structure)


def test_operation_without_output() -> None:
    op = load_service("iam").operations["DeleteRole"]
    assert op.output is None and op.result_wrapper is None


def test_json_service_has_no_result_wrapper() -> None:
    op = load_service("cognito-identity").operations["GetId"]
    assert op.result_wrapper is None
    logins = {m.name: m.node for m in op.input.members}["Logins"]
    assert isinstance(logins, MapNode) and isinstance(logins.value, Scalar)
    assert logins.value.sensitive and logins.sensitive


def test_generic_loader_compiles_recursive_dynamodb_shapes() -> None:
    dynamodb = load_service("dynamodb")
    assert dynamodb.meta.target_prefix == "DynamoDB_20120810"
    item = {m.name: m.node for m in dynamodb.operations["PutItem"].input.members}["Item"]
    assert isinstance(item, MapNode)
    value = resolve(item.value)
    assert isinstance(value, Structure)
    nested = {m.name: m.node for m in value.members}["M"]
    assert isinstance(nested, MapNode) and isinstance(nested.value, Ref)
    assert resolve(nested.value) is value

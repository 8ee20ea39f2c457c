"""JSON 1.1 protocol (Cognito Identity): target resolution, strict decoding, encoding, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from webfed.errors import (
    InvalidParameterException,
    NotAuthorized,
    RequestEntityTooLarge,
    ResourceNotFound,
    SerializationError,
    UnknownOperation,
    ValidationError,
    WebfedError,
)
from webfed.protocol.json11 import (
    MAX_JSON_BYTES,
    decode_json,
    encode_json_error,
    encode_json_response,
    json_content_type,
    resolve_target,
)
from webfed.protocol.models import load_service

from .synthetic import model_data, operation, service

# --- published vectors: botocore's json input/output suites on the synthetic model ------------

INPUTS = [
    ("scalars", {"Name": "ab", "Count": 3, "Flag": True}, {"Name": "ab", "Count": 3, "Flag": True}),
    (
        "timestamp in epoch seconds",
        {"Name": "ab", "When": 1422172800},
        {"Name": "ab", "When": datetime(2015, 1, 25, 8, tzinfo=UTC)},
    ),
    (
        "fractional epoch",
        {"Name": "ab", "When": 1422172800.5},
        {"Name": "ab", "When": datetime(2015, 1, 25, 8, 0, 0, 500000, tzinfo=UTC)},
    ),
    ("base64 blob", {"Name": "ab", "Data": "Zm9v"}, {"Name": "ab", "Data": b"foo"}),
    ("nested", {"Name": "ab", "Inner": {"Key": "kk"}}, {"Name": "ab", "Inner": {"Key": "kk"}}),
    ("list", {"Name": "ab", "Names": ["ab", "cd"]}, {"Name": "ab", "Names": ["ab", "cd"]}),
    ("empty list", {"Name": "ab", "Names": []}, {"Name": "ab", "Names": []}),
    ("map", {"Name": "ab", "Attributes": {"red": "x"}}, {"Name": "ab", "Attributes": {"red": "x"}}),
    (
        "recursive",
        {"Name": "ab", "Tree": {"Child": {"Children": [{"Leaf": "x"}]}}},
        {"Name": "ab", "Tree": {"Child": {"Children": [{"Leaf": "x"}]}}},
    ),
    ("double words", {"Name": "ab", "Ratio": "Infinity"}, {"Name": "ab", "Ratio": float("inf")}),
    ("integral double", {"Name": "ab", "Ratio": 2}, {"Name": "ab", "Ratio": 2.0}),
    (
        "nulls and unknown members ignored",
        {"Name": "ab", "Count": None, "Nope": [1]},
        {"Name": "ab"},
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"), [i[1:] for i in INPUTS], ids=[i[0] for i in INPUTS]
)
def test_json_inputs_decode(document: dict[str, Any], expected: dict[str, Any]) -> None:
    assert decode_json(operation("json"), json.dumps(document).encode()) == expected


def test_botocore_json_serializer_round_trip() -> None:
    model = ServiceModel(model_data("json"), "synthetic-json").operation_model("OperationName")
    params = {
        "Name": "ab",
        "When": datetime(2015, 1, 25, 8, tzinfo=UTC),
        "Data": b"\x00\xff",
        "Tags": [{"Key": "kk", "Value": "v"}],
        "FlatMap": {"k": "v"},
    }
    request = create_serializer("json").serialize_to_request(params, model)
    assert request["headers"]["X-Amz-Target"] == "Synthetic_20140101.OperationName"
    op = resolve_target(service("json"), request["headers"]["X-Amz-Target"])
    assert decode_json(op, request["body"]) == params


@pytest.mark.parametrize("body", [b"", b"  \n"], ids=["empty", "whitespace"])
def test_empty_body_is_an_empty_object(body: bytes) -> None:
    cognito = load_service("cognito-identity")
    with pytest.raises(InvalidParameterException) as caught:
        decode_json(cognito.operations["ListIdentityPools"], body)
    assert caught.value.message == (
        "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_content_type() -> None:
    assert json_content_type(load_service("cognito-identity")) == "application/x-amz-json-1.1"


# --- malformed bodies -----------------------------------------------------------------------

BAD_BODIES = [
    ("not UTF-8", b'{"Name": "\xff"}', SerializationError),
    ("UTF-16", json.dumps({"Name": "ab"}).encode("utf-16"), SerializationError),
    ("not JSON", b"{", SerializationError),
    ("trailing garbage", b'{"Name": "ab"} x', SerializationError),
    ("array body", b'["Name"]', SerializationError),
    ("string body", b'"Name"', SerializationError),
    ("null body", b"null", SerializationError),
    ("NaN", b'{"Name": "ab", "Ratio": NaN}', SerializationError),
    ("Infinity", b'{"Name": "ab", "Count": Infinity}', SerializationError),
    ("duplicate key", b'{"Name": "ab", "Name": "cd"}', SerializationError),
    ("lone surrogate", b'{"Name": "a\\ud800"}', SerializationError),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, SerializationError),
    (
        "deep nesting in a member",
        b'{"Name": "ab", "Nope": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        SerializationError,
    ),
    ("huge integer", b'{"Name": "ab", "Count": 1' + b"0" * 5000 + b"}", SerializationError),
    ("too large", b'{"Name": "' + b"a" * MAX_JSON_BYTES + b'"}', RequestEntityTooLarge),
]


@pytest.mark.parametrize(
    ("body", "error"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_malformed_bodies(body: bytes, error: type[WebfedError]) -> None:
    with pytest.raises(error) as caught:
        decode_json(operation("json"), body)
    assert 400 <= caught.value.status < 500


WRONG_TYPES = [
    ("number for string", {"Name": 12}),
    ("string for integer", {"Name": "ab", "Count": "3"}),
    ("float for integer", {"Name": "ab", "Count": 3.0}),
    ("boolean for integer", {"Name": "ab", "Count": True}),
    ("integer beyond 32 bits", {"Name": "ab", "Count": 2**31}),
    ("string for boolean", {"Name": "ab", "Flag": "true"}),
    ("string for timestamp", {"Name": "ab", "When": "2015-01-25T08:00:00Z"}),
    ("timestamp out of range", {"Name": "ab", "When": 10**20}),
    ("bad base64", {"Name": "ab", "Data": "!!"}),
    ("object for list", {"Name": "ab", "Names": {"a": 1}}),
    ("list for structure", {"Name": "ab", "Inner": ["Key"]}),
    ("list for map", {"Name": "ab", "Attributes": ["red"]}),
    ("number in map value", {"Name": "ab", "Attributes": {"red": 1}}),
    ("null list element", {"Name": "ab", "Names": [None]}),
]


@pytest.mark.parametrize("document", [w[1] for w in WRONG_TYPES], ids=[w[0] for w in WRONG_TYPES])
def test_wrong_member_types_are_serialization_errors(document: dict[str, Any]) -> None:
    with pytest.raises(SerializationError) as caught:
        decode_json(operation("json"), json.dumps(document).encode())
    assert caught.value.code == "SerializationException"
    assert caught.value.status == 400


def test_constraint_violation_uses_the_service_class() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_json(operation("json"), b'{"Name": "a", "Secret": "xyz"}')
    assert caught.value.wire_json_code == "ValidationException"
    assert "xyz" not in caught.value.message
    assert "2 validation errors detected" in caught.value.message


def test_cognito_validation_is_invalid_parameter_exception() -> None:
    cognito = load_service("cognito-identity")
    body = json.dumps({"IdentityPoolId": "bad id", "Logins": {}}).encode()
    with pytest.raises(InvalidParameterException) as caught:
        decode_json(cognito.operations["GetId"], body)
    assert caught.value.message == (
        "1 validation error detected: Value 'bad id' at 'identityPoolId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+"
    )


def test_cognito_logins_tokens_are_redacted() -> None:
    cognito = load_service("cognito-identity")
    logins = {"accounts.google.com": "x" * 50_001}
    body = json.dumps({"IdentityId": "us-east-1:0000", "Logins": logins}).encode()
    with pytest.raises(InvalidParameterException) as caught:
        decode_json(cognito.operations["GetOpenIdToken"], body)
    assert "xxxx" not in caught.value.message


# --- targets --------------------------------------------------------------------------------

TARGETS = [
    ("missing", None),
    ("empty", ""),
    ("no dot", "AWSCognitoIdentityServiceGetId"),
    ("wrong prefix", "AWSCognitoIdentityProviderService.GetId"),
    ("unknown operation", "AWSCognitoIdentityService.Nope"),
]


@pytest.mark.parametrize("target", [t[1] for t in TARGETS], ids=[t[0] for t in TARGETS])
def test_unknown_targets(target: str | None) -> None:
    with pytest.raises(UnknownOperation) as caught:
        resolve_target(load_service("cognito-identity"), target)
    assert caught.value.code == "UnknownOperationException"
    assert caught.value.status == 400


def test_known_target() -> None:
    cognito = load_service("cognito-identity")
    assert resolve_target(cognito, "AWSCognitoIdentityService.GetId") is cognito.operations["GetId"]


# --- responses and errors -------------------------------------------------------------------

OUTPUTS = [
    ("timestamp as epoch", {"When": datetime(2015, 1, 25, 8, tzinfo=UTC)}, {"When": 1422172800}),
    (
        "fractional epoch",
        {"When": datetime(2015, 1, 25, 8, 0, 0, 250000, tzinfo=UTC)},
        {"When": 1422172800.25},
    ),
    ("blob", {"Data": b"foo"}, {"Data": "Zm9v"}),
    (
        "nested and recursive",
        {"Tree": {"Child": {"Leaf": "x"}}},
        {"Tree": {"Child": {"Leaf": "x"}}},
    ),
    ("None and unknown skipped", {"Name": None, "Other": 1, "Count": 2}, {"Count": 2}),
    ("map", {"Attributes": {"red": "r"}}, {"Attributes": {"red": "r"}}),
    ("nan double", {"Ratio": float("nan")}, {"Ratio": "NaN"}),
    ("lone surrogate stays valid JSON", {"Text": "a\ud800"}, {"Text": "a\ud800"}),
]


@pytest.mark.parametrize(
    ("result", "expected"), [o[1:] for o in OUTPUTS], ids=[o[0] for o in OUTPUTS]
)
def test_json_outputs(result: dict[str, Any], expected: dict[str, Any]) -> None:
    body = encode_json_response(operation("json"), result)
    body.decode("ascii")
    assert json.loads(body) == expected


def test_botocore_parses_json_output() -> None:
    model = ServiceModel(model_data("json"), "synthetic-json").operation_model("OperationName")
    result = {
        "When": datetime(2015, 1, 25, 8, tzinfo=UTC),
        "Data": b"\x01",
        "Tags": [{"Key": "kk"}],
    }
    body = encode_json_response(operation("json"), result)
    parsed = create_parser("json").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    assert parsed == result


def test_no_output_operation_is_an_empty_object() -> None:
    assert encode_json_response(operation("json", "NoOutput"), {"Name": "x"}) == b"{}"


ERRORS = [
    ("not authorized", NotAuthorized("Invalid login token."), "NotAuthorizedException", 403),
    (
        "not found",
        ResourceNotFound("IdentityPool 'x' not found."),
        "ResourceNotFoundException",
        404,
    ),
    ("validation spelled for JSON", ValidationError("bad"), "ValidationException", 400),
    ("unknown operation", UnknownOperation("nope"), "UnknownOperationException", 400),
]


@pytest.mark.parametrize(
    ("error", "code", "status"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_json_errors(error: WebfedError, code: str, status: int) -> None:
    body = encode_json_error(error)
    assert json.loads(body) == {"__type": code, "message": error.full_message}
    parsed = create_parser("json").parse({"body": body, "headers": {}, "status_code": status}, None)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == error.full_message
    assert error.status == status

"""Query protocol requests: form parsing, Action/Version, decoding and every constraint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from webfed.errors import (
    InvalidAction,
    MalformedQueryString,
    MissingAction,
    RequestEntityTooLarge,
    ValidationError,
    WebfedError,
)
from webfed.protocol.models import load_service
from webfed.protocol.query import MAX_FORM_FIELDS, decode_query, parse_form, resolve_action

from .synthetic import model_data, operation

# --- published vectors: botocore's query input suite, re-expressed on the synthetic model -----

VECTORS = [
    ("scalars", b"Name=val1&Label=val2", {"Name": "val1", "Label": "val2"}),
    ("nested structure", b"Name=ab&Inner.Key=foo", {"Name": "ab", "Inner": {"Key": "foo"}}),
    (
        "list",
        b"Name=ab&Names.member.1=foo&Names.member.2=bar&Names.member.3=baz",
        {"Name": "ab", "Names": ["foo", "bar", "baz"]},
    ),
    ("empty list", b"Name=ab&Names=", {"Name": "ab", "Names": []}),
    (
        "flattened list",
        b"Name=ab&Flat.1=a&Flat.2=b&Flat.3=c",
        {"Name": "ab", "Flat": ["a", "b", "c"]},
    ),
    (
        "flattened list, member name",
        b"Name=ab&Item.1=a&Item.2=b",
        {"Name": "ab", "Renamed": ["a", "b"]},
    ),
    (
        "list of structures",
        b"Name=ab&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2",
        {"Name": "ab", "Tags": [{"Key": "k1", "Value": "v1"}, {"Key": "k2"}]},
    ),
    (
        "map",
        b"Name=ab&Attributes.entry.1.key=red&Attributes.entry.1.value=v1"
        b"&Attributes.entry.2.key=green&Attributes.entry.2.value=v2",
        {"Name": "ab", "Attributes": {"red": "v1", "green": "v2"}},
    ),
    (
        "flattened map",
        b"Name=ab&FlatMap.1.key=k&FlatMap.1.value=v",
        {"Name": "ab", "FlatMap": {"k": "v"}},
    ),
    ("base64 blob", b"Name=ab&Data=Zm9v", {"Name": "ab", "Data": b"foo"}),
    (
        "timestamp",
        b"Name=ab&When=2015-01-25T08%3A00%3A00Z",
        {"Name": "ab", "When": datetime(2015, 1, 25, 8, tzinfo=UTC)},
    ),
    (
        "recursive structure",
        b"Name=ab&Tree.Child.Child.Child.Leaf=foo&Tree.Children.member.1.Leaf=a"
        b"&Tree.Children.member.2.Child.Leaf=b",
        {
            "Name": "ab",
            "Tree": {
                "Child": {"Child": {"Child": {"Leaf": "foo"}}},
                "Children": [{"Leaf": "a"}, {"Child": {"Leaf": "b"}}],
            },
        },
    ),
    (
        "integers and booleans",
        b"Name=ab&Count=7&Big=-9000000000&Flag=false",
        {"Name": "ab", "Count": 7, "Big": -9000000000, "Flag": False},
    ),
    ("double", b"Name=ab&Ratio=1.5e3", {"Name": "ab", "Ratio": 1500.0}),
    ("union", b"Name=ab&Pick.B=x", {"Name": "ab", "Pick": {"B": "x"}}),
    (
        "plus is space, escapes",
        b"Name=ab&Inner.Key=ab&Inner.Value=a+b%26c%3D%F0%9F%98%80",
        {"Name": "ab", "Inner": {"Key": "ab", "Value": "a b&c=\U0001f600"}},
    ),
    (
        "unknown parameters ignored",
        b"Name=ab&Bogus=1&Inner.Key=ab&Inner.Bogus=2&X-Amz-Date=x",
        {"Name": "ab", "Inner": {"Key": "ab"}},
    ),
    (
        "unicode letters match \\p{L}",
        "Name=ab&Label=héllo 5".encode(),
        {"Name": "ab", "Label": "héllo 5"},
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS]
)
def test_published_query_encodings_decode(body: bytes, expected: dict[str, Any]) -> None:
    assert decode_query(operation("query"), parse_form(body)) == expected


@pytest.mark.parametrize(
    ("body", "expected"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS]
)
def test_botocore_serializes_the_same_parameters(body: bytes, expected: dict[str, Any]) -> None:
    """The synthetic model through botocore's own serializer decodes back to the input."""
    model = ServiceModel(model_data("query"), "synthetic").operation_model("OperationName")
    serialized = create_serializer("query").serialize_to_request(expected, model)
    prepared = AWSRequest(method="POST", url="https://x.test/", data=serialized["body"]).prepare()
    assert isinstance(prepared.body, str | bytes)
    raw = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    assert decode_query(operation("query"), parse_form(raw)) == expected


# --- parse_form -----------------------------------------------------------------------------

FORMS = [
    ("empty body", b"", {}),
    ("key without value", b"Action", {"Action": ""}),
    ("empty pieces skipped", b"a=1&&b=2&", {"a": "1", "b": "2"}),
    ("value holding '='", b"a=b=c", {"a": "b=c"}),
    ("percent-encoded key", b"A%2EB=1", {"A.B": "1"}),
    ("raw UTF-8", "a=é".encode(), {"a": "é"}),
    ("lower-case hex", b"a=%c3%a9", {"a": "é"}),
]


@pytest.mark.parametrize(("body", "expected"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_parse_form(body: bytes, expected: dict[str, str]) -> None:
    assert parse_form(body) == expected


BAD_FORMS = [
    ("truncated escape", b"a=%4", MalformedQueryString),
    ("non-hex escape", b"a=%zz", MalformedQueryString),
    ("lone percent", b"a=100%", MalformedQueryString),
    ("non-UTF-8 after decoding", b"a=%ff%fe", MalformedQueryString),
    ("overlong UTF-8", b"a=%c0%af", MalformedQueryString),
    ("encoded surrogate", b"a=%ed%a0%80", MalformedQueryString),
    ("raw invalid byte", b"a=\xff", MalformedQueryString),
    ("repeated key", b"a=1&a=2", MalformedQueryString),
    ("repeated key after decoding", b"a=1&%61=2", MalformedQueryString),
    (
        "too many fields",
        b"&".join(b"k%d=v" % i for i in range(MAX_FORM_FIELDS + 1)),
        RequestEntityTooLarge,
    ),
    ("too many bytes", b"a=" + b"x" * (3 * 1024 * 1024), RequestEntityTooLarge),
]


@pytest.mark.parametrize(
    ("body", "error"), [f[1:] for f in BAD_FORMS], ids=[f[0] for f in BAD_FORMS]
)
def test_parse_form_rejects(body: bytes, error: type[WebfedError]) -> None:
    with pytest.raises(error) as caught:
        parse_form(body)
    assert 400 <= caught.value.status < 500


# --- Action and Version ---------------------------------------------------------------------


def test_resolve_action_finds_the_operation() -> None:
    sts = load_service("sts")
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15"}
    assert resolve_action(sts, params) is sts.operations["AssumeRoleWithWebIdentity"]


ACTIONS = [
    ("missing action", {"Version": "2011-06-15"}, MissingAction, "Action"),
    ("empty action", {"Action": "", "Version": "2011-06-15"}, MissingAction, "Action"),
    (
        "unknown action",
        {"Action": "Nope", "Version": "2011-06-15"},
        InvalidAction,
        "Could not find operation Nope for version 2011-06-15",
    ),
    (
        "missing version",
        {"Action": "GetCallerIdentity"},
        InvalidAction,
        "for version NO_VERSION_SPECIFIED",
    ),
    (
        "wrong version",
        {"Action": "GetCallerIdentity", "Version": "2010-05-08"},
        InvalidAction,
        "for version 2010-05-08",
    ),
    (
        "IAM action on STS",
        {"Action": "CreateRole", "Version": "2011-06-15"},
        InvalidAction,
        "CreateRole",
    ),
    (
        "huge action name is shortened",
        {"Action": "A" * 5000, "Version": "2011-06-15"},
        InvalidAction,
        "A" * 128 + "...",
    ),
]


@pytest.mark.parametrize(
    ("params", "error", "text"), [a[1:] for a in ACTIONS], ids=[a[0] for a in ACTIONS]
)
def test_resolve_action_errors(params: dict[str, str], error: type[WebfedError], text: str) -> None:
    with pytest.raises(error) as caught:
        resolve_action(load_service("sts"), params)
    assert text in caught.value.message
    assert caught.value.status == 400
    assert len(caught.value.message) < 300


# --- constraints, in AWS's words ------------------------------------------------------------

PREFIX = "Value {} at '{}' failed to satisfy constraint: "
VIOLATIONS = [
    (
        "required missing",
        b"Count=2",
        "Value null at 'name' failed to satisfy constraint: Member must not be null",
    ),
    (
        "too long",
        b"Name=abcdefghi",
        "Value 'abcdefghi' at 'name' failed to satisfy constraint: Member must have length "
        "less than or equal to 8",
    ),
    ("too short", b"Name=a", "Member must have length greater than or equal to 2"),
    (
        "pattern",
        b"Name=a%20b",
        "Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\w+=,.@-]+",
    ),
    (
        "pattern is ASCII \\w",
        "Name=ab&Inner.Key=é1".encode(),
        "at 'inner.key' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern",
    ),
    (
        "pattern full match, no trailing newline",
        b"Name=ab%0A",
        "Member must satisfy regular expression pattern",
    ),
    (
        "enum",
        b"Name=ab&Color=blue",
        "Value 'blue' at 'color' failed to satisfy constraint: Member must satisfy enum "
        "value set: [red, green]",
    ),
    (
        "integer above max",
        b"Name=ab&Count=11",
        "Value '11' at 'count' failed to satisfy constraint: Member must have value less "
        "than or equal to 10",
    ),
    ("integer below min", b"Name=ab&Count=0", "Member must have value greater than or equal to 1"),
    (
        "not an integer",
        b"Name=ab&Count=1.5",
        "Value '1.5' at 'count' failed to satisfy constraint: Member must be an integer",
    ),
    ("unicode digits are not an integer", "Name=ab&Count=٣".encode(), "Member must be an integer"),
    ("integer beyond 32 bits", b"Name=ab&Count=2147483648", "Member must be an integer between"),
    (
        "long beyond 64 bits",
        b"Name=ab&Big=9223372036854775808",
        "Member must be an integer between",
    ),
    (
        "boolean spelled True",
        b"Name=ab&Flag=True",
        "Value 'True' at 'flag' failed to satisfy constraint: Member must be true or false",
    ),
    ("boolean 1", b"Name=ab&Flag=1", "Member must be true or false"),
    ("bad timestamp", b"Name=ab&When=yesterday", "Member must be an ISO 8601 timestamp"),
    (
        "impossible date",
        b"Name=ab&When=2015-02-30T00:00:00Z",
        "Member must be an ISO 8601 timestamp",
    ),
    ("bad base64", b"Name=ab&Data=!!!", "Member must be base64-encoded"),
    ("blob too long", b"Name=ab&Data=Zm9vYmFy", "Member must have length less than or equal to 4"),
    (
        "list too long",
        b"Name=ab&Names.member.1=ab&Names.member.2=ab&Names.member.3=ab&Names.member.4=ab",
        "Value '[ab, ab, ab, ab]' at 'names' failed to satisfy constraint: Member must "
        "have length less than or equal to 3",
    ),
    (
        "list too short",
        b"Name=ab&Tags=",
        "at 'tags' failed to satisfy constraint: Member must have length greater than or "
        "equal to 1",
    ),
    (
        "list element",
        b"Name=ab&Names.member.1=ab&Names.member.2=a",
        "Value 'a' at 'names.2.member' failed to satisfy constraint",
    ),
    (
        "nested required",
        b"Name=ab&Tags.member.1.Value=v",
        "Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null",
    ),
    (
        "list not from 1",
        b"Name=ab&Names.member.2=ab",
        "at 'names' failed to satisfy constraint: Member must be numbered contiguously from 1",
    ),
    (
        "list with a gap",
        b"Name=ab&Names.member.1=ab&Names.member.3=ab",
        "Member must be numbered contiguously from 1",
    ),
    (
        "list index zero",
        b"Name=ab&Names.member.0=ab",
        "Member must be numbered contiguously from 1",
    ),
    (
        "list index leading zero",
        b"Name=ab&Names.member.01=ab",
        "Member must be numbered contiguously from 1",
    ),
    (
        "text where a list is expected",
        b"Name=ab&Names=ab",
        "Value 'ab' at 'names' failed to satisfy constraint: Member must be a list",
    ),
    (
        "map key constraint",
        b"Name=ab&Attributes.entry.1.key=blue&Attributes.entry.1.value=v",
        "Value '{blue=v}' at 'attributes' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must satisfy enum value set: [red, green]]",
    ),
    (
        "duplicate map key",
        b"Name=ab&Attributes.entry.1.key=red&Attributes.entry.1.value=1&Attributes.entry.2.key=green&Attributes.entry.2.value=2&Attributes.entry.3.key=red&Attributes.entry.3.value=3",
        "Map keys must be unique",
    ),
    (
        "map entry without value",
        b"Name=ab&Attributes.entry.1.key=red",
        "Value null at 'attributes.entry.1' failed to satisfy constraint: Map entries must "
        "have a key and a value",
    ),
    (
        "union with two members",
        b"Name=ab&Pick.A=a&Pick.B=b",
        "at 'pick' failed to satisfy constraint: Member must have exactly one member set",
    ),
    (
        "label rejects symbols",
        b"Name=ab&Label=a%21",
        "at 'label' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
]


@pytest.mark.parametrize(
    ("body", "text"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_each_constraint_is_reported_in_aws_words(body: bytes, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_query(operation("query"), parse_form(body))
    assert caught.value.message.startswith("1 validation error detected: ")
    assert text in caught.value.message
    assert caught.value.status == 400
    assert caught.value.code == "ValidationError"


def test_several_violations_are_joined_and_counted() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_query(operation("query"), parse_form(b"Count=99&Color=blue"))
    message = caught.value.message
    assert message.startswith("3 validation errors detected: ")
    assert message.count("; ") == 2
    assert "Value null at 'name'" in message


def test_sensitive_value_is_never_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        decode_query(operation("query"), parse_form(b"Name=ab&Secret=s3c"))
    assert "s3c" not in caught.value.message
    assert "Value at 'secret' failed to satisfy constraint" in caught.value.message


def test_web_identity_token_is_redacted_but_policy_is_not() -> None:
    sts = load_service("sts")
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "s",
        "WebIdentityToken": "tok",
        "Policy": "",
    }
    with pytest.raises(ValidationError) as caught:
        decode_query(sts.operations["AssumeRoleWithWebIdentity"], params)
    message = caught.value.message
    assert "tok" not in message
    assert "Value at 'webIdentityToken'" in message
    assert "Value 's' at 'roleSessionName'" in message
    assert "Value '' at 'policy'" in message


TIMESTAMPS = [
    ("Z", "2015-01-25T08:00:00Z", datetime(2015, 1, 25, 8, tzinfo=UTC)),
    (
        "fraction",
        "2015-01-25T08:00:00.123456789Z",
        datetime(2015, 1, 25, 8, 0, 0, 123456, tzinfo=UTC),
    ),
    ("offset", "2015-01-25T10:00:00+02:00", datetime(2015, 1, 25, 8, tzinfo=UTC)),
    ("no zone is UTC", "2015-01-25T08:00:00", datetime(2015, 1, 25, 8, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("text", "expected"), [t[1:] for t in TIMESTAMPS], ids=[t[0] for t in TIMESTAMPS]
)
def test_timestamps(text: str, expected: datetime) -> None:
    decoded = decode_query(operation("query"), {"Name": "ab", "When": text})
    assert decoded["When"] == expected
    assert decoded["When"].utcoffset() == timedelta(0)
    assert decoded["When"].tzinfo is UTC


def test_assume_role_with_web_identity_decodes() -> None:
    sts = load_service("sts")
    body = (
        b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        b"&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FGame"
        b"&RoleSessionName=app1&WebIdentityToken=eyJhbGciOi.eyJzdWIi.c2ln"
        b"&DurationSeconds=3600&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnly"
    )
    form = parse_form(body)
    assert decode_query(resolve_action(sts, form), form) == {
        "RoleArn": "arn:aws:iam::123456789012:role/Game",
        "RoleSessionName": "app1",
        "WebIdentityToken": "eyJhbGciOi.eyJzdWIi.c2ln",
        "DurationSeconds": 3600,
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnly"}],
    }


def test_duration_seconds_range_in_aws_words() -> None:
    sts = load_service("sts")
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/Game",
        "RoleSessionName": "app1",
        "WebIdentityToken": "token",
        "DurationSeconds": "900000",
    }
    with pytest.raises(ValidationError) as caught:
        decode_query(sts.operations["AssumeRoleWithWebIdentity"], params)
    assert caught.value.message == (
        "1 validation error detected: Value '900000' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 43200"
    )


def test_role_name_too_long_in_aws_words() -> None:
    iam = load_service("iam")
    params = {"RoleName": "r" * 65, "AssumeRolePolicyDocument": "{}"}
    with pytest.raises(ValidationError) as caught:
        decode_query(iam.operations["CreateRole"], params)
    assert caught.value.message == (
        f"1 validation error detected: Value '{'r' * 65}' at 'roleName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64"
    )

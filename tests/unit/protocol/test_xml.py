"""Query protocol responses: success documents, error documents, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser

from webfed.errors import (
    AccessDenied,
    InternalFailure,
    InvalidIdentityToken,
    ValidationError,
    WebfedError,
)
from webfed.protocol.models import load_service
from webfed.protocol.xml import encode_query_error, encode_query_response, escape_text

from .synthetic import model_data, operation, service

NS = "https://synthetic.example/doc/2014-01-01/"

# --- published vectors: botocore's query output suite, re-expressed on the synthetic model ----

DOCUMENTS = [
    ("scalar", {"Name": "myname"}, "<Name>myname</Name>"),
    ("integer and boolean", {"Count": 3, "Flag": True}, "<Count>3</Count><Flag>true</Flag>"),
    ("false boolean", {"Flag": False}, "<Flag>false</Flag>"),
    ("blob", {"Data": b"value"}, "<Data>dmFsdWU=</Data>"),
    (
        "timestamp",
        {"When": datetime(2015, 1, 25, 8, tzinfo=UTC)},
        "<When>2015-01-25T08:00:00Z</When>",
    ),
    (
        "timestamp with micros, offset converted",
        {"When": datetime(2015, 1, 25, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))},
        "<When>2015-01-25T08:00:00.000005Z</When>",
    ),
    (
        "naive timestamp is UTC",
        {"When": datetime(2015, 1, 25, 8)},
        "<When>2015-01-25T08:00:00Z</When>",
    ),
    ("list", {"Names": ["abc", "123"]}, "<Names><member>abc</member><member>123</member></Names>"),
    ("empty list", {"Names": []}, "<Names></Names>"),
    ("flattened list", {"Flat": ["a", "b"]}, "<Flat>a</Flat><Flat>b</Flat>"),
    (
        "list of structures",
        {"Tags": [{"Key": "k", "Value": "v"}]},
        "<Tags><member><Key>k</Key><Value>v</Value></member></Tags>",
    ),
    (
        "map",
        {"Attributes": {"red": "bar"}},
        "<Attributes><entry><key>red</key><value>bar</value></entry></Attributes>",
    ),
    ("flattened map", {"FlatMap": {"k": "v"}}, "<FlatMap><key>k</key><value>v</value></FlatMap>"),
    ("escaping", {"Text": "a<b>&'\""}, "<Text>a&lt;b&gt;&amp;'\"</Text>"),
    ("carriage return kept", {"Text": "a\r\nb"}, "<Text>a&#xD;\nb</Text>"),
    (
        "illegal XML characters replaced",
        {"Text": "a\x00b\x1b\ud800\uffff"},
        "<Text>a\ufffdb\ufffd\ufffd\ufffd</Text>",
    ),
    ("None and unknown keys skipped", {"Name": None, "Bogus": 1, "Count": 2}, "<Count>2</Count>"),
    ("recursive", {"Tree": {"Child": {"Leaf": "x"}}}, "<Tree><Child><Leaf>x</Leaf></Child></Tree>"),
]


@pytest.mark.parametrize(
    ("result", "inner"), [d[1:] for d in DOCUMENTS], ids=[d[0] for d in DOCUMENTS]
)
def test_published_query_response_encodings(result: dict[str, Any], inner: str) -> None:
    body = encode_query_response(operation("query"), result, "rid-1")
    expected = (
        f'<OperationNameResponse xmlns="{NS}"><OperationNameResult>{inner}</OperationNameResult>'
        "<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata></OperationNameResponse>"
    )
    assert body.decode("utf-8") == expected
    ET.fromstring(body)  # well-formed


@pytest.mark.parametrize(
    ("result", "inner"), [d[1:] for d in DOCUMENTS], ids=[d[0] for d in DOCUMENTS]
)
def test_botocore_parses_what_we_encode(result: dict[str, Any], inner: str) -> None:
    del inner
    model = ServiceModel(model_data("query"), "synthetic").operation_model("OperationName")
    body = encode_query_response(operation("query"), result, "rid-1")
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-1"
    assert set(parsed) - {"ResponseMetadata"} == {
        k for k, v in result.items() if v is not None and k != "Bogus"
    }


def test_text_round_trips_through_botocore() -> None:
    model = ServiceModel(model_data("query"), "synthetic").operation_model("OperationName")
    text = "tab\tline\ncr\r<&>\"' \U0001f600 é"
    body = encode_query_response(operation("query"), {"Text": text}, "r")
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    assert parsed["Text"] == text


def test_operation_without_output_has_only_metadata() -> None:
    body = encode_query_response(operation("query", "NoOutput"), {"Name": "x"}, "rid-2")
    assert (
        body
        == (
            f'<NoOutputResponse xmlns="{NS}"><ResponseMetadata><RequestId>rid-2</RequestId>'
            "</ResponseMetadata></NoOutputResponse>"
        ).encode()
    )


def test_wrong_types_do_not_crash_the_encoder() -> None:
    result = {
        "Names": "not-a-list",
        "Attributes": ["x"],
        "Tree": "x",
        "Tags": [None, {"Key": "k"}],
        "Count": "7",
    }
    body = encode_query_response(operation("query"), result, "r")
    ET.fromstring(body)
    assert b"<Names></Names>" in body
    assert b"<Count>7</Count>" in body


def test_sts_result_wrapper_and_namespace() -> None:
    sts = load_service("sts")
    body = encode_query_response(
        sts.operations["GetCallerIdentity"],
        {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/u"},
        "id",
    )
    root = ET.fromstring(body)
    ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert root.tag == f"{ns}GetCallerIdentityResponse"
    assert root.findtext(f"{ns}GetCallerIdentityResult/{ns}Account") == "123456789012"


# --- errors ---------------------------------------------------------------------------------

ERRORS = [
    (
        "sender",
        InvalidIdentityToken("No OpenIDConnect provider found"),
        "Sender",
        "InvalidIdentityToken",
        400,
    ),
    ("receiver", InternalFailure("boom"), "Receiver", "InternalFailure", 500),
    (
        "validation",
        ValidationError("1 validation error detected: <x>"),
        "Sender",
        "ValidationError",
        400,
    ),
    (
        "access denied",
        AccessDenied("Not authorized", encoded_message="ENC"),
        "Sender",
        "AccessDenied",
        403,
    ),
]


@pytest.mark.parametrize(
    ("error", "fault", "code", "status"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error_document(error: WebfedError, fault: str, code: str, status: int) -> None:
    sts = load_service("sts")
    body = encode_query_error(sts, error, "rid-3")
    root = ET.fromstring(body)
    ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    assert root.tag == f"{ns}ErrorResponse"
    assert root.findtext(f"{ns}Error/{ns}Type") == fault
    assert root.findtext(f"{ns}Error/{ns}Code") == code
    assert root.findtext(f"{ns}Error/{ns}Message") == error.full_message
    assert root.findtext(f"{ns}RequestId") == "rid-3"
    assert error.status == status
    parsed = create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": status}, None
    )
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == error.full_message
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-3"


def test_encoded_authorization_message_is_appended() -> None:
    body = encode_query_error(service("query"), AccessDenied("Denied.", encoded_message="abc"), "r")
    assert b"Denied. Encoded authorization failure message: abc" in body


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("\r", "&#xD;"),
        ("\t\n", "\t\n"),
        ("\x01", "\ufffd"),
        ("\U0001f600", "\U0001f600"),
    ],
    ids=["amp", "lt", "gt", "cr", "tab-newline", "control", "astral"],
)
def test_escape_text(text: str, escaped: str) -> None:
    assert escape_text(text) == escaped

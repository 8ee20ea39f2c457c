"""The hand-tuned ``AssumeRoleWithWebIdentity`` result writes exactly what the model-driven
encoder writes, and steps aside for anything it was not written for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.protocol import xml
from webfed.protocol.models import OperationSpec, load_service

OPERATION: OperationSpec = load_service("sts").operations["AssumeRoleWithWebIdentity"]
EXPIRATION = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _result(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE000000001",
            "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "SessionToken": "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE",
            "Expiration": EXPIRATION,
        },
        "SubjectFromWebIdentityToken": "amzn1.account.AF6RHO7KZU5XRVQJGXK6HEXAMPLE",
        "AssumedRoleUser": {
            "Arn": "arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1",
            "AssumedRoleId": "AROACLKWSDQRAOEXAMPLE:app1",
        },
        "Provider": "www.amazon.com",
        "Audience": "client.5498841531868486423.1548@apps.example.com",
        "PackedPolicySize": 123,
        "SourceIdentity": "SourceIdentityValue",
    }
    result.update(changes)
    return result


def test_the_aws_documentation_example_reads_as_aws_writes_it() -> None:
    """The STS API reference's AssumeRoleWithWebIdentity response example, member for member."""
    text = xml.encode_query_response(OPERATION, _result(), "ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE")
    assert text.decode().startswith(
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAEXAMPLE000000001"
        "</AccessKeyId><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        "</SecretAccessKey><SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE"
        "</SessionToken><Expiration>2026-03-04T05:06:07Z</Expiration></Credentials>"
        "<SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HEXAMPLE"
        "</SubjectFromWebIdentityToken><AssumedRoleUser>"
        "<AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>"
    )
    assert xml._fits_web_identity(_result())


@pytest.mark.parametrize(
    "result",
    [
        _result(SessionTokenSize=5),
        _result(PackedPolicySize=True),
        _result(PackedPolicySize="12"),
        _result(Provider=7),
        _result(Credentials=None),
        _result(AssumedRoleUser={"Arn": "arn:aws:sts::1:assumed-role/R/s"}),
        _result(AssumedRoleUser={"Arn": "a", "AssumedRoleId": "b", "Other": "c"}),
        _result(Credentials={**_result()["Credentials"], "Expiration": "2026-01-01"}),
        _result(Credentials={**_result()["Credentials"], "AccessKeyId": None}),
    ],
    ids=[
        "unknown-member",
        "bool-size",
        "text-size",
        "number-provider",
        "no-credentials",
        "partial-user",
        "extra-user-member",
        "text-expiration",
        "missing-key-id",
    ],
)
def test_anything_else_goes_through_the_model_driven_encoder(result: dict[str, Any]) -> None:
    assert not xml._fits_web_identity(result)
    assert xml._result(OPERATION, result) == xml._generic_result(OPERATION, result)


_TEXT = st.text(max_size=40)  # any code point: escapes, controls, surrogates, U+FFFE
_MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))]),
)


@given(
    credentials=st.fixed_dictionaries(
        {
            "AccessKeyId": _TEXT,
            "SecretAccessKey": _TEXT,
            "SessionToken": _TEXT,
            "Expiration": _MOMENTS,
        }
    ),
    user=st.fixed_dictionaries({"Arn": _TEXT, "AssumedRoleId": _TEXT}),
    optional=st.fixed_dictionaries(
        {},
        optional={
            "SubjectFromWebIdentityToken": st.none() | _TEXT,
            "PackedPolicySize": st.none() | st.integers(-(2**40), 2**40),
            "Provider": st.none() | _TEXT,
            "Audience": st.none() | _TEXT,
            "SourceIdentity": st.none() | _TEXT,
        },
    ),
)
def test_hand_tuned_and_model_driven_results_are_identical(
    credentials: dict[str, Any], user: dict[str, Any], optional: dict[str, Any]
) -> None:
    result = {"Credentials": credentials, "AssumedRoleUser": user, **optional}
    assert xml._fits_web_identity(result)
    assert xml._web_identity_result(result) == xml._generic_result(OPERATION, result)

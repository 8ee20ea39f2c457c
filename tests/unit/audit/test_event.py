"""AuditEvent: the CloudTrail record shape, userIdentity builders, fingerprints, exports."""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from datetime import datetime, timedelta, timezone
from types import ModuleType

import pytest

from tests.unit.audit.conftest import AUDIENCE, NOW, PROVIDER, ROLE_ARN, federation_event
from webfed import audit
from webfed.audit import (
    HIDDEN,
    AuditEvent,
    assumed_role_user,
    root_user,
    token_fingerprint,
    unknown_user,
    web_identity_data,
)
from webfed.audit import event as event_module
from webfed.audit import scrubber as scrub_module
from webfed.audit import sink as sink_module
from webfed.storage import audit as storage_module

# Field names of a CloudTrail record, from AWS's "CloudTrail record contents" page.
ALWAYS = {
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "eventCategory",
    "recipientAccountId",
}
ON_ERROR = {"errorCode", "errorMessage"}


def test_success_record_has_the_documented_fields_and_no_error_fields() -> None:
    record = federation_event().to_cloudtrail()
    assert set(record) == ALWAYS | {"additionalEventData"}
    assert record["eventVersion"] == "1.08"
    assert record["eventType"] == "AwsApiCall"
    assert record["eventCategory"] == "Management"
    assert record["recipientAccountId"] == "123456789012"
    assert record["responseElements"] is None


def test_failure_record_carries_error_code_and_message() -> None:
    record = federation_event(error_code="InvalidIdentityToken").to_cloudtrail()
    assert set(record) >= ALWAYS | ON_ERROR
    assert record["errorCode"] == "InvalidIdentityToken"
    assert record["errorMessage"] == "Incorrect token audience."


def test_record_is_json_and_round_trips() -> None:
    record = federation_event().to_cloudtrail()
    assert json.loads(json.dumps(record, allow_nan=False)) == record


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (NOW, "2026-03-04T05:06:07Z"),
        (NOW.replace(microsecond=999_999), "2026-03-04T05:06:07Z"),
        (
            datetime(2026, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2))),
            "2026-03-04T05:06:07Z",
        ),
    ],
    ids=["utc", "fraction-dropped", "offset-converted"],
)
def test_event_time_is_iso8601_utc_with_z(moment: datetime, expected: str) -> None:
    event = AuditEvent(
        event_time=moment, event_source="sts.amazonaws.com", event_name="X", account_id="1"
    )
    assert event.to_cloudtrail()["eventTime"] == expected


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditEvent(
            event_time=datetime(2026, 1, 1), event_source="s", event_name="X", account_id="1"
        )


def test_event_ids_are_uuids_and_unique() -> None:
    ids = {federation_event().event_id for _ in range(50)}
    assert len(ids) == 50
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
        for i in ids
    )


def test_web_identity_user_matches_cloudtrail_shape() -> None:
    identity = federation_event().to_cloudtrail()["userIdentity"]
    assert identity == {
        "type": "WebIdentityUser",
        "principalId": f"{PROVIDER}:{AUDIENCE}:player-1",
        "userName": "player-1",
        "identityProvider": PROVIDER,
    }


@pytest.mark.parametrize(
    ("identity", "kind", "arn"),
    [
        (
            assumed_role_user(
                arn="arn:aws:sts::123456789012:assumed-role/Players/s1",
                principal_id="AROAEXAMPLE:s1",
                account_id="123456789012",
                access_key_id="ASIAEXAMPLE",
            ),
            "AssumedRole",
            "arn:aws:sts::123456789012:assumed-role/Players/s1",
        ),
        (root_user("123456789012"), "Root", "arn:aws:iam::123456789012:root"),
        (unknown_user(), "Unknown", None),
    ],
    ids=["assumed-role", "root", "unknown"],
)
def test_user_identity_builders(identity: dict[str, object], kind: str, arn: str | None) -> None:
    assert identity["type"] == kind
    assert identity.get("arn") == arn


def test_default_identity_is_unknown() -> None:
    event = AuditEvent(
        event_time=NOW, event_source="iam.amazonaws.com", event_name="X", account_id="1"
    )
    assert event.to_cloudtrail()["userIdentity"] == {"type": "Unknown"}
    assert event.principal is None


def test_filter_columns_come_from_the_documented_keys() -> None:
    event = federation_event(index=3)
    assert event.role_arn == ROLE_ARN
    assert event.session_name == "session-3"
    assert event.provider == PROVIDER
    assert event.subject == "player-1"
    assert event.audience == AUDIENCE
    assert event.principal == f"{PROVIDER}:{AUDIENCE}:player-1"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("abc", "sha256:ba7816bf8f01cfea414140de5dae2223"),  # FIPS 180-2 SHA-256("abc")
        (b"", "sha256:e3b0c44298fc1c149afbf4c8996fb924"),  # SHA-256 of the empty string
    ],
    ids=["fips-abc", "empty"],
)
def test_token_fingerprint_vectors(token: str | bytes, expected: str) -> None:
    assert token_fingerprint(token) == expected


def test_fingerprint_is_not_the_token() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    data = web_identity_data(provider=PROVIDER, audience=None, subject=None, token=token)
    assert data == {"provider": PROVIDER, "tokenFingerprint": token_fingerprint(token)}
    assert hashlib.sha256(token.encode()).hexdigest().startswith(token_fingerprint(token)[7:])


def test_the_token_never_reaches_record_or_repr() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSJ9.c2lnbmF0dXJl"
    event = federation_event(token=token)
    assert token not in json.dumps(event.to_cloudtrail())
    assert token not in repr(event)
    assert event.to_cloudtrail()["requestParameters"]["webIdentityToken"] == HIDDEN  # type: ignore[index]


def test_response_credentials_are_hidden() -> None:
    event = AuditEvent(
        event_time=NOW,
        event_source="sts.amazonaws.com",
        event_name="AssumeRoleWithWebIdentity",
        account_id="1",
        response_elements={
            "credentials": {
                "accessKeyId": "ASIAEXAMPLE",
                "secretAccessKey": "wJalrXUtnFEMI/K7MDENG",
                "sessionToken": "FwoGZXIvYXdzEXAMPLE",
            }
        },
    )
    credentials = event.to_cloudtrail()["responseElements"]["credentials"]  # type: ignore[index]
    assert credentials == {
        "accessKeyId": "ASIAEXAMPLE",
        "secretAccessKey": HIDDEN,
        "sessionToken": HIDDEN,
    }


def test_event_mappings_are_read_only_copies() -> None:
    parameters = {"roleArn": ROLE_ARN}
    event = AuditEvent(
        event_time=NOW,
        event_source="s",
        event_name="X",
        account_id="1",
        request_parameters=parameters,
    )
    parameters["roleArn"] = "changed"
    assert event.role_arn == ROLE_ARN
    with pytest.raises(TypeError):
        event.request_parameters["roleArn"] = "x"  # type: ignore[index]


def test_long_error_message_and_user_agent_are_capped() -> None:
    event = AuditEvent(
        event_time=NOW,
        event_source="s",
        event_name="X",
        account_id="1",
        user_agent="u" * 5000,
        error_code="ValidationError",
        error_message="m" * 5000,
    )
    assert len(event.user_agent) == 1024
    assert event.error_message is not None and len(event.error_message) == 1024


MODULES = [audit, event_module, scrub_module, sink_module, storage_module]


@pytest.mark.parametrize("module", MODULES, ids=[module.__name__ for module in MODULES])
def test_all_is_the_public_surface(module: ModuleType) -> None:
    exported = set(module.__all__)
    assert all(hasattr(module, name) for name in exported)
    defined_here = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert defined_here <= exported
    assert len(module.__all__) == len(exported)


def test_a_token_in_free_text_is_hidden() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    event = AuditEvent(
        event_time=NOW,
        event_source="s",
        event_name="X",
        account_id="1",
        user_agent=f"app/1.0 token={token}",
        error_code="InvalidIdentityToken",
        error_message=f"could not parse {token}",
    )
    assert token not in json.dumps(event.to_cloudtrail())
    assert event.user_agent == f"app/1.0 token={HIDDEN}"


def test_record_is_built_once_and_each_caller_gets_its_own_top_level() -> None:
    event = federation_event()
    first = event.to_cloudtrail()
    first["eventName"] = "Changed"
    first.pop("userIdentity")
    second = event.to_cloudtrail()
    assert second["eventName"] == "AssumeRoleWithWebIdentity"
    assert second["userIdentity"] == audit.web_identity_user(
        provider=PROVIDER, audience=AUDIENCE, subject="player-1"
    )
    assert second is not event.to_cloudtrail()
    assert "_record" not in repr(event)

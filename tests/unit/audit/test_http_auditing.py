"""The HTTP hook's events (webfed.http.auditing): CloudTrail shape, stored without any secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.audit.conftest import NOW
from webfed.api.context import Caller
from webfed.audit import HIDDEN, AuditEvent, token_fingerprint
from webfed.errors import InvalidIdentityToken
from webfed.http import auditing
from webfed.http.auditing import CallRecord, audit_event
from webfed.storage import Store

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSJ9.c2lnbmF0dXJlLXNlY3JldA"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-0123456789"
SECRETS = (TOKEN, SECRET_KEY, SESSION_TOKEN, "c2lnbmF0dXJlLXNlY3JldA")
ISSUER = "https://accounts.example.com"
ROLE_ARN = "arn:aws:iam::123456789012:role/Players"
EXPIRATION = datetime(2026, 3, 4, 6, 6, 7, tzinfo=UTC)


def _federation(account: str = "123456789012") -> CallRecord:
    params = {"RoleArn": ROLE_ARN, "RoleSessionName": "s-1", "WebIdentityToken": TOKEN}
    return CallRecord(
        service="sts",
        operation="AssumeRoleWithWebIdentity",
        request_id="req-1",
        source_ip="203.0.113.7",
        user_agent="Boto3/1.34",
        params=params,
        raw_params={"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", **params},
        result={
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": SECRET_KEY,
                "SessionToken": SESSION_TOKEN,
                "Expiration": EXPIRATION,
            },
            "SubjectFromWebIdentityToken": "player-1",
            "AssumedRoleUser": {"Arn": f"arn:aws:sts::{account}:assumed-role/Players/s-1"},
            "Provider": ISSUER,
            "Audience": "my-app",
            "PackedPolicySize": None,
        },
    )


def _pool_credentials() -> CallRecord:
    return CallRecord(
        service="cognito-identity",
        operation="GetCredentialsForIdentity",
        request_id="req-2",
        source_ip="203.0.113.7",
        user_agent=f"app/1.0 {TOKEN}",
        params={"IdentityId": "us-east-1:abc", "Logins": {"accounts.example.com": TOKEN}},
        result={
            "IdentityId": "us-east-1:abc",
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretKey": SECRET_KEY,
                "SessionToken": SESSION_TOKEN,
                "Expiration": EXPIRATION,
            },
        },
    )


def _refused() -> CallRecord:
    record = _federation()
    record.params, record.result = None, None  # refused before its parameters were decoded
    record.error = InvalidIdentityToken(
        f"could not parse {TOKEN}", explanation={"check": "aud", "id_token": TOKEN}
    )
    return record


def _admin_call() -> CallRecord:
    caller = Caller(
        access_key_id="AKIAADMIN",
        arn="arn:aws:iam::123456789012:root",
        user_id="123456789012",
        account_id="123456789012",
        is_admin=True,
    )
    return CallRecord(
        service="iam",
        operation="ListRoles",
        request_id="req-3",
        source_ip="203.0.113.7",
        user_agent="aws-cli/2",
        caller=caller,
        params={"MaxItems": 10, "X-Amz-Security-Token": SESSION_TOKEN},
        result={"Roles": [{"RoleName": "Players"}], "IsTruncated": False},
    )


CALLS = {
    "federation": _federation,
    "pool-credentials": _pool_credentials,
    "refused": _refused,
    "admin": _admin_call,
}


def _event(record: CallRecord, account: str = "123456789012") -> AuditEvent:
    return audit_event(record, now=NOW, account_id=account, region="us-east-1", event_id="e-1")


def test_federation_record_has_the_documented_shape() -> None:
    record = _event(_federation()).to_cloudtrail()
    assert record["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{ISSUER}:my-app:player-1",
        "userName": "player-1",
        "identityProvider": ISSUER,
    }
    assert record["requestParameters"] == {
        "roleArn": ROLE_ARN,
        "roleSessionName": "s-1",
        "webIdentityToken": HIDDEN,
    }
    assert record["responseElements"] == {
        "subjectFromWebIdentityToken": HIDDEN,  # the key ends in "token": hidden by name
        "assumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/Players/s-1"},
        "provider": ISSUER,
        "audience": "my-app",
        "credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": "2026-03-04 06:06:07+00:00"},
    }
    assert record["additionalEventData"] == {
        "provider": ISSUER,
        "aud": "my-app",
        "sub": "player-1",
        "tokenFingerprint": token_fingerprint(TOKEN),
    }
    assert record["eventTime"] == "2026-03-04T05:06:07Z"
    assert record["readOnly"] is False


def test_refused_call_is_recorded_from_the_raw_parameters() -> None:
    record = _event(_refused()).to_cloudtrail()
    assert record["errorCode"] == "InvalidIdentityToken"
    assert record["errorMessage"] == f"could not parse {HIDDEN}"
    assert record["requestParameters"] == {
        "action": "AssumeRoleWithWebIdentity",
        "version": "2011-06-15",
        "roleArn": ROLE_ARN,
        "roleSessionName": "s-1",
        "webIdentityToken": HIDDEN,
    }
    assert record["responseElements"] is None
    data = record["additionalEventData"]
    assert data == {  # the issuer of a token that does not parse is unknown
        "provider": "unknown",
        "tokenFingerprint": token_fingerprint(TOKEN),
        "explanation": {"check": "aud", "id_token": HIDDEN},
    }


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_json_text_is_the_record_as_compact_ascii_json(call: Callable[[], CallRecord]) -> None:
    event = _event(call())
    assert event.to_json() == json.dumps(event.to_cloudtrail(), separators=(",", ":"))


def test_json_text_escapes_what_is_not_ascii() -> None:
    event = AuditEvent(
        event_time=NOW + timedelta(microseconds=5),
        event_source="s",
        event_name="X",
        account_id="1",
        request_parameters={"name": "caf\u00e9 \x00\x1f \ud800 \U0001f600", "n": [1.5, -0.0, 2]},
    )
    text = event.to_json()
    assert text.isascii()
    assert text == json.dumps(event.to_cloudtrail(), separators=(",", ":"))
    assert json.loads(text) == event.to_cloudtrail()


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_no_secret_reaches_the_stored_row(
    call: Callable[[], CallRecord], store: Store, account: str
) -> None:
    event = _event(call(), account)
    assert not any(secret in repr(event) for secret in SECRETS)
    await store.audit.insert_many([event])
    (row,) = await store.audit.tail(account, 5)
    stored = repr(row)  # every column, and the record's JSON text
    assert not any(secret in stored for secret in SECRETS)
    assert row.record == json.loads(event.to_json())


def test_remembered_member_names_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditing, "_record_names", {})
    monkeypatch.setattr(auditing, "_NAMES_LIMIT", 3)
    params = {f"Name{index}": index for index in range(10)}
    record = CallRecord("sts", "GetCallerIdentity", "r", "ip", "ua", params=params)
    recorded = _event(record).to_cloudtrail()["requestParameters"]
    assert recorded == {f"name{index}": index for index in range(10)}
    assert len(auditing._record_names) == 3

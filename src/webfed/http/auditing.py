"""One CloudTrail-shaped audit event per routed call (``docs/audit.md``).

Built from what the dispatcher saw: the operation, the decoded parameters, the caller, the result
or the error. Secrets never get in: the event scrubs every mapping, and the response elements are
chosen here without the secret key or the session token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webfed.api.context import Caller
from webfed.audit import (
    AuditEvent,
    assumed_role_user,
    root_user,
    unknown_user,
    web_identity_data,
    web_identity_user,
)
from webfed.core.oidc import peek_token
from webfed.errors import WebfedError

__all__ = ["CallRecord", "audit_event"]

_READ_ONLY = ("Get", "List", "Describe", "Lookup", "Simulate", "Decode")
_WEB_IDENTITY = "AssumeRoleWithWebIdentity"
_NAMES_LIMIT = 4096
_record_names: dict[str, str] = {}


@dataclass(slots=True)
class CallRecord:
    """What one call did, filled in as the dispatcher goes."""

    service: str
    operation: str
    request_id: str
    source_ip: str
    user_agent: str
    caller: Caller | None = None
    params: Mapping[str, Any] | None = None
    raw_params: Mapping[str, str] | None = None
    result: Mapping[str, Any] | None = None
    error: WebfedError | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _identity(record: CallRecord) -> dict[str, object]:
    caller = record.caller
    if caller is None:
        return unknown_user()
    if caller.is_admin:
        return root_user(caller.account_id, caller.access_key_id)
    return assumed_role_user(
        arn=caller.arn,
        principal_id=caller.user_id,
        account_id=caller.account_id,
        access_key_id=caller.access_key_id,
    )


def _issuer_of(token: str) -> str:
    try:
        return peek_token(token).issuer
    except WebfedError:
        return "unknown"


def _web_identity(record: CallRecord) -> tuple[dict[str, object], dict[str, object]]:
    """userIdentity and additionalEventData of AssumeRoleWithWebIdentity (success or not)."""
    params = record.params or record.raw_params or {}
    token = params.get("WebIdentityToken")
    result = record.result or {}
    provider = str(result.get("Provider") or (_issuer_of(token) if token else "unknown"))
    audience = result.get("Audience")
    subject = result.get("SubjectFromWebIdentityToken")
    data = web_identity_data(provider=provider, audience=audience, subject=subject, token=token)
    identity = web_identity_user(provider=provider, audience=audience or "", subject=subject or "")
    return identity, data


def _record_name(member: str) -> str:
    """CloudTrail's name for an API member: its first letter in lower case (``RoleArn`` ->
    ``roleArn``). Member names repeat from call to call, so the answer is remembered (up to
    :data:`_NAMES_LIMIT` names: raw parameter names are the caller's choice)."""
    name = _record_names.get(member)
    if name is None:
        name = member[:1].lower() + member[1:]
        if len(_record_names) < _NAMES_LIMIT:
            _record_names[member] = name
    return name


def _response_elements(result: Mapping[str, Any] | None) -> dict[str, object] | None:
    """The output members by their record names, the credentials without their secrets."""
    if result is None:
        return None
    elements: dict[str, object] = {
        _record_name(key): value
        for key, value in result.items()
        if value is not None and key != "Credentials"
    }
    credentials = result.get("Credentials")
    if isinstance(credentials, Mapping):
        elements["credentials"] = {
            "accessKeyId": credentials.get("AccessKeyId"),
            "expiration": str(credentials.get("Expiration")),
        }
    return elements


def _request_parameters(record: CallRecord) -> dict[str, object] | None:
    params = record.params if record.params is not None else record.raw_params
    if params is None:
        return None
    return {_record_name(key): value for key, value in params.items()}


def audit_event(
    record: CallRecord, *, now: datetime, account_id: str, region: str, event_id: str | None = None
) -> AuditEvent:
    """The event of one routed call, named ``event_id`` (a new random UUID if not given)."""
    extra: dict[str, object] = dict(record.extra)
    if record.operation == _WEB_IDENTITY:
        identity, data = _web_identity(record)
        extra.update(data)
    else:
        identity = _identity(record)
    error = record.error
    if error is not None and error.explanation is not None:
        extra["explanation"] = dict(error.explanation)
    return AuditEvent(
        event_time=now,
        event_source=f"{record.service}.amazonaws.com",
        event_name=record.operation,
        account_id=account_id,
        request_id=record.request_id,
        source_ip=record.source_ip,
        user_agent=record.user_agent,
        read_only=record.operation.startswith(_READ_ONLY),
        error_code=error.code if error is not None else None,
        error_message=error.message if error is not None else None,
        user_identity=identity,
        request_parameters=_request_parameters(record),
        response_elements=_response_elements(record.result),
        additional_event_data=extra or None,
        aws_region=region,
        event_id=event_id if event_id is not None else str(uuid.uuid4()),
    )

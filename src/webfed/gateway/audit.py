"""One CloudTrail-shaped audit event per request through the gateway (``docs/audit.md``).

CloudTrail records S3 object calls and DynamoDB item calls as *data events*: ``eventSource``
``s3.amazonaws.com`` / ``dynamodb.amazonaws.com``, ``eventName`` the operation, the bucket and
key (``bucketName``, ``key``) or the table in ``requestParameters``, the caller in
``userIdentity``, and the error code of a refusal. The gateway fills a :class:`GatewayRecord` as
the request goes; the app turns it into an event at the end, success or failure. Secrets never
get in: nothing here holds a signature, a token or a body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from webfed.audit import AuditEvent, assumed_role_user, root_user, unknown_user
from webfed.errors import WebfedError
from webfed.verify import VerifiedCaller

__all__ = ["GatewayRecord", "gateway_event"]

_READ_ONLY = ("Get", "List", "Head", "Describe", "Query", "Scan", "BatchGet", "TransactGet")


@dataclass(slots=True)
class GatewayRecord:
    """What one request did, filled in by the app and the handler."""

    service: str
    request_id: str
    source_ip: str
    user_agent: str
    operation: str = ""
    caller: VerifiedCaller | None = None
    parameters: dict[str, object] = field(default_factory=dict)
    status: int | None = None
    error: WebfedError | None = None


def _identity(caller: VerifiedCaller | None) -> dict[str, object]:
    if caller is None:
        return unknown_user()
    if caller.session is None:
        return root_user(caller.account, caller.access_key_id)
    return assumed_role_user(
        arn=caller.arn,
        principal_id=caller.user_id,
        account_id=caller.account,
        access_key_id=caller.access_key_id,
    )


def gateway_event(
    record: GatewayRecord, *, now: datetime, account_id: str, region: str
) -> AuditEvent:
    """The audit event of a finished request."""
    error = record.error
    extra: dict[str, object] = {"gateway": True}
    if record.status is not None:
        extra["upstreamStatus"] = record.status
    if error is not None and error.explanation is not None:
        extra["explanation"] = dict(error.explanation)
    return AuditEvent(
        event_time=now,
        event_source=f"{record.service}.amazonaws.com",
        event_name=record.operation or "Unknown",
        account_id=record.caller.account if record.caller is not None else account_id,
        request_id=record.request_id,
        source_ip=record.source_ip,
        user_agent=record.user_agent,
        read_only=record.operation.startswith(_READ_ONLY),
        error_code=error.code if error is not None else None,
        error_message=error.message if error is not None else None,
        user_identity=_identity(record.caller),
        request_parameters=record.parameters or None,
        additional_event_data=extra,
        aws_region=region,
        management_event=False,
    )

"""One audit event, shaped like a CloudTrail record.

The record fields and their names follow AWS's "CloudTrail record contents" page (event version
1.08): ``eventTime`` in UTC, ``eventSource`` as the service's ``*.amazonaws.com`` name,
``errorCode`` and ``errorMessage`` only when the call failed, ``requestID`` as returned to the
caller, ``eventID`` unique per record, ``recipientAccountId`` for the account that received the
call. ``userIdentity`` follows "CloudTrail userIdentity element": ``WebIdentityUser`` for
``AssumeRoleWithWebIdentity`` (``principalId`` is ``provider:audience:subject``, ``userName`` is
the subject), ``AssumedRole`` for temporary credentials, ``Root`` for the administrator.

Every mapping is scrubbed (:mod:`webfed.audit.scrubber`) when the event is built, so an event
never holds a secret: not in its record, its JSON, its log line or its ``repr``.

Field conventions the storage columns and ``webfed audit tail`` read (see ``docs/audit.md``):
``request_parameters["roleArn"]`` and ``["roleSessionName"]``, and
``additional_event_data["provider"]``, ``["aud"]``, ``["sub"]``, ``["tokenFingerprint"]``
(built by :func:`web_identity_data`).
"""

from __future__ import annotations

import hashlib
import uuid
from _json import encode_basestring_ascii, make_encoder
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from webfed.audit.scrubber import JsonValue, scrub_mapping, scrub_text

__all__ = [
    "EVENT_VERSION",
    "AuditEvent",
    "assumed_role_user",
    "root_user",
    "token_fingerprint",
    "unknown_user",
    "web_identity_data",
    "web_identity_user",
]

EVENT_VERSION = "1.08"
_FINGERPRINT_HEX = 32

_EMPTY: Mapping[str, JsonValue] = MappingProxyType({})
_Scrubbed = dict[str, JsonValue]


def _scrubbed(mapping: Mapping[str, object] | None) -> _Scrubbed | None:
    return None if mapping is None else scrub_mapping(mapping)


def _frozen(scrubbed: _Scrubbed | None) -> Mapping[str, JsonValue] | None:
    return None if scrubbed is None else MappingProxyType(scrubbed)


def _not_json(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON")  # scrubbed values never are


# The C encoder behind json.dumps, made once: compact, ASCII-only (lone surrogates and control
# characters arrive escaped), no NaN. JSONEncoder.encode builds a new one (and a closure) per
# call, which cost as much as the encoding. No cycle check: a scrubbed record is a fresh tree.
_encode_json = make_encoder(
    None, _not_json, encode_basestring_ascii, None, ":", ",", False, False, False
)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def unknown_user() -> dict[str, object]:
    """A caller webfed could not identify (unsigned, or failed before authentication)."""
    return {"type": "Unknown"}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One call (or, later, one authorization decision); build with keywords."""

    event_time: datetime
    event_source: str
    event_name: str
    account_id: str
    request_id: str = ""
    source_ip: str = ""
    user_agent: str = ""
    read_only: bool = False
    error_code: str | None = None
    error_message: str | None = None
    user_identity: Mapping[str, object] = field(default_factory=unknown_user)
    request_parameters: Mapping[str, object] | None = None
    response_elements: Mapping[str, object] | None = None
    additional_event_data: Mapping[str, object] | None = None
    aws_region: str = "us-east-1"
    event_type: str = "AwsApiCall"
    management_event: bool = True
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The scrubbed mappings behind the read-only fields, for the record (so it copies none).
    _scrubbed: tuple[_Scrubbed, _Scrubbed | None, _Scrubbed | None, _Scrubbed | None] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # The CloudTrail record, built on first use: the log line and the stored row both need it.
    _record: dict[str, object] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.event_time.tzinfo is None:
            raise ValueError("audit event times must be timezone-aware")
        set_field = object.__setattr__
        if self.event_time.tzinfo is not UTC:
            set_field(self, "event_time", self.event_time.astimezone(UTC))
        identity = _scrubbed(self.user_identity) or {}
        parameters = _scrubbed(self.request_parameters)
        elements = _scrubbed(self.response_elements)
        data = _scrubbed(self.additional_event_data)
        set_field(self, "_scrubbed", (identity, parameters, elements, data))
        set_field(self, "user_identity", MappingProxyType(identity) if identity else _EMPTY)
        set_field(self, "request_parameters", _frozen(parameters))
        set_field(self, "response_elements", _frozen(elements))
        set_field(self, "additional_event_data", _frozen(data))
        set_field(self, "user_agent", scrub_text(self.user_agent))
        if self.error_message is not None:
            set_field(self, "error_message", scrub_text(self.error_message))

    # --- the columns storage and the CLI filter and show ---------------------------------------

    @property
    def principal(self) -> str | None:
        """Who called: the identity's ARN, else its principal id."""
        identity = self.user_identity
        return _text(identity.get("arn")) or _text(identity.get("principalId"))

    @property
    def role_arn(self) -> str | None:
        return _text((self.request_parameters or _EMPTY).get("roleArn"))

    @property
    def session_name(self) -> str | None:
        return _text((self.request_parameters or _EMPTY).get("roleSessionName"))

    @property
    def provider(self) -> str | None:
        data = self.additional_event_data or _EMPTY
        return _text(data.get("provider")) or _text(self.user_identity.get("identityProvider"))

    @property
    def subject(self) -> str | None:
        return _text((self.additional_event_data or _EMPTY).get("sub"))

    @property
    def audience(self) -> str | None:
        return _text((self.additional_event_data or _EMPTY).get("aud"))

    def to_cloudtrail(self) -> dict[str, object]:
        """The CloudTrail record: optional fields only when they apply.

        A new top-level dict each call; the mappings inside it are the event's own (scrubbed,
        built once): read them, never change them."""
        return dict(self._cloudtrail())

    def to_json(self) -> str:
        """The CloudTrail record as compact, ASCII-only JSON text (what the table stores)."""
        return "".join(_encode_json(self._cloudtrail(), 0))

    def _cloudtrail(self) -> dict[str, object]:
        record = self._record
        if record is None:
            record = self._build_record()
            object.__setattr__(self, "_record", record)
        return record

    def _build_record(self) -> dict[str, object]:
        identity, parameters, elements, data = self._scrubbed
        record: dict[str, object] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": identity,
            # isoformat() pads the year to four digits, as CloudTrail's times are.
            "eventTime": self.event_time.isoformat()[:19] + "Z",
            "eventSource": self.event_source,
            "eventName": self.event_name,
            "awsRegion": self.aws_region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
        }
        if self.error_code is not None:
            record["errorCode"] = self.error_code
            record["errorMessage"] = self.error_message or ""
        record["requestParameters"] = parameters
        record["responseElements"] = elements
        if data:
            record["additionalEventData"] = data
        record["requestID"] = self.request_id
        record["eventID"] = self.event_id
        record["readOnly"] = self.read_only
        record["eventType"] = self.event_type
        record["managementEvent"] = self.management_event
        record["eventCategory"] = "Management" if self.management_event else "Data"
        record["recipientAccountId"] = self.account_id
        return record


# --- userIdentity builders ("CloudTrail userIdentity element") ---------------------------------


def web_identity_user(*, provider: str, audience: str, subject: str) -> dict[str, object]:
    """The caller of ``AssumeRoleWithWebIdentity``: the token's provider, audience and subject."""
    return {
        "type": "WebIdentityUser",
        "principalId": f"{provider}:{audience}:{subject}",
        "userName": subject,
        "identityProvider": provider,
    }


def assumed_role_user(
    *, arn: str, principal_id: str, account_id: str, access_key_id: str | None = None
) -> dict[str, object]:
    """A caller signing with temporary credentials (``principalId`` is ``ROLEID:SESSION``)."""
    identity: dict[str, object] = {
        "type": "AssumedRole",
        "principalId": principal_id,
        "arn": arn,
        "accountId": account_id,
    }
    if access_key_id is not None:
        identity["accessKeyId"] = access_key_id
    return identity


def root_user(account_id: str, access_key_id: str | None = None) -> dict[str, object]:
    """The administrator: webfed's administrator credentials act as the account's root."""
    identity: dict[str, object] = {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:aws:iam::{account_id}:root",
        "accountId": account_id,
    }
    if access_key_id is not None:
        identity["accessKeyId"] = access_key_id
    return identity


def token_fingerprint(token: str | bytes) -> str:
    """``sha256:`` and the first 128 bits of the token's SHA-256, hex: correlates, never replays."""
    data = token.encode() if isinstance(token, str) else token
    return "sha256:" + hashlib.sha256(data).hexdigest()[:_FINGERPRINT_HEX]


def web_identity_data(
    *, provider: str, audience: str | None, subject: str | None, token: str | bytes | None
) -> dict[str, object]:
    """``additionalEventData`` of a federation call: who the token named, and its fingerprint."""
    data: dict[str, object] = {"provider": provider}
    if audience is not None:
        data["aud"] = audience
    if subject is not None:
        data["sub"] = subject
    if token is not None:
        data["tokenFingerprint"] = token_fingerprint(token)
    return data

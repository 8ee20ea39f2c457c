"""The audit trail: one CloudTrail-shaped event per call, to the log and to a table.

``AuditEvent`` is the record (see :mod:`webfed.audit.event`), :func:`scrub` keeps secrets out of
it, and ``AuditSink`` logs each event at once and stores it in batches. ``docs/audit.md``
describes the record, what is never recorded, retention and the queue's limits.
"""

from __future__ import annotations

from webfed.audit.event import (
    EVENT_VERSION,
    AuditEvent,
    assumed_role_user,
    root_user,
    token_fingerprint,
    unknown_user,
    web_identity_data,
    web_identity_user,
)
from webfed.audit.scrubber import HIDDEN, is_secret_key, scrub, scrub_mapping
from webfed.audit.sink import AuditSink, AuditSinkStats, is_transient_error

__all__ = [
    "EVENT_VERSION",
    "HIDDEN",
    "AuditEvent",
    "AuditSink",
    "AuditSinkStats",
    "assumed_role_user",
    "is_secret_key",
    "is_transient_error",
    "root_user",
    "scrub",
    "scrub_mapping",
    "token_fingerprint",
    "unknown_user",
    "web_identity_data",
    "web_identity_user",
]

"""S3 request headers that change what a request needs: the further actions and condition keys.

Several S3 writes do more than their own action when certain headers are present, and S3 then
checks more (the "Permissions" section of each operation, Amazon S3 API Reference; the condition
keys of "Actions, resources, and condition keys for Amazon S3", Service Authorization Reference):

* an ACL set at write time (``x-amz-acl``, ``x-amz-grant-*``) on PutObject, CopyObject or
  CreateMultipartUpload also needs ``s3:PutObjectAcl``; tags (``x-amz-tagging``)
  ``s3:PutObjectTagging``;
* Object Lock headers need ``s3:PutObjectRetention`` (mode, retain-until date) and
  ``s3:PutObjectLegalHold``;
* ``x-amz-bypass-governance-retention`` on DeleteObject, DeleteObjects or PutObjectRetention
  needs ``s3:BypassGovernanceRetention``;
* CreateBucket with ACL headers needs ``s3:PutBucketAcl``, with ``x-amz-object-ownership``
  ``s3:PutBucketOwnershipControls``, with Object Lock enabled
  ``s3:PutBucketObjectLockConfiguration`` and ``s3:PutBucketVersioning``.

:data:`HEADER_RULES` is that table; :data:`HEADER_KEYS` the headers copied into condition keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DECIDING_HEADERS",
    "HEADER_KEYS",
    "HEADER_RULES",
    "HeaderRule",
    "bypasses_governance",
]

_WRITING = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
_ACL_HEADERS = (
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
)
_RETENTION_HEADERS = ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date")
_LEGAL_HOLD_HEADER = "x-amz-object-lock-legal-hold"
_BYPASS_HEADER = "x-amz-bypass-governance-retention"
HEADER_KEYS: tuple[tuple[str, str], ...] = (
    *((header, f"s3:{header}") for header in _ACL_HEADERS),
    ("x-amz-object-lock-mode", "s3:object-lock-mode"),
    ("x-amz-object-lock-retain-until-date", "s3:object-lock-retain-until-date"),
    (_LEGAL_HOLD_HEADER, "s3:object-lock-legal-hold"),
    ("x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"),
    ("x-amz-storage-class", "s3:x-amz-storage-class"),
    ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
    ("x-amz-copy-source", "s3:x-amz-copy-source"),
)


@dataclass(frozen=True, slots=True)
class HeaderRule:
    """``actions`` are also needed when ``operations`` carry any of ``headers``.

    A header counts when present, unless its value (lower-cased, trimmed) is in ``inert``:
    presence is what the upstream acts on, so anything but an explicit no-op value counts.
    """

    operations: frozenset[str]
    headers: tuple[str, ...]
    actions: tuple[str, ...]
    inert: frozenset[str] = frozenset()

    def applies(self, operation: str, headers: Mapping[str, str]) -> bool:
        if operation not in self.operations:
            return False
        return any(
            name in headers and headers[name].strip().lower() not in self.inert
            for name in self.headers
        )


_CREATING_BUCKET = frozenset({"CreateBucket"})
_FALSE = frozenset({"false"})

HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule(_WRITING, ("x-amz-tagging",), ("s3:PutObjectTagging",), frozenset({""})),
    HeaderRule(_WRITING, _ACL_HEADERS, ("s3:PutObjectAcl",)),
    HeaderRule(_WRITING, _RETENTION_HEADERS, ("s3:PutObjectRetention",)),
    HeaderRule(_WRITING, (_LEGAL_HOLD_HEADER,), ("s3:PutObjectLegalHold",)),
    HeaderRule(
        frozenset({"DeleteObject", "PutObjectRetention"}),
        (_BYPASS_HEADER,),
        ("s3:BypassGovernanceRetention",),
        _FALSE,
    ),
    HeaderRule(_CREATING_BUCKET, _ACL_HEADERS, ("s3:PutBucketAcl",)),
    HeaderRule(_CREATING_BUCKET, ("x-amz-object-ownership",), ("s3:PutBucketOwnershipControls",)),
    HeaderRule(
        _CREATING_BUCKET,
        ("x-amz-bucket-object-lock-enabled",),
        ("s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"),
        _FALSE,
    ),
)
"""Headers that make an operation need further actions, on the same resource."""

DECIDING_HEADERS = frozenset(
    {header for rule in HEADER_RULES for header in rule.headers}
    | {header for header, _ in HEADER_KEYS}
)
"""Headers whose value changes what is authorized: a repeated one must be refused."""


def bypasses_governance(headers: Mapping[str, str]) -> bool:
    """Whether ``x-amz-bypass-governance-retention`` asks for a bypass (any value but false)."""
    value = headers.get(_BYPASS_HEADER)
    return value is not None and value.strip().lower() not in _FALSE

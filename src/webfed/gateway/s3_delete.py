"""``DeleteObjects`` (``POST /BUCKET?delete``): one check per key named in the body.

S3 checks ``s3:DeleteObject`` (``s3:DeleteObjectVersion`` with a version id) for every object
the XML body lists, plus ``s3:BypassGovernanceRetention`` when the request bypasses
governance-mode retention ("DeleteObjects", Amazon S3 API Reference; at most 1,000 keys). The
body is small and is read whole before anything reaches the upstream. A document type declaration is
refused outright, so no entity can be expanded.
"""

from __future__ import annotations

from xml.etree import ElementTree

from webfed.errors import InvalidParameterValue
from webfed.gateway.checks import AccessCheck
from webfed.gateway.s3 import object_arn

__all__ = ["MAX_DELETE_BODY", "MAX_DELETE_KEYS", "delete_objects_checks"]

MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 2 * 1024 * 1024


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(body: bytes) -> ElementTree.Element:
    if len(body) > MAX_DELETE_BODY:
        raise InvalidParameterValue("The Delete request body is too large.")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise InvalidParameterValue("The XML you provided was not well-formed.")
    try:
        # No DTD can be present (checked above), so no entity expansion can happen.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as error:
        raise InvalidParameterValue("The XML you provided was not well-formed.") from error
    if _local(root.tag) != "Delete":
        raise InvalidParameterValue("The XML you provided was not a Delete request.")
    return root


def _object_entry(element: ElementTree.Element) -> tuple[str, str | None]:
    key: str | None = None
    version: str | None = None
    for child in element:
        if _local(child.tag) == "Key":
            key = child.text or ""
        elif _local(child.tag) == "VersionId":
            version = child.text or None
    if not key:
        raise InvalidParameterValue("Every Object of a Delete request needs a Key.")
    return key, version


def delete_objects_checks(
    bucket: str, body: bytes, *, bypass_governance: bool = False
) -> tuple[AccessCheck, ...]:
    """One delete check per listed object; raises on a malformed or oversized body.

    With ``bypass_governance`` (``x-amz-bypass-governance-retention``, which applies to every
    object of the request) each object also needs ``s3:BypassGovernanceRetention``.
    """
    root = _parse(body)
    entries = [_object_entry(child) for child in root if _local(child.tag) == "Object"]
    if not entries:
        raise InvalidParameterValue("A Delete request must list at least one Object.")
    if len(entries) > MAX_DELETE_KEYS:
        raise InvalidParameterValue("A Delete request may list at most 1000 objects.")
    checks: list[AccessCheck] = []
    for key, version in entries:
        resource = object_arn(bucket, key)
        if version is None:
            checks.append(AccessCheck.of("s3:DeleteObject", resource))
        else:
            checks.append(
                AccessCheck.of("s3:DeleteObjectVersion", resource, {"s3:versionid": version})
            )
        if bypass_governance:
            checks.append(AccessCheck.of("s3:BypassGovernanceRetention", resource))
    return tuple(checks)

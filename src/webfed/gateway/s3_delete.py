"""``DeleteObjects`` (``POST /BUCKET?delete``): one check per key named in the body.

S3 checks ``s3:DeleteObject`` (``s3:DeleteObjectVersion`` with a version id) for every object
the XML body lists, plus ``s3:BypassGovernanceRetention`` when the request bypasses
governance-mode retention ("DeleteObjects", Amazon S3 API Reference; at most 1,000 keys). The
body is small and is read whole before anything reaches the upstream. A document type
declaration is refused outright, so no entity can be expanded. Every key obeys the rule of the
request path's own key (:func:`webfed.gateway.s3_address.check_key`: no ``.``/``..``
segments, at most 1,024 bytes), so a listed key cannot name what the path could not.
"""

from __future__ import annotations

from xml.etree import ElementTree

from webfed.errors import InvalidParameterValue
from webfed.gateway.checks import AccessCheck
from webfed.gateway.s3 import object_arn
from webfed.gateway.s3_address import check_key

__all__ = ["MAX_DELETE_BODY", "MAX_DELETE_KEYS", "delete_objects_checks"]

MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 2 * 1024 * 1024


def _local(tag: object) -> str:
    """An element's name without its namespace; "" for a comment or processing instruction."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(body: bytes) -> ElementTree.Element:
    if len(body) > MAX_DELETE_BODY:
        raise InvalidParameterValue("The Delete request body is too large.")
    # The body is read as UTF-8 here and handed to the parser as text, which makes expat ignore
    # the document's encoding declaration: the declaration check below and the parser read the
    # same characters. (Given bytes, expat honours encoding="UTF-16" or any codec Python knows,
    # so a DOCTYPE spelled in that encoding would pass a check made on the bytes.) NUL, which
    # XML forbids anyway, is refused first: expat still takes NUL-interleaved text for UTF-16.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterValue("The XML you provided was not well-formed.") from None
    if "\x00" in text or "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise InvalidParameterValue("The XML you provided was not well-formed.")
    # Comments and processing instructions are kept as nodes, so one inside a Key is seen (and
    # refused) instead of silently dropped: another parser could read that Key differently.
    builder = ElementTree.TreeBuilder(insert_comments=True, insert_pis=True)
    parser = ElementTree.XMLParser(target=builder)  # noqa: S314 - no DTD: refused above
    try:
        # No DTD can be present (checked above), so no entity expansion can happen.
        parser.feed(text)
        root = parser.close()
    except ElementTree.ParseError as error:
        raise InvalidParameterValue("The XML you provided was not well-formed.") from error
    if _local(root.tag) != "Delete":
        raise InvalidParameterValue("The XML you provided was not a Delete request.")
    return root


def _text(element: ElementTree.Element) -> str:
    """The element's text; refused when anything (element, comment, PI) is nested in it."""
    if len(element):
        raise InvalidParameterValue("The XML you provided was not well-formed.")
    return element.text or ""


def _object_entry(element: ElementTree.Element) -> tuple[str, str | None]:
    """``(key, version id)`` of one ``<Object>``; a repeated Key or VersionId is refused
    (parsers differ on which one wins: what is authorized must be what is deleted)."""
    found: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name in ("Key", "VersionId"):
            if name in found:
                raise InvalidParameterValue(f"An Object of a Delete request has two {name}s.")
            found[name] = _text(child)
    key = found.get("Key")
    if not key:
        raise InvalidParameterValue("Every Object of a Delete request needs a Key.")
    return check_key(key), found.get("VersionId") or None


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

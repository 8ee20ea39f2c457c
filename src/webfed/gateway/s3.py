"""Map an S3 REST request to the IAM actions and resources it needs.

The operation is identified the way S3 does it: the HTTP method, whether the path names a
bucket and a key, and the sub-resource in the query string (``?tagging``, ``?uploads``,
``?uploadId=``…). :data:`ROUTES` is the whole table, one row per operation, with the action of
the "Actions, resources, and condition keys for Amazon S3" page (Service Authorization
Reference) and, where S3 has one, the action used when a ``versionId`` is given.

Resources are ``arn:aws:s3:::BUCKET`` and ``arn:aws:s3:::BUCKET/KEY`` (the key decoded);
``ListAllMyBuckets`` has no resource type and is checked against ``*``. Listing carries the
condition keys ``s3:prefix``, ``s3:delimiter`` and ``s3:max-keys`` when the request gives them.

Some headers make a request need more than its own action (the "Permissions" section of each
operation, Amazon S3 API Reference): :data:`webfed.gateway.s3_headers.HEADER_RULES` is that
table. Setting an ACL at write
time (``x-amz-acl``, ``x-amz-grant-*``) needs ``s3:PutObjectAcl``, tags ``s3:PutObjectTagging``,
Object Lock headers ``s3:PutObjectRetention`` / ``s3:PutObjectLegalHold``, and
``x-amz-bypass-governance-retention`` ``s3:BypassGovernanceRetention``.

Deny by default: a query parameter that is neither a known sub-resource nor an ordinary
parameter, or two sub-resources at once, is refused rather than guessed at (the upstream could
read it as an operation the table does not know).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl

from webfed.errors import AccessDenied
from webfed.gateway.checks import AccessCheck, ContextValue
from webfed.gateway.s3_address import CopySource, parse_copy_source
from webfed.gateway.s3_headers import (
    DECIDING_HEADERS,
    HEADER_KEYS,
    HEADER_RULES,
    HeaderRule,
    bypasses_governance,
)

__all__ = [
    "DECIDING_HEADERS",
    "HEADER_RULES",
    "ORDINARY_PARAMETERS",
    "ROUTES",
    "HeaderRule",
    "Level",
    "S3Operation",
    "S3Request",
    "S3Route",
    "bucket_arn",
    "bypasses_governance",
    "map_s3_request",
    "object_arn",
]


class Level(Enum):
    SERVICE = "service"
    BUCKET = "bucket"
    OBJECT = "object"


@dataclass(frozen=True, slots=True)
class S3Route:
    """One S3 operation: how to recognise it and what it needs."""

    method: str
    level: Level
    subresource: str | None
    operation: str
    actions: tuple[str, ...]
    version_actions: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class S3Request:
    """What the mapper reads: method, bucket, key, decoded query, lower-case headers."""

    method: str
    bucket: str | None
    key: str | None
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class S3Operation:
    """The operation's name and its checks; ``needs_body`` when checks depend on the body
    (``DeleteObjects``: see :func:`webfed.gateway.s3_delete.delete_objects_checks`)."""

    name: str
    checks: tuple[AccessCheck, ...]
    needs_body: bool = False


def _route(
    method: str,
    level: Level,
    sub: str | None,
    operation: str,
    action: str | tuple[str, ...],
    version: str | tuple[str, ...] | None = None,
) -> S3Route:
    actions = (action,) if isinstance(action, str) else action
    versions = (version,) if isinstance(version, str) else version
    return S3Route(method, level, sub, operation, actions, versions)


S, B, OB = Level.SERVICE, Level.BUCKET, Level.OBJECT


ROUTES: tuple[S3Route, ...] = (
    _route("GET", S, None, "ListBuckets", "s3:ListAllMyBuckets"),
    _route("PUT", B, None, "CreateBucket", "s3:CreateBucket"),
    _route("DELETE", B, None, "DeleteBucket", "s3:DeleteBucket"),
    _route("HEAD", B, None, "HeadBucket", "s3:ListBucket"),
    _route("GET", B, None, "ListObjects", "s3:ListBucket"),
    _route("GET", B, "versions", "ListObjectVersions", "s3:ListBucketVersions"),
    _route("GET", B, "uploads", "ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    _route("POST", B, "delete", "DeleteObjects", "s3:DeleteObject"),
    _route("GET", B, "location", "GetBucketLocation", "s3:GetBucketLocation"),
    _route("GET", B, "tagging", "GetBucketTagging", "s3:GetBucketTagging"),
    _route("PUT", B, "tagging", "PutBucketTagging", "s3:PutBucketTagging"),
    _route("DELETE", B, "tagging", "DeleteBucketTagging", "s3:PutBucketTagging"),
    _route("GET", B, "versioning", "GetBucketVersioning", "s3:GetBucketVersioning"),
    _route("PUT", B, "versioning", "PutBucketVersioning", "s3:PutBucketVersioning"),
    _route("GET", B, "policy", "GetBucketPolicy", "s3:GetBucketPolicy"),
    _route("PUT", B, "policy", "PutBucketPolicy", "s3:PutBucketPolicy"),
    _route("DELETE", B, "policy", "DeleteBucketPolicy", "s3:DeleteBucketPolicy"),
    _route("GET", B, "policyStatus", "GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"),
    _route("GET", B, "cors", "GetBucketCors", "s3:GetBucketCORS"),
    _route("PUT", B, "cors", "PutBucketCors", "s3:PutBucketCORS"),
    _route("DELETE", B, "cors", "DeleteBucketCors", "s3:PutBucketCORS"),
    _route("GET", B, "acl", "GetBucketAcl", "s3:GetBucketAcl"),
    _route("PUT", B, "acl", "PutBucketAcl", "s3:PutBucketAcl"),
    _route("GET", B, "lifecycle", "GetBucketLifecycleConfiguration",
           "s3:GetLifecycleConfiguration"),
    _route("PUT", B, "lifecycle", "PutBucketLifecycleConfiguration",
           "s3:PutLifecycleConfiguration"),
    _route("DELETE", B, "lifecycle", "DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"),
    _route("GET", B, "encryption", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    _route("PUT", B, "encryption", "PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    _route("DELETE", B, "encryption", "DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
    _route("GET", B, "notification", "GetBucketNotificationConfiguration",
           "s3:GetBucketNotification"),
    _route("PUT", B, "notification", "PutBucketNotificationConfiguration",
           "s3:PutBucketNotification"),
    _route("GET", B, "website", "GetBucketWebsite", "s3:GetBucketWebsite"),
    _route("PUT", B, "website", "PutBucketWebsite", "s3:PutBucketWebsite"),
    _route("DELETE", B, "website", "DeleteBucketWebsite", "s3:DeleteBucketWebsite"),
    _route("GET", B, "logging", "GetBucketLogging", "s3:GetBucketLogging"),
    _route("PUT", B, "logging", "PutBucketLogging", "s3:PutBucketLogging"),
    _route("GET", B, "ownershipControls", "GetBucketOwnershipControls",
           "s3:GetBucketOwnershipControls"),
    _route("PUT", B, "ownershipControls", "PutBucketOwnershipControls",
           "s3:PutBucketOwnershipControls"),
    _route("DELETE", B, "ownershipControls", "DeleteBucketOwnershipControls",
           "s3:PutBucketOwnershipControls"),
    _route("GET", B, "publicAccessBlock", "GetPublicAccessBlock",
           "s3:GetBucketPublicAccessBlock"),
    _route("PUT", B, "publicAccessBlock", "PutPublicAccessBlock",
           "s3:PutBucketPublicAccessBlock"),
    _route("DELETE", B, "publicAccessBlock", "DeletePublicAccessBlock",
           "s3:PutBucketPublicAccessBlock"),
    _route("GET", B, "object-lock", "GetObjectLockConfiguration",
           "s3:GetBucketObjectLockConfiguration"),
    _route("PUT", B, "object-lock", "PutObjectLockConfiguration",
           "s3:PutBucketObjectLockConfiguration"),
    _route("GET", B, "replication", "GetBucketReplication", "s3:GetReplicationConfiguration"),
    _route("PUT", B, "replication", "PutBucketReplication", "s3:PutReplicationConfiguration"),
    _route("DELETE", B, "replication", "DeleteBucketReplication",
           "s3:PutReplicationConfiguration"),
    _route("GET", B, "requestPayment", "GetBucketRequestPayment", "s3:GetBucketRequestPayment"),
    _route("PUT", B, "requestPayment", "PutBucketRequestPayment", "s3:PutBucketRequestPayment"),
    _route("GET", B, "accelerate", "GetBucketAccelerateConfiguration",
           "s3:GetAccelerateConfiguration"),
    _route("PUT", B, "accelerate", "PutBucketAccelerateConfiguration",
           "s3:PutAccelerateConfiguration"),
    _route("GET", OB, None, "GetObject", "s3:GetObject", "s3:GetObjectVersion"),
    _route("HEAD", OB, None, "HeadObject", "s3:GetObject", "s3:GetObjectVersion"),
    _route("PUT", OB, None, "PutObject", "s3:PutObject"),
    _route("DELETE", OB, None, "DeleteObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    _route("POST", OB, "uploads", "CreateMultipartUpload", "s3:PutObject"),
    _route("PUT", OB, "uploadId", "UploadPart", "s3:PutObject"),
    _route("POST", OB, "uploadId", "CompleteMultipartUpload", "s3:PutObject"),
    _route("DELETE", OB, "uploadId", "AbortMultipartUpload", "s3:AbortMultipartUpload"),
    _route("GET", OB, "uploadId", "ListParts", "s3:ListMultipartUploadParts"),
    _route("GET", OB, "tagging", "GetObjectTagging", "s3:GetObjectTagging",
           "s3:GetObjectVersionTagging"),
    _route("PUT", OB, "tagging", "PutObjectTagging", "s3:PutObjectTagging",
           "s3:PutObjectVersionTagging"),
    _route("DELETE", OB, "tagging", "DeleteObjectTagging", "s3:DeleteObjectTagging",
           "s3:DeleteObjectVersionTagging"),
    _route("GET", OB, "acl", "GetObjectAcl", "s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    _route("PUT", OB, "acl", "PutObjectAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    _route("GET", OB, "retention", "GetObjectRetention", "s3:GetObjectRetention"),
    _route("PUT", OB, "retention", "PutObjectRetention", "s3:PutObjectRetention"),
    _route("GET", OB, "legal-hold", "GetObjectLegalHold", "s3:GetObjectLegalHold"),
    _route("PUT", OB, "legal-hold", "PutObjectLegalHold", "s3:PutObjectLegalHold"),
    _route("POST", OB, "restore", "RestoreObject", "s3:RestoreObject"),
    _route("GET", OB, "attributes", "GetObjectAttributes",
           ("s3:GetObject", "s3:GetObjectAttributes"),
           ("s3:GetObjectVersion", "s3:GetObjectVersionAttributes")),
    _route("POST", OB, "select", "SelectObjectContent", "s3:GetObject"),
)  # fmt: skip

_INDEX: Mapping[tuple[str, Level, str | None], S3Route] = {
    (route.method, route.level, route.subresource): route for route in ROUTES
}
SUBRESOURCES = frozenset(route.subresource for route in ROUTES if route.subresource)

ORDINARY_PARAMETERS = frozenset(
    {
        "prefix", "delimiter", "max-keys", "marker", "list-type", "continuation-token",
        "start-after", "fetch-owner", "encoding-type", "key-marker", "version-id-marker",
        "upload-id-marker", "max-uploads", "max-parts", "part-number-marker", "partNumber",
        "versionId", "x-id", "select-type", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires",
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
    }
)  # fmt: skip
"""Query parameters that modify an operation without naming another one."""

_LISTING_KEYS = (
    ("prefix", "s3:prefix"),
    ("delimiter", "s3:delimiter"),
    ("max-keys", "s3:max-keys"),
)
_COPYING = frozenset({"PutObject", "UploadPart"})
_LISTING = frozenset({"ListObjects", "ListObjectVersions"})
_WRITING = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _deny(message: str) -> AccessDenied:
    return AccessDenied(message, explanation={"check": "s3-operation", "reason": message})


def _find_route(request: S3Request) -> S3Route:
    unknown = sorted(set(request.query) - SUBRESOURCES - ORDINARY_PARAMETERS)
    if unknown:
        raise _deny(f"The gateway does not support the query parameter '{unknown[0][:64]}'.")
    markers = [name for name in request.query if name in SUBRESOURCES]
    if len(markers) > 1:
        raise _deny("The request names more than one sub-resource.")
    level = Level.SERVICE if request.bucket is None else Level.BUCKET
    if request.key is not None:
        level = Level.OBJECT
    route = _INDEX.get((request.method, level, markers[0] if markers else None))
    if route is None:
        raise _deny(f"The gateway does not support {request.method} on this {level.value}.")
    return route


def _context(request: S3Request, route: S3Route) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    if route.operation in _LISTING:
        for parameter, key in _LISTING_KEYS:
            if parameter in request.query:
                context[key] = request.query[parameter]
    version = request.query.get("versionId")
    if version is not None and request.key is not None:
        context["s3:versionid"] = version
    for header, key in HEADER_KEYS:
        if header in request.headers:
            context[key] = request.headers[header]
    return context


def _tag_context(tagging: str) -> dict[str, ContextValue]:
    """``s3:RequestObjectTagKeys`` and ``s3:RequestObjectTag/<key>`` from ``x-amz-tagging``."""
    pairs = parse_qsl(tagging, keep_blank_values=True)
    context: dict[str, ContextValue] = {"s3:RequestObjectTagKeys": tuple(k for k, _ in pairs)}
    for key, value in pairs:
        context[f"s3:RequestObjectTag/{key}"] = value
    return context


def _resource(request: S3Request) -> str:
    if request.bucket is None:
        return "*"
    if request.key is None:
        return bucket_arn(request.bucket)
    return object_arn(request.bucket, request.key)


def _copy_checks(source: CopySource) -> AccessCheck:
    action = "s3:GetObjectVersion" if source.version_id else "s3:GetObject"
    context: dict[str, ContextValue] = {}
    if source.version_id:
        context["s3:versionid"] = source.version_id
    return AccessCheck.of(action, object_arn(source.bucket, source.key), context)


def _operation_name(request: S3Request, route: S3Route, copying: bool) -> str:
    if copying:
        return "CopyObject" if route.operation == "PutObject" else "UploadPartCopy"
    if route.operation == "ListObjects" and request.query.get("list-type") == "2":
        return "ListObjectsV2"
    return route.operation


def _actions(request: S3Request, route: S3Route, name: str) -> tuple[str, ...]:
    """The route's actions (its version variant with ``versionId``), then the headers' own."""
    versioned = "versionId" in request.query and route.version_actions is not None
    actions = route.version_actions if versioned and route.version_actions else route.actions
    for rule in HEADER_RULES:
        if rule.applies(name, request.headers):
            actions = (*actions, *rule.actions)
    return actions


def map_s3_request(request: S3Request) -> S3Operation:
    """The operation and every check it needs; raises ``AccessDenied`` for what is unknown."""
    route = _find_route(request)
    copy_header = request.headers.get("x-amz-copy-source")
    copying = copy_header is not None and route.operation in _COPYING
    name = _operation_name(request, route, copying)
    context = _context(request, route)
    tagging = request.headers.get("x-amz-tagging")
    if tagging is not None and name in _WRITING:
        context.update(_tag_context(tagging))
    resource = _resource(request)
    checks = [
        AccessCheck.of(action, resource, context) for action in _actions(request, route, name)
    ]
    if copying and copy_header is not None:
        checks.insert(0, _copy_checks(parse_copy_source(copy_header)))
    if name == "DeleteObjects":
        return S3Operation(name, (), needs_body=True)
    return S3Operation(name, tuple(checks))

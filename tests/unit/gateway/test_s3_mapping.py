# ruff: noqa: E501  (the operation table reads best one row per line)
"""The S3 operation table, one test per row, then addressing, copies, listing keys and attacks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.errors import AccessDenied, InvalidParameterValue, ValidationError
from webfed.gateway.s3 import ROUTES, S3Request, map_s3_request
from webfed.gateway.s3_address import locate, parse_copy_source
from webfed.gateway.s3_delete import delete_objects_checks

BUCKET = "arn:aws:s3:::game"
OBJECT = "arn:aws:s3:::game/p1/save.json"

# (method, level, query, operation, actions, resource) — written out by hand from the Service
# Authorization Reference, independently of the table in webfed.gateway.s3.
ROWS: list[tuple[str, str, str, str, tuple[str, ...], str]] = [
    ("GET", "service", "", "ListBuckets", ("s3:ListAllMyBuckets",), "*"),
    ("PUT", "bucket", "", "CreateBucket", ("s3:CreateBucket",), BUCKET),
    ("DELETE", "bucket", "", "DeleteBucket", ("s3:DeleteBucket",), BUCKET),
    ("HEAD", "bucket", "", "HeadBucket", ("s3:ListBucket",), BUCKET),
    ("GET", "bucket", "", "ListObjects", ("s3:ListBucket",), BUCKET),
    ("GET", "bucket", "versions", "ListObjectVersions", ("s3:ListBucketVersions",), BUCKET),
    ("GET", "bucket", "uploads", "ListMultipartUploads", ("s3:ListBucketMultipartUploads",), BUCKET),
    ("POST", "bucket", "delete", "DeleteObjects", (), BUCKET),
    ("GET", "bucket", "location", "GetBucketLocation", ("s3:GetBucketLocation",), BUCKET),
    ("GET", "bucket", "tagging", "GetBucketTagging", ("s3:GetBucketTagging",), BUCKET),
    ("PUT", "bucket", "tagging", "PutBucketTagging", ("s3:PutBucketTagging",), BUCKET),
    ("DELETE", "bucket", "tagging", "DeleteBucketTagging", ("s3:PutBucketTagging",), BUCKET),
    ("GET", "bucket", "versioning", "GetBucketVersioning", ("s3:GetBucketVersioning",), BUCKET),
    ("PUT", "bucket", "versioning", "PutBucketVersioning", ("s3:PutBucketVersioning",), BUCKET),
    ("GET", "bucket", "policy", "GetBucketPolicy", ("s3:GetBucketPolicy",), BUCKET),
    ("PUT", "bucket", "policy", "PutBucketPolicy", ("s3:PutBucketPolicy",), BUCKET),
    ("DELETE", "bucket", "policy", "DeleteBucketPolicy", ("s3:DeleteBucketPolicy",), BUCKET),
    ("GET", "bucket", "policyStatus", "GetBucketPolicyStatus", ("s3:GetBucketPolicyStatus",), BUCKET),
    ("GET", "bucket", "cors", "GetBucketCors", ("s3:GetBucketCORS",), BUCKET),
    ("PUT", "bucket", "cors", "PutBucketCors", ("s3:PutBucketCORS",), BUCKET),
    ("DELETE", "bucket", "cors", "DeleteBucketCors", ("s3:PutBucketCORS",), BUCKET),
    ("GET", "bucket", "acl", "GetBucketAcl", ("s3:GetBucketAcl",), BUCKET),
    ("PUT", "bucket", "acl", "PutBucketAcl", ("s3:PutBucketAcl",), BUCKET),
    ("GET", "bucket", "lifecycle", "GetBucketLifecycleConfiguration", ("s3:GetLifecycleConfiguration",), BUCKET),
    ("PUT", "bucket", "lifecycle", "PutBucketLifecycleConfiguration", ("s3:PutLifecycleConfiguration",), BUCKET),
    ("DELETE", "bucket", "lifecycle", "DeleteBucketLifecycle", ("s3:PutLifecycleConfiguration",), BUCKET),
    ("GET", "bucket", "encryption", "GetBucketEncryption", ("s3:GetEncryptionConfiguration",), BUCKET),
    ("PUT", "bucket", "encryption", "PutBucketEncryption", ("s3:PutEncryptionConfiguration",), BUCKET),
    ("DELETE", "bucket", "encryption", "DeleteBucketEncryption", ("s3:PutEncryptionConfiguration",), BUCKET),
    ("GET", "bucket", "notification", "GetBucketNotificationConfiguration", ("s3:GetBucketNotification",), BUCKET),
    ("PUT", "bucket", "notification", "PutBucketNotificationConfiguration", ("s3:PutBucketNotification",), BUCKET),
    ("GET", "bucket", "website", "GetBucketWebsite", ("s3:GetBucketWebsite",), BUCKET),
    ("PUT", "bucket", "website", "PutBucketWebsite", ("s3:PutBucketWebsite",), BUCKET),
    ("DELETE", "bucket", "website", "DeleteBucketWebsite", ("s3:DeleteBucketWebsite",), BUCKET),
    ("GET", "bucket", "logging", "GetBucketLogging", ("s3:GetBucketLogging",), BUCKET),
    ("PUT", "bucket", "logging", "PutBucketLogging", ("s3:PutBucketLogging",), BUCKET),
    ("GET", "bucket", "ownershipControls", "GetBucketOwnershipControls", ("s3:GetBucketOwnershipControls",), BUCKET),
    ("PUT", "bucket", "ownershipControls", "PutBucketOwnershipControls", ("s3:PutBucketOwnershipControls",), BUCKET),
    ("DELETE", "bucket", "ownershipControls", "DeleteBucketOwnershipControls", ("s3:PutBucketOwnershipControls",), BUCKET),
    ("GET", "bucket", "publicAccessBlock", "GetPublicAccessBlock", ("s3:GetBucketPublicAccessBlock",), BUCKET),
    ("PUT", "bucket", "publicAccessBlock", "PutPublicAccessBlock", ("s3:PutBucketPublicAccessBlock",), BUCKET),
    ("DELETE", "bucket", "publicAccessBlock", "DeletePublicAccessBlock", ("s3:PutBucketPublicAccessBlock",), BUCKET),
    ("GET", "bucket", "object-lock", "GetObjectLockConfiguration", ("s3:GetBucketObjectLockConfiguration",), BUCKET),
    ("PUT", "bucket", "object-lock", "PutObjectLockConfiguration", ("s3:PutBucketObjectLockConfiguration",), BUCKET),
    ("GET", "bucket", "replication", "GetBucketReplication", ("s3:GetReplicationConfiguration",), BUCKET),
    ("PUT", "bucket", "replication", "PutBucketReplication", ("s3:PutReplicationConfiguration",), BUCKET),
    ("DELETE", "bucket", "replication", "DeleteBucketReplication", ("s3:PutReplicationConfiguration",), BUCKET),
    ("GET", "bucket", "requestPayment", "GetBucketRequestPayment", ("s3:GetBucketRequestPayment",), BUCKET),
    ("PUT", "bucket", "requestPayment", "PutBucketRequestPayment", ("s3:PutBucketRequestPayment",), BUCKET),
    ("GET", "bucket", "accelerate", "GetBucketAccelerateConfiguration", ("s3:GetAccelerateConfiguration",), BUCKET),
    ("PUT", "bucket", "accelerate", "PutBucketAccelerateConfiguration", ("s3:PutAccelerateConfiguration",), BUCKET),
    ("GET", "object", "", "GetObject", ("s3:GetObject",), OBJECT),
    ("HEAD", "object", "", "HeadObject", ("s3:GetObject",), OBJECT),
    ("PUT", "object", "", "PutObject", ("s3:PutObject",), OBJECT),
    ("DELETE", "object", "", "DeleteObject", ("s3:DeleteObject",), OBJECT),
    ("POST", "object", "uploads", "CreateMultipartUpload", ("s3:PutObject",), OBJECT),
    ("PUT", "object", "uploadId", "UploadPart", ("s3:PutObject",), OBJECT),
    ("POST", "object", "uploadId", "CompleteMultipartUpload", ("s3:PutObject",), OBJECT),
    ("DELETE", "object", "uploadId", "AbortMultipartUpload", ("s3:AbortMultipartUpload",), OBJECT),
    ("GET", "object", "uploadId", "ListParts", ("s3:ListMultipartUploadParts",), OBJECT),
    ("GET", "object", "tagging", "GetObjectTagging", ("s3:GetObjectTagging",), OBJECT),
    ("PUT", "object", "tagging", "PutObjectTagging", ("s3:PutObjectTagging",), OBJECT),
    ("DELETE", "object", "tagging", "DeleteObjectTagging", ("s3:DeleteObjectTagging",), OBJECT),
    ("GET", "object", "acl", "GetObjectAcl", ("s3:GetObjectAcl",), OBJECT),
    ("PUT", "object", "acl", "PutObjectAcl", ("s3:PutObjectAcl",), OBJECT),
    ("GET", "object", "retention", "GetObjectRetention", ("s3:GetObjectRetention",), OBJECT),
    ("PUT", "object", "retention", "PutObjectRetention", ("s3:PutObjectRetention",), OBJECT),
    ("GET", "object", "legal-hold", "GetObjectLegalHold", ("s3:GetObjectLegalHold",), OBJECT),
    ("PUT", "object", "legal-hold", "PutObjectLegalHold", ("s3:PutObjectLegalHold",), OBJECT),
    ("POST", "object", "restore", "RestoreObject", ("s3:RestoreObject",), OBJECT),
    ("GET", "object", "attributes", "GetObjectAttributes", ("s3:GetObject", "s3:GetObjectAttributes"), OBJECT),
    ("POST", "object", "select", "SelectObjectContent", ("s3:GetObject",), OBJECT),
]  # fmt: skip


def request(
    method: str,
    level: str = "object",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> S3Request:
    bucket = None if level == "service" else "game"
    key = "p1/save.json" if level == "object" else None
    return S3Request(method, bucket, key, query or {}, headers or {})


def test_every_route_has_a_row() -> None:
    assert {(r.method, r.level.value, r.subresource or "") for r in ROUTES} == {
        (method, level, query) for method, level, query, *_ in ROWS
    }


@pytest.mark.parametrize(
    ("method", "level", "sub", "operation", "actions", "resource"),
    ROWS,
    ids=[f"{row[3]}" for row in ROWS],
)
def test_row(
    method: str, level: str, sub: str, operation: str, actions: tuple[str, ...], resource: str
) -> None:
    query = {sub: "u-1" if sub == "uploadId" else ""} if sub else {}
    mapped = map_s3_request(request(method, level, query))
    assert mapped.name == operation
    assert tuple(check.action for check in mapped.checks) == actions
    assert all(check.resource == resource for check in mapped.checks)
    assert mapped.needs_body is (operation == "DeleteObjects")


VERSIONED = [
    ("GET", "", ("s3:GetObjectVersion",)),
    ("HEAD", "", ("s3:GetObjectVersion",)),
    ("DELETE", "", ("s3:DeleteObjectVersion",)),
    ("GET", "tagging", ("s3:GetObjectVersionTagging",)),
    ("PUT", "tagging", ("s3:PutObjectVersionTagging",)),
    ("DELETE", "tagging", ("s3:DeleteObjectVersionTagging",)),
    ("GET", "acl", ("s3:GetObjectVersionAcl",)),
    ("PUT", "acl", ("s3:PutObjectVersionAcl",)),
    ("GET", "attributes", ("s3:GetObjectVersion", "s3:GetObjectVersionAttributes")),
]


@pytest.mark.parametrize(
    ("method", "sub", "actions"), VERSIONED, ids=[f"{m}-{s or 'object'}" for m, s, _ in VERSIONED]
)
def test_version_id_selects_the_version_action(
    method: str, sub: str, actions: tuple[str, ...]
) -> None:
    query = {"versionId": "v1", **({sub: ""} if sub else {})}
    mapped = map_s3_request(request(method, "object", query))
    assert tuple(check.action for check in mapped.checks) == actions
    assert all(check.context["s3:versionid"] == "v1" for check in mapped.checks)


def test_list_objects_v2_and_listing_keys() -> None:
    query = {"list-type": "2", "prefix": "p1/", "delimiter": "/", "max-keys": "10"}
    mapped = map_s3_request(request("GET", "bucket", query))
    assert mapped.name == "ListObjectsV2"
    (check,) = mapped.checks
    assert dict(check.context) == {"s3:prefix": "p1/", "s3:delimiter": "/", "s3:max-keys": "10"}


def test_listing_without_prefix_has_no_prefix_key() -> None:
    (check,) = map_s3_request(request("GET", "bucket", {"list-type": "2"})).checks
    assert "s3:prefix" not in check.context


def test_list_versions_carries_listing_keys() -> None:
    (check,) = map_s3_request(request("GET", "bucket", {"versions": "", "prefix": "a"})).checks
    assert check.context["s3:prefix"] == "a"


def test_copy_object_needs_read_on_source_and_write_on_target() -> None:
    headers = {"x-amz-copy-source": "/other/p2/save%20old.json"}
    mapped = map_s3_request(request("PUT", "object", headers=headers))
    assert mapped.name == "CopyObject"
    assert [(c.action, c.resource) for c in mapped.checks] == [
        ("s3:GetObject", "arn:aws:s3:::other/p2/save old.json"),
        ("s3:PutObject", OBJECT),
    ]
    assert mapped.checks[1].context["s3:x-amz-copy-source"] == "/other/p2/save%20old.json"


def test_copy_of_a_version_needs_get_object_version() -> None:
    headers = {"x-amz-copy-source": "other/k?versionId=abc"}
    mapped = map_s3_request(request("PUT", "object", headers=headers))
    assert mapped.checks[0].action == "s3:GetObjectVersion"
    assert mapped.checks[0].context["s3:versionid"] == "abc"


def test_upload_part_copy() -> None:
    headers = {"x-amz-copy-source": "other/k"}
    query = {"uploadId": "u", "partNumber": "2"}
    mapped = map_s3_request(request("PUT", "object", query, headers))
    assert mapped.name == "UploadPartCopy"
    assert [c.action for c in mapped.checks] == ["s3:GetObject", "s3:PutObject"]


def test_put_object_with_tags_needs_put_object_tagging() -> None:
    headers = {"x-amz-tagging": "team=red&level=3", "x-amz-acl": "private"}
    mapped = map_s3_request(request("PUT", "object", headers=headers))
    # Any ACL header, even a private canned ACL, also needs s3:PutObjectAcl (PutObject page).
    assert [c.action for c in mapped.checks] == [
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectAcl",
    ]
    context = mapped.checks[0].context
    assert context["s3:RequestObjectTagKeys"] == ("team", "level")
    assert context["s3:RequestObjectTag/team"] == "red"
    assert context["s3:x-amz-acl"] == "private"


def test_copy_header_on_a_get_is_ignored() -> None:
    mapped = map_s3_request(request("GET", "object", headers={"x-amz-copy-source": "a/b"}))
    assert [c.action for c in mapped.checks] == ["s3:GetObject"]


@pytest.mark.parametrize(
    ("method", "level", "query"),
    [
        ("GET", "bucket", {"intelligent-tiering": ""}),
        ("PUT", "bucket", {"metrics": "", "id": "x"}),
        ("GET", "object", {"torrent": ""}),
        ("GET", "bucket", {"tagging": "", "policy": ""}),
        ("POST", "bucket", {}),
        ("PATCH", "object", {}),
        ("DELETE", "service", {}),
        ("POST", "object", {}),
    ],
    ids=[
        "unknown-subresource",
        "unknown-with-id",
        "torrent",
        "two-subresources",
        "browser-post-form",
        "patch",
        "delete-service",
        "post-object-without-subresource",
    ],
)
def test_unknown_requests_are_denied(method: str, level: str, query: dict[str, str]) -> None:
    with pytest.raises(AccessDenied):
        map_s3_request(request(method, level, query))


# --- addressing ---------------------------------------------------------------------------------

LOCATIONS = [
    ("gw:8080", "/", (), None, None, "/"),
    ("gw:8080", "/game", (), "game", None, "/game"),
    ("gw:8080", "/game/", (), "game", None, "/game/"),
    ("gw:8080", "/game/p1/a%20b.txt", (), "game", "p1/a b.txt", "/game/p1/a%20b.txt"),
    ("gw:8080", "/game/a//b/.c/..d", (), "game", "a//b/.c/..d", "/game/a//b/.c/..d"),
    ("gw:8080", "/game/%E2%82%AC", (), "game", "€", "/game/%E2%82%AC"),
    ("game.s3.local:8080", "/p1/x", ("s3.local",), "game", "p1/x", "/game/p1/x"),
    ("GAME.S3.LOCAL", "/", ("s3.local",), "game", None, "/game/"),
    ("s3.local:9000", "/game/k", ("s3.local",), "game", "k", "/game/k"),
    ("a.b.s3.local", "/k", ("s3.local",), "a.b", "k", "/a.b/k"),
]


@pytest.mark.parametrize(
    ("host", "path", "suffixes", "bucket", "key", "upstream"),
    LOCATIONS,
    ids=[
        "service",
        "bucket",
        "bucket-slash",
        "encoded-key",
        "dot-segments-kept",
        "utf8-key",
        "virtual-host",
        "virtual-host-case",
        "base-domain-is-path-style",
        "dotted-bucket",
    ],
)
def test_locate(
    host: str,
    path: str,
    suffixes: tuple[str, ...],
    bucket: str | None,
    key: str | None,
    upstream: str,
) -> None:
    address = locate(host, path, suffixes)
    assert (address.bucket, address.key, address.upstream_path) == (bucket, key, upstream)


@pytest.mark.parametrize(
    ("host", "path"),
    [("gw", "/bad%2Fbucket/k"), ("gw", "/-x/k"), ("gw", "/a b/k"), ("x y.s3.local", "/")],
    ids=["encoded-slash", "leading-dash", "space", "virtual-space"],
)
def test_invalid_buckets_are_refused(host: str, path: str) -> None:
    with pytest.raises(ValidationError):
        locate(host, path, ("s3.local",))


@pytest.mark.parametrize("path", ["/game/%FF", "/game/" + "k" * 1025], ids=["not-utf8", "too-long"])
def test_invalid_keys_are_refused(path: str) -> None:
    with pytest.raises(InvalidParameterValue):
        locate("gw", path)


@pytest.mark.parametrize(
    "value",
    ["justbucket", "/bucket/", "arn:aws:s3:us-east-1:1:accesspoint/x/object/k", "b/k?acl=1"],
    ids=["no-key", "empty-key", "access-point", "other-query"],
)
def test_bad_copy_sources(value: str) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_copy_source(value)


def test_copy_source_forms() -> None:
    assert parse_copy_source("/b/a%2Fb?versionId=v").key == "a/b"
    assert parse_copy_source("b/k").version_id is None


# --- DeleteObjects ------------------------------------------------------------------------------

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_delete_objects_checks_each_key() -> None:
    body = (
        f"<Delete {NS}><Object><Key>p1/a</Key></Object>"
        "<Object><Key>p2/b&amp;c</Key><VersionId>v9</VersionId></Object><Quiet>true</Quiet>"
        "</Delete>"
    ).encode()
    checks = delete_objects_checks("game", body)
    assert [(c.action, c.resource) for c in checks] == [
        ("s3:DeleteObject", "arn:aws:s3:::game/p1/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::game/p2/b&c"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete></Delete>",
        b"not xml",
        b"<Other><Object><Key>k</Key></Object></Other>",
        b"<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        b'<!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object></Delete>',
        b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
    ],
    ids=["empty", "not-xml", "wrong-root", "no-key", "entity", "too-many"],
)
def test_bad_delete_bodies(body: bytes) -> None:
    with pytest.raises(InvalidParameterValue):
        delete_objects_checks("game", body)


@given(key=st.text(min_size=1, max_size=200).filter(lambda k: "\x00" not in k))
def test_object_keys_round_trip_through_the_path(key: str) -> None:
    from urllib.parse import quote

    encoded = quote(key.encode("utf-8", "surrogatepass"), safe="/~")
    try:
        address = locate("gw", f"/game/{encoded}")
    except InvalidParameterValue:
        assert (
            len(key.encode("utf-8", "surrogatepass")) > 1024
            or any(0xD800 <= ord(ch) <= 0xDFFF for ch in key)
            or any(segment in (".", "..") for segment in key.split("/"))
        )
        return
    assert address.key == key
    assert address.upstream_path == f"/game/{encoded}"

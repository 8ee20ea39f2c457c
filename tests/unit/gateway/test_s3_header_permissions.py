"""Headers that make an S3 write need more than its own action (webfed issue 5, finding 3).

Written from the "Permissions" sections of PutObject, CopyObject, CreateMultipartUpload,
CreateBucket, DeleteObject and DeleteObjects (Amazon S3 API Reference) and the condition keys of
"Actions, resources, and condition keys for Amazon S3" (Service Authorization Reference),
independently of the table in ``webfed.gateway.s3``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.gateway.s3 import (
    DECIDING_HEADERS,
    S3Request,
    bypasses_governance,
    map_s3_request,
)
from webfed.gateway.s3_delete import delete_objects_checks

OBJECT = "arn:aws:s3:::game/p1/save.json"
BUCKET = "arn:aws:s3:::game"
COPY = {"x-amz-copy-source": "game/p1/old.json"}
UPLOADS = {"uploads": ""}


def mapped(
    method: str,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    *,
    key: str | None = "p1/save.json",
) -> list[tuple[str, str]]:
    operation = map_s3_request(S3Request(method, "game", key, query or {}, headers))
    return [(check.action, check.resource) for check in operation.checks]


ACL_HEADERS = [
    ("x-amz-acl", "public-read"),
    ("x-amz-grant-full-control", 'id="someone-else"'),
    ("x-amz-grant-read", "uri=http://acs.amazonaws.com/groups/global/AllUsers"),
    ("x-amz-grant-read-acp", 'id="someone-else"'),
    ("x-amz-grant-write-acp", 'id="someone-else"'),
]
WRITES = [
    ("PUT", {}, {}, "PutObject"),
    ("PUT", COPY, {}, "CopyObject"),
    ("POST", {}, UPLOADS, "CreateMultipartUpload"),
]


def _write_cases() -> list[tuple[str, dict[str, str], dict[str, str], str, str, str]]:
    return [
        (method, base, query, name, header, value)
        for method, base, query, name in WRITES
        for header, value in ACL_HEADERS
    ]


@pytest.mark.parametrize(
    ("method", "base", "query", "name", "header", "value"),
    _write_cases(),
    ids=[f"{case[3]}-{case[4]}" for case in _write_cases()],
)
def test_acl_at_write_time_needs_put_object_acl(
    method: str, base: dict[str, str], query: dict[str, str], name: str, header: str, value: str
) -> None:
    operation = map_s3_request(
        S3Request(method, "game", "p1/save.json", query, {**base, header: value})
    )
    assert operation.name == name
    checks = {(check.action, check.resource) for check in operation.checks}
    assert ("s3:PutObject", OBJECT) in checks
    assert ("s3:PutObjectAcl", OBJECT) in checks
    acl = next(check for check in operation.checks if check.action == "s3:PutObjectAcl")
    assert acl.context[f"s3:{header}"] == value


LOCK_CASES = [
    ({"x-amz-object-lock-mode": "COMPLIANCE"}, ["s3:PutObjectRetention"]),
    ({"x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"}, ["s3:PutObjectRetention"]),
    ({"x-amz-object-lock-legal-hold": "ON"}, ["s3:PutObjectLegalHold"]),
    (
        {
            "x-amz-object-lock-mode": "GOVERNANCE",
            "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z",
            "x-amz-object-lock-legal-hold": "OFF",
        },
        ["s3:PutObjectRetention", "s3:PutObjectLegalHold"],
    ),
]


@pytest.mark.parametrize(
    ("method", "base", "query", "name"), WRITES, ids=[write[3] for write in WRITES]
)
@pytest.mark.parametrize(
    ("headers", "extra"), LOCK_CASES, ids=["mode", "retain-until", "legal-hold", "all-three"]
)
def test_object_lock_headers_need_retention_and_legal_hold(
    method: str,
    base: dict[str, str],
    query: dict[str, str],
    name: str,
    headers: dict[str, str],
    extra: list[str],
) -> None:
    operation = map_s3_request(
        S3Request(method, "game", "p1/save.json", query, {**base, **headers})
    )
    actions = [check.action for check in operation.checks if check.resource == OBJECT]
    assert actions == ["s3:PutObject", *extra]


def test_object_lock_condition_keys() -> None:
    headers = {
        "x-amz-object-lock-mode": "GOVERNANCE",
        "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z",
        "x-amz-object-lock-legal-hold": "ON",
    }
    operation = map_s3_request(S3Request("PUT", "game", "p1/save.json", {}, headers))
    context = operation.checks[0].context
    assert context["s3:object-lock-mode"] == "GOVERNANCE"
    assert context["s3:object-lock-retain-until-date"] == "2099-01-01T00:00:00Z"
    assert context["s3:object-lock-legal-hold"] == "ON"


def test_tagging_acl_and_lock_together_need_every_action_once() -> None:
    headers = {
        "x-amz-tagging": "a=b",
        "x-amz-acl": "private",
        "x-amz-grant-read": 'id="x"',
        "x-amz-object-lock-legal-hold": "ON",
    }
    assert [action for action, _ in mapped("PUT", headers)] == [
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectAcl",
        "s3:PutObjectLegalHold",
    ]


def test_copy_with_acl_reads_the_source_and_writes_acl_on_the_target() -> None:
    assert mapped("PUT", {**COPY, "x-amz-acl": "public-read"}) == [
        ("s3:GetObject", "arn:aws:s3:::game/p1/old.json"),
        ("s3:PutObject", OBJECT),
        ("s3:PutObjectAcl", OBJECT),
    ]


BYPASS = {"x-amz-bypass-governance-retention": "true"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["s3:DeleteObject", "s3:BypassGovernanceRetention"]),
        ({"versionId": "v1"}, ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]),
        ({"retention": ""}, ["s3:PutObjectRetention", "s3:BypassGovernanceRetention"]),
    ],
    ids=["delete", "delete-version", "put-retention"],
)
def test_bypassing_governance_needs_its_own_action(
    query: dict[str, str], expected: list[str]
) -> None:
    method = "PUT" if "retention" in query else "DELETE"
    checks = mapped(method, BYPASS, query)
    assert [action for action, _ in checks] == expected
    assert {resource for _, resource in checks} == {OBJECT}


@pytest.mark.parametrize(
    ("value", "bypasses"),
    [("true", True), ("TRUE", True), ("", True), ("yes", True), ("false", False), ("False", False)],
    ids=["true", "upper", "empty", "other", "false", "false-cased"],
)
def test_only_false_does_not_bypass(value: str, bypasses: bool) -> None:
    """Any value but ``false`` is read as a bypass: an upstream might accept it (fail closed)."""
    headers = {"x-amz-bypass-governance-retention": value}
    assert bypasses_governance(headers) is bypasses
    actions = [action for action, _ in mapped("DELETE", headers)]
    assert ("s3:BypassGovernanceRetention" in actions) is bypasses


def test_delete_objects_with_bypass_checks_every_key() -> None:
    body = b"<Delete><Object><Key>p1/a</Key></Object><Object><Key>p2/b</Key></Object></Delete>"
    checks = delete_objects_checks("game", body, bypass_governance=True)
    assert [(c.action, c.resource) for c in checks] == [
        ("s3:DeleteObject", "arn:aws:s3:::game/p1/a"),
        ("s3:BypassGovernanceRetention", "arn:aws:s3:::game/p1/a"),
        ("s3:DeleteObject", "arn:aws:s3:::game/p2/b"),
        ("s3:BypassGovernanceRetention", "arn:aws:s3:::game/p2/b"),
    ]
    plain = delete_objects_checks("game", body)
    assert [c.action for c in plain] == ["s3:DeleteObject", "s3:DeleteObject"]


CREATE_BUCKET = [
    ({"x-amz-acl": "public-read"}, ["s3:CreateBucket", "s3:PutBucketAcl"]),
    ({"x-amz-grant-write": 'id="x"'}, ["s3:CreateBucket", "s3:PutBucketAcl"]),
    (
        {"x-amz-object-ownership": "ObjectWriter"},
        ["s3:CreateBucket", "s3:PutBucketOwnershipControls"],
    ),
    (
        {"x-amz-bucket-object-lock-enabled": "true"},
        ["s3:CreateBucket", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"],
    ),
    ({"x-amz-bucket-object-lock-enabled": "false"}, ["s3:CreateBucket"]),
]


@pytest.mark.parametrize(
    ("headers", "actions"),
    CREATE_BUCKET,
    ids=["canned-acl", "grant", "ownership", "object-lock", "object-lock-false"],
)
def test_create_bucket_headers(headers: dict[str, str], actions: list[str]) -> None:
    checks = mapped("PUT", headers, key=None)
    assert [action for action, _ in checks] == actions
    assert {resource for _, resource in checks} == {BUCKET}


@pytest.mark.parametrize(
    ("method", "query"),
    [("GET", {}), ("PUT", {"uploadId": "u", "partNumber": "1"}), ("POST", {"uploadId": "u"})],
    ids=["get", "upload-part", "complete-upload"],
)
def test_acl_headers_on_other_operations_add_no_write_check(
    method: str, query: dict[str, str]
) -> None:
    actions = [action for action, _ in mapped(method, {"x-amz-acl": "public-read"}, query)]
    assert "s3:PutObjectAcl" not in actions


def test_every_header_that_decides_is_single_valued() -> None:
    for header, _ in ACL_HEADERS:
        assert header in DECIDING_HEADERS
    for header in (
        "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date",
        "x-amz-object-lock-legal-hold",
        "x-amz-bypass-governance-retention",
        "x-amz-tagging",
        "x-amz-copy-source",
        "x-amz-grant-write",
        "x-amz-object-ownership",
        "x-amz-bucket-object-lock-enabled",
    ):
        assert header in DECIDING_HEADERS


@given(
    headers=st.dictionaries(
        st.sampled_from([h for h, _ in ACL_HEADERS] + ["x-amz-object-lock-mode", "x-amz-meta-a"]),
        st.text(alphabet='abcdefXYZ=-" ', max_size=12),
        max_size=4,
    )
)
def test_a_write_never_needs_fewer_checks_with_more_headers(headers: dict[str, str]) -> None:
    """Adding headers to a PutObject only ever adds checks (never drops s3:PutObject)."""
    bare = set(mapped("PUT", {}))
    dressed = set(mapped("PUT", headers))
    assert bare <= dressed
    acl = any(h.startswith(("x-amz-acl", "x-amz-grant-")) for h in headers)
    assert (("s3:PutObjectAcl", OBJECT) in dressed) is acl

"""Regression tests for the bugs fuzzing found (docs/fuzzing.md lists them)."""

from __future__ import annotations

import json
import time

import pytest

from webfed.core.policy import (
    AuthorizationRequest,
    PolicyKind,
    WebIdentityPrincipal,
    evaluate,
    parse_policy,
)
from webfed.core.policy.wildcard import compile_glob
from webfed.errors import InvalidParameterValue, ServiceUnavailable
from webfed.gateway.dynamodb_proxy import read_key_schema
from webfed.gateway.s3_delete import delete_objects_checks

_ENTITY_DELETE = (
    '<?xml version="1.0" encoding="{encoding}"?>'
    '<!DOCTYPE d [<!ENTITY e "players/bob/save">]>'
    "<Delete><Object><Key>players/alice/&e;</Key></Object></Delete>"
)


@pytest.mark.parametrize(
    ("encoding", "codec"),
    [
        ("UTF-16", "utf-16"),
        ("UTF-16LE", "utf-16-le"),
        ("UTF-16BE", "utf-16-be"),
        ("cp037", "cp037"),
    ],
)
def test_delete_objects_refuses_a_doctype_in_any_encoding(encoding: str, codec: str) -> None:
    """A DOCTYPE spelled in UTF-16 (or EBCDIC) passed the byte check and expat expanded its
    entities, so the checks named keys the body never spelled out."""
    body = _ENTITY_DELETE.format(encoding=encoding).encode(codec)
    with pytest.raises(InvalidParameterValue):
        delete_objects_checks("game", body)


def test_delete_objects_reads_the_body_as_utf8_whatever_it_declares() -> None:
    """The declaration no longer chooses the codec: UTF-8 bytes are read as UTF-8."""
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        "<Delete><Object><Key>players/alice/é</Key></Object></Delete>"
    ).encode()
    (check,) = delete_objects_checks("game", body)
    assert check.resource == "arn:aws:s3:::game/players/alice/é"


def test_delete_objects_refuses_bytes_that_are_not_utf8() -> None:
    body = "<Delete><Object><Key>é</Key></Object></Delete>".encode("utf-16")
    with pytest.raises(InvalidParameterValue):
        delete_objects_checks("game", body)


@pytest.mark.parametrize("content", [b"", b"<html>busy</html>", b"[" * 100_000, b"\xff"])
def test_describe_table_answer_that_is_not_json_is_the_upstreams_failure(content: bytes) -> None:
    """json.loads' ValueError (or RecursionError) escaped and became a 500 InternalFailure."""
    with pytest.raises(ServiceUnavailable):
        read_key_schema(content)


def test_describe_table_answer_read_from_bytes() -> None:
    content = (
        b'{"Table": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],'
        b' "LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema":'
        b' [{"AttributeName": "pk", "KeyType": "HASH"}]}]}}'
    )
    schema = read_key_schema(content)
    assert (schema.partition_key, schema.for_index("lsi")) == ("pk", "pk")


def _cpu_seconds(run: object) -> float:
    assert callable(run)
    started = time.process_time()
    run()
    return time.process_time() - started


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("sts:assu" + "*" * 18 + "tagsession", "sts:assumerolewithwebidentity", False),
        ("sts:assu" + "*" * 18 + "tagsession", "sts:assumerole-tagsession", True),
        ("*a" * 40 + "*c", "a" * 2000, False),
        ("*a" * 40 + "*c", "a" * 2000 + "c", True),
        ("*a?" * 40 + "*c", "a" * 2000, False),
        ("arn:aws:s3:::b/" + "*?" * 30 + "z", "arn:aws:s3:::b/" + "x" * 500, False),
    ],
)
def test_glob_matching_takes_linear_time(pattern: str, text: str, expected: bool) -> None:
    """Globs became regexes (each ``*`` a ``.*``): ``sts:Assu****...TagSession`` took
    exponential time against an action it does not match (the policy fuzzer's hang)."""
    glob = compile_glob(pattern)
    assert _cpu_seconds(lambda: glob.matches(text)) < 0.2
    assert glob.matches(text) is expected


def test_session_policy_with_many_wildcards_is_evaluated_at_once() -> None:
    """A web identity caller writes its session policy: its wildcards must not stall STS."""
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:Get" + "*" * 30 + "Acl", "s3:" + "*a" * 30 + "*z"],
                    "Resource": "arn:aws:s3:::b/" + "*a" * 30 + "*z",
                    "Condition": {"StringLike": {"s3:prefix": "*a" * 30 + "*z"}},
                }
            ],
        }
    )
    policy = parse_policy(document, PolicyKind.SESSION)
    request = AuthorizationRequest.build(
        WebIdentityPrincipal("accounts.google.com"),
        "s3:" + "a" * 200,
        "arn:aws:s3:::b/" + "a" * 500,
        {"s3:prefix": "a" * 500},
    )
    assert _cpu_seconds(lambda: evaluate(request, identity=[policy], session=[policy])) < 0.2
    assert not evaluate(request, identity=[policy], session=[policy]).allowed

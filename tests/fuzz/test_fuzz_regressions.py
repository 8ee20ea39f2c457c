"""Regression tests for the bugs fuzzing found (docs/fuzzing.md lists them)."""

from __future__ import annotations

import pytest

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

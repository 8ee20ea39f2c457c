"""Every object key the gateway authorizes obeys the same rule (webfed issue 5, finding 5).

``locate()`` refuses ``.``/``..`` segments, invalid UTF-8 and over-long keys; the source of a
copy (``x-amz-copy-source``) and the keys of a ``DeleteObjects`` body must be held to the same
rule, or ``players/alice/../bob/save.json`` is authorized as a key under ``players/alice/``
while an upstream that resolves dot segments acts on Bob's.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.errors import InvalidParameterValue, ValidationError
from webfed.gateway.s3 import S3Request, map_s3_request
from webfed.gateway.s3_address import locate, parse_copy_source
from webfed.gateway.s3_delete import delete_objects_checks

DOTTED_SOURCES = [
    "/game/players/alice/../bob/save.json",
    "game/players/alice/../bob/save.json",
    "game/players/alice/%2E%2E/bob/save.json",
    "game/players/alice/%2e%2e/bob/save.json",
    "game/players/alice/./save.json",
    "game/players/alice/%2E/save.json",
    "game/../players/bob/save.json",
    "game/..",
    "game/players/alice/..",
]


@pytest.mark.parametrize(
    "value",
    DOTTED_SOURCES,
    ids=[
        "dotdot-leading-slash",
        "dotdot",
        "dotdot-encoded",
        "dotdot-encoded-lower",
        "dot",
        "dot-encoded",
        "dotdot-first-segment",
        "dotdot-whole-key",
        "dotdot-last-segment",
    ],
)
def test_copy_source_with_dot_segments_is_refused(value: str) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_copy_source(value)
    headers = {"x-amz-copy-source": value}
    with pytest.raises(InvalidParameterValue):
        map_s3_request(S3Request("PUT", "game", "players/alice/copy.json", {}, headers))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("game/players/alice/%FF.json", InvalidParameterValue),
        ("game/players/alice/%C3%28", InvalidParameterValue),
        ("game/\udcff", InvalidParameterValue),
        ("game/" + "k" * 1025, InvalidParameterValue),
        ("game/", InvalidParameterValue),
        ("-bucket/k", ValidationError),
        ("//game/k", InvalidParameterValue),
    ],
    ids=[
        "invalid-utf8",
        "invalid-utf8-sequence",
        "raw-undecodable-byte",
        "too-long",
        "empty-key",
        "bad-bucket",
        "two-leading-slashes",
    ],
)
def test_copy_source_key_and_bucket_rules(value: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_copy_source(value)


@pytest.mark.parametrize(
    ("value", "bucket", "key"),
    [
        ("/game/players/alice/a%20b.json", "game", "players/alice/a b.json"),
        ("game/a//b/.c/..d/...", "game", "a//b/.c/..d/..."),
        ("game/%E2%82%AC", "game", "€"),
        ("game/€", "game", "€"),
    ],
    ids=["encoded-space", "dots-inside-names", "utf8-encoded", "utf8-raw"],
)
def test_legitimate_copy_sources_still_parse(value: str, bucket: str, key: str) -> None:
    source = parse_copy_source(value)
    assert (source.bucket, source.key) == (bucket, key)


DELETE_ATTACKS = [
    b"<Delete><Object><Key>players/alice/../bob/save.json</Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/<![CDATA[../bob/x]]></Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/&#46;&#46;/x</Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/.</Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/x</Key><Key>players/bob/save.json</Key></Object></Delete>",
    b"<Delete><Object><Key>k</Key><VersionId>a</VersionId><VersionId>b</VersionId></Object>"
    b"</Delete>",
    b"<Delete><Object><Key>players/alice/a<!-- x -->b</Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/a<?pi x?>b</Key></Object></Delete>",
    b"<Delete><Object><Key>players/alice/<X/>b</Key></Object></Delete>",
    b"<Delete><Object><Key>" + b"k" * 1025 + b"</Key></Object></Delete>",
]


@pytest.mark.parametrize(
    "body",
    DELETE_ATTACKS,
    ids=[
        "dotdot",
        "dotdot-in-cdata",
        "dotdot-as-character-references",
        "dot",
        "two-keys",
        "two-version-ids",
        "comment-inside-key",
        "processing-instruction-inside-key",
        "element-inside-key",
        "too-long",
    ],
)
def test_delete_objects_keys_obey_the_key_rule(body: bytes) -> None:
    with pytest.raises(InvalidParameterValue):
        delete_objects_checks("game", body)


def test_delete_objects_keeps_ordinary_keys() -> None:
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>"
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Object><Key>players/alice/a b..c/.d</Key></Object>"
        b"<Object><Key>players/alice/&#8364;</Key></Object></Delete>"
    )
    checks = delete_objects_checks("game", body)
    assert [check.resource for check in checks] == [
        "arn:aws:s3:::game/players/alice/a b..c/.d",
        "arn:aws:s3:::game/players/alice/€",
    ]


_KEYS = st.text(
    alphabet=st.sampled_from(["a", "/", ".", "%", "é", "2", "E"]), min_size=1, max_size=24
)


@given(key=_KEYS)
def test_copy_source_accepts_exactly_what_locate_accepts(key: str) -> None:
    """The same key, as a path and as a copy source, is accepted or refused alike."""
    encoded = quote(key, safe="/")
    try:
        located = locate("gw", f"/game/{encoded}").key
    except InvalidParameterValue:
        located = None
    try:
        copied: str | None = parse_copy_source(f"game/{encoded}").key
    except InvalidParameterValue:
        copied = None
    assert located == copied


@given(key=_KEYS.filter(lambda k: "%" not in k))
def test_delete_objects_accepts_exactly_what_locate_accepts(key: str) -> None:
    escaped = key.replace("&", "&amp;").replace("<", "&lt;")
    body = f"<Delete><Object><Key>{escaped}</Key></Object></Delete>".encode()
    try:
        located = locate("gw", "/game/" + quote(key, safe="/")).key
    except InvalidParameterValue:
        located = None
    try:
        (check,) = delete_objects_checks("game", body)
        deleted: str | None = check.resource.removeprefix("arn:aws:s3:::game/")
    except InvalidParameterValue:
        deleted = None
    assert located == deleted

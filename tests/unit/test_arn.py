"""ARN parsing and formatting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.core.arn import Arn, ArnError, arn_components, is_account_id, parse_arn, role_name_of

VALID = [
    (
        "role",
        "arn:aws:iam::123456789012:role/path/game",
        Arn("aws", "iam", "", "123456789012", "role/path/game"),
    ),
    (
        "s3",
        "arn:aws:s3:::bucket/key:with:colons",
        Arn("aws", "s3", "", "", "bucket/key:with:colons"),
    ),
    (
        "dynamodb",
        "arn:aws:dynamodb:us-west-2:123456789012:table/MyTable",
        Arn("aws", "dynamodb", "us-west-2", "123456789012", "table/MyTable"),
    ),
    (
        "session",
        "arn:aws:sts::123456789012:assumed-role/game/alice",
        Arn("aws", "sts", "", "123456789012", "assumed-role/game/alice"),
    ),
    (
        "china",
        "arn:aws-cn:iam::123456789012:root",
        Arn("aws-cn", "iam", "", "123456789012", "root"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_parse_and_format(text: str, expected: Arn) -> None:
    assert parse_arn(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    "text",
    ["", "arn", "arn:aws:s3", "arn:aws:s3:::", "urn:aws:s3:::b", "arn::s3:::b", "arn:aws::::b"],
    ids=["empty", "word", "short", "no-resource", "urn", "no-partition", "no-service"],
)
def test_rejections(text: str) -> None:
    with pytest.raises(ArnError):
        parse_arn(text)


def test_helpers() -> None:
    role = parse_arn("arn:aws:iam::123456789012:role/path/game")
    assert (role.resource_type, role.resource_id) == ("role", "path/game")
    assert role_name_of(role) == "game"
    assert role_name_of(parse_arn("arn:aws:sts::123456789012:assumed-role/game/s")) == "game"
    with pytest.raises(ArnError):
        role_name_of(parse_arn("arn:aws:s3:::b"))
    assert is_account_id("123456789012") and not is_account_id("12345678901a")
    assert arn_components("arn:a:b:c:d:e:f") == ("arn", "a", "b", "c", "d", "e:f")


@given(st.text(alphabet="abc:/*", max_size=30))
def test_components_round_trip(text: str) -> None:
    parts = arn_components(text)
    if parts is not None:
        assert ":".join(parts) == text
        assert len(parts) == 6

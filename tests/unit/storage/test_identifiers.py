"""Unique ids and ARNs: AWS's published shapes, then negatives, then properties."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.core.identifiers import (
    BASE32_ALPHABET,
    new_access_key_id,
    new_policy_id,
    new_role_id,
    new_unique_id,
    oidc_provider_arn,
    parse_oidc_provider_arn,
    parse_policy_arn,
    policy_arn,
    role_arn,
)
from webfed.errors import InvalidInput

# The IAM User Guide's examples ("IAM identifiers"): a role id and an access key id.
PUBLISHED = [("AROADBQP57FF2AEXAMPLE", r"^AROA[A-Z2-7]{17}$"), ("ASIAIOSFODNN7EXAMPLE", None)]


@pytest.mark.parametrize(("sample", "pattern"), PUBLISHED, ids=["role-id", "access-key"])
def test_shapes_match_published_examples(sample: str, pattern: str | None) -> None:
    made = (
        new_role_id(random.Random(1))
        if sample.startswith("AROA")
        else new_access_key_id(random.Random(1))
    )
    assert len(made) == len(sample) and made[:4] == sample[:4]
    if pattern:
        assert re.match(pattern, made) and re.match(pattern, sample)


def test_ids_are_deterministic_for_a_seeded_rng() -> None:
    assert new_policy_id(random.Random(5)) == new_policy_id(random.Random(5))
    assert new_policy_id(random.Random(5)) != new_policy_id(random.Random(6))


@pytest.mark.parametrize("length", [0, 125], ids=["empty", "too-long"])
def test_unique_id_length_bounds(length: int) -> None:
    with pytest.raises(ValueError):
        new_unique_id("AROA", random.Random(), length)


@pytest.mark.parametrize(
    ("account", "path", "name", "expected"),
    [
        ("123456789012", "/", "S3Access", "arn:aws:iam::123456789012:role/S3Access"),
        (
            "123456789012",
            "/application_abc/component_xyz/",
            "S3Access",
            "arn:aws:iam::123456789012:role/application_abc/component_xyz/S3Access",
        ),
    ],
    ids=["root-path", "nested-path"],
)
def test_role_arn_examples(account: str, path: str, name: str, expected: str) -> None:
    assert role_arn(account, path, name) == expected


def test_oidc_arn_example() -> None:
    arn = oidc_provider_arn("123456789012", "server.example.com")
    assert arn == "arn:aws:iam::123456789012:oidc-provider/server.example.com"
    assert parse_oidc_provider_arn(arn) == ("123456789012", "server.example.com")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/x",
        "arn:aws:iam::12345678901:policy/x",
        "arn:aws:iam::123456789012:policy/",
        "arn:aws:iam::123456789012:policy//x",
        "arn:aws:s3:::bucket",
    ],
    ids=["role", "short-account", "no-name", "empty-segment", "s3"],
)
def test_bad_policy_arns(arn: str) -> None:
    with pytest.raises(InvalidInput):
        parse_policy_arn(arn)


def test_aws_managed_policy_arn_parses() -> None:
    parts = parse_policy_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
    assert (parts.account_id, parts.path, parts.name) == ("aws", "/job-function/", "ViewOnlyAccess")


@given(st.integers(min_value=0))
def test_ids_use_only_base32(seed: int) -> None:
    rng = random.Random(seed)
    for made, prefix, length in (
        (new_role_id(rng), "AROA", 21),
        (new_policy_id(rng), "ANPA", 21),
        (new_access_key_id(rng), "ASIA", 20),
    ):
        assert made.startswith(prefix) and len(made) == length
        assert set(made[4:]) <= set(BASE32_ALPHABET)


_SEGMENT = st.text(alphabet="abcXYZ019+=,.@_-", min_size=1, max_size=12)


@given(
    account=st.from_regex(r"\d{12}", fullmatch=True),
    segments=st.lists(_SEGMENT, max_size=3),
    name=_SEGMENT,
)
def test_policy_arn_round_trips(account: str, segments: list[str], name: str) -> None:
    path = "/" + "".join(f"{segment}/" for segment in segments)
    parts = parse_policy_arn(policy_arn(account, path, name))
    assert (parts.account_id, parts.path, parts.name) == (account, path, name)

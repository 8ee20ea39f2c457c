"""Unique ids and ARNs: AWS's published shapes, then negatives, then properties."""

from __future__ import annotations

import base64
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.core.identifiers import (
    ACCESS_KEY_RANDOM_BYTES,
    BASE32_ALPHABET,
    access_key_id_from_bytes,
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


class CountingRandom(random.Random):
    """A seeded ``Random`` that counts how often it is asked for randomness."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.reads = 0

    def randbytes(self, n: int) -> bytes:
        self.reads += 1
        return random.Random.getrandbits(self, n * 8).to_bytes(n, "little")  # not counted twice

    def getrandbits(self, k: int) -> int:
        self.reads += 1
        return super().getrandbits(k)

    def random(self) -> float:
        self.reads += 1
        return super().random()


class FixedBytes(random.Random):
    """Hands out the given bytes, so the mapping from bits to letters can be checked."""

    def __init__(self, data: bytes) -> None:
        super().__init__(0)
        self.data = data

    def randbytes(self, n: int) -> bytes:
        assert n <= len(self.data)
        return self.data[:n]


@given(seed=st.integers(min_value=0), length=st.integers(min_value=1, max_value=124))
def test_unique_id_is_one_random_read(seed: int, length: int) -> None:
    rng = CountingRandom(seed)
    made = new_unique_id("AROA", rng, length)
    assert rng.reads == 1
    assert made.startswith("AROA") and len(made) == 4 + length
    assert set(made[4:]) <= set(BASE32_ALPHABET)


@given(data=st.binary(min_size=80, max_size=80), length=st.integers(min_value=1, max_value=124))
def test_each_letter_is_five_random_bits(data: bytes, length: int) -> None:
    """Letter i is bits 5i..5i+4 of the bytes read (most significant first): every letter
    comes from exactly five fresh bits, so all 32 are equally likely."""
    suffix = new_unique_id("", FixedBytes(data), length)
    bits = int.from_bytes(data[: (5 * length + 7) // 8]) >> ((-5 * length) % 8)
    expected = "".join(
        BASE32_ALPHABET[(bits >> (5 * (length - 1 - index))) & 31] for index in range(length)
    )
    assert suffix == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"\x00" * 11, "A" * 17), (b"\xff" * 11, "7" * 17), (bytes([0b00001000]) + b"\x00" * 10, "B")],
    ids=["zeros", "ones", "second-letter"],
)
def test_unique_id_letters_from_bits(data: bytes, expected: str) -> None:
    assert new_unique_id("", FixedBytes(data)).startswith(expected)


def test_unique_id_letters_are_uniform() -> None:
    """A chi-squared check over 32 letters at every position (31 degrees of freedom; 70 is
    beyond the 99.99th percentile), from a fixed seed so the test is deterministic."""
    rng = random.Random(20260304)
    made = [new_unique_id("", rng) for _ in range(6_400)]
    for position in range(17):
        counts = dict.fromkeys(BASE32_ALPHABET, 0)
        for suffix in made:
            counts[suffix[position]] += 1
        expected = len(made) / 32
        chi_squared = sum((count - expected) ** 2 / expected for count in counts.values())
        assert chi_squared < 70, (position, chi_squared)


@given(data=st.binary(min_size=ACCESS_KEY_RANDOM_BYTES, max_size=ACCESS_KEY_RANDOM_BYTES))
def test_access_key_id_from_bytes_is_the_unique_id_of_those_bytes(data: bytes) -> None:
    """The unrolled access key id writes the same letters as :func:`new_unique_id` and as
    RFC 4648's base32 of the same ten bytes."""
    made = access_key_id_from_bytes(data)
    assert made == new_unique_id("ASIA", FixedBytes(data), 16)
    assert made == "ASIA" + base64.b32encode(data).decode("ascii")
    assert made == new_access_key_id(FixedBytes(data))


def test_new_access_key_id_is_one_random_read() -> None:
    rng = CountingRandom(3)
    assert len(new_access_key_id(rng)) == 20
    assert rng.reads == 1


@pytest.mark.parametrize("size", [0, 9, 11], ids=["empty", "short", "long"])
def test_access_key_id_needs_exactly_ten_bytes(size: int) -> None:
    with pytest.raises(ValueError):
        access_key_id_from_bytes(bytes(size))

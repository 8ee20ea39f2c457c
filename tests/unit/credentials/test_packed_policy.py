"""``PackedPolicySize``: webfed's documented packing rule (AWS publishes none).

Rule: compact policy, ARNs, ``key=value`` tags, newline-joined, zlib level 9, percentage of a
1,500-byte budget, rounded up. These tests pin the promises made in ``docs/credentials.md``.
"""

from __future__ import annotations

import json
import random
import zlib

from hypothesis import given
from hypothesis import strategies as st

from webfed.core.credentials import PACKED_POLICY_BUDGET_BYTES, packed_policy_percent


def _typical_policy(limit: int) -> str:
    """A realistic session policy of at most ``limit`` characters."""
    statements: list[dict[str, object]] = []
    text = ""
    for index in range(100):
        statements.append(
            {
                "Sid": f"Allow{index}",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:Query", "s3:GetObject"][: index % 3 + 1],
                "Resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/GameScores{index * 7}",
                "Condition": {
                    "ForAllValues:StringEquals": {
                        "dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"]
                    }
                },
            }
        )
        candidate = json.dumps({"Version": "2012-10-17", "Statement": statements})
        if len(candidate) > limit:
            break
        text = candidate
    return text


def test_nothing_is_zero() -> None:
    assert packed_policy_percent(None, [], []) == 0
    assert packed_policy_percent("", (), ()) == 0


def test_a_full_2048_character_typical_policy_passes() -> None:
    policy = _typical_policy(2048)
    assert 1800 < len(policy) <= 2048
    percent = packed_policy_percent(policy, [], [])
    assert 0 < percent < 100


def test_a_2048_character_policy_with_ten_arns_and_a_few_tags_passes() -> None:
    arns = [f"arn:aws:iam::123456789012:policy/team/Policy{i}" for i in range(10)]
    tags = [("Project", "Automation"), ("CostCenter", "987654"), ("Team", "games")]
    assert packed_policy_percent(_typical_policy(2048), arns, tags) < 100


def test_fifty_maximal_random_tags_are_too_large() -> None:
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tags = [
        ("".join(rng.choices(alphabet, k=128)), "".join(rng.choices(alphabet, k=256)))
        for _ in range(50)
    ]
    assert packed_policy_percent(None, [], tags) > 100


def test_whitespace_does_not_count() -> None:
    policy = _typical_policy(1500)
    pretty = json.dumps(json.loads(policy), indent=4)
    assert packed_policy_percent(pretty, [], []) == packed_policy_percent(policy, [], [])


def test_non_json_policy_text_still_gets_a_size() -> None:
    assert packed_policy_percent("{ not json", [], []) == packed_policy_percent("{notjson", [], [])


def test_percentage_is_the_rounded_up_share_of_the_budget() -> None:
    arns = ["arn:aws:iam::123456789012:policy/P"]
    packed = zlib.compress(("\n" + arns[0]).encode(), 9)
    expected = -(-100 * len(packed) // PACKED_POLICY_BUDGET_BYTES)
    assert packed_policy_percent(None, arns, []) == expected


def test_tag_order_is_part_of_the_input_and_the_result_is_deterministic() -> None:
    tags = [("a", "1"), ("b", "2")]
    assert packed_policy_percent(None, [], tags) == packed_policy_percent(None, [], list(tags))


_TAG = st.tuples(st.text(min_size=1, max_size=128), st.text(max_size=256))


@given(
    policy=st.none() | st.text(max_size=2048),
    arns=st.lists(st.text(min_size=20, max_size=80), max_size=10),
    tags=st.lists(_TAG, max_size=50),
)
def test_never_negative_and_monotonic_in_tags(
    policy: str | None, arns: list[str], tags: list[tuple[str, str]]
) -> None:
    percent = packed_policy_percent(policy, arns, tags)
    assert percent >= 0
    # Adding a large incompressible tag can only grow the packed size.
    bigger = packed_policy_percent(policy, arns, [*tags, ("Z" * 10, bytes(range(256)).hex())])
    assert bigger >= percent


def test_typical_single_statement_is_small() -> None:
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
        '"Resource":"arn:aws:s3:::bucket/*"}]}'
    )
    assert packed_policy_percent(policy, [], []) < 20

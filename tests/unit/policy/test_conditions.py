"""Condition operators: every family positive, negative, missing key, IfExists, set qualifiers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core.policy import build_context
from webfed.core.policy.conditions import Condition
from webfed.core.policy.document import load_json
from webfed.core.policy.elements import compile_conditions
from webfed.core.policy.operators import OPERATORS

Context = Mapping[str, str | Sequence[str]]


def compile_json(block: object, *, variables: bool = True) -> tuple[Condition, ...]:
    return compile_conditions(load_json(json.dumps(block)), variables=variables)


def holds(operator: str, values: object, context: Context, key: str = "k:key") -> bool:
    (condition,) = compile_json({operator: {key: values}})
    return condition.holds(build_context(context))


CASES = [
    # (id, operator, policy values, request value or None for missing, expected)
    ("str-eq", "StringEquals", "game-app", "game-app", True),
    ("str-eq-case", "StringEquals", "game-app", "Game-App", False),
    ("str-eq-other", "StringEquals", "game-app", "other-app", False),
    ("str-eq-or", "StringEquals", ["a", "b"], "b", True),
    ("str-eq-missing", "StringEquals", "a", None, False),
    ("str-ne", "StringNotEquals", "a", "b", True),
    ("str-ne-hit", "StringNotEquals", ["a", "b"], "b", False),
    ("str-ne-missing", "StringNotEquals", "a", None, True),
    ("str-eq-ic", "StringEqualsIgnoreCase", "Game-App", "gAME-aPP", True),
    ("str-eq-ic-other", "StringEqualsIgnoreCase", "a", "b", False),
    ("str-ne-ic", "StringNotEqualsIgnoreCase", "A", "a", False),
    ("str-ne-ic-other", "StringNotEqualsIgnoreCase", "A", "b", True),
    ("str-like", "StringLike", "home/*/file?.txt", "home/a/b/file1.txt", True),
    ("str-like-case", "StringLike", "home/*", "Home/x", False),
    ("str-like-one", "StringLike", "file?", "file12", False),
    ("str-like-missing", "StringLike", "*", None, False),
    ("str-nlike", "StringNotLike", "tmp/*", "home/x", True),
    ("str-nlike-hit", "StringNotLike", ["tmp/*", "home/*"], "home/x", False),
    ("str-nlike-missing", "StringNotLike", "*", None, True),
    ("str-eq-star-literal", "StringEquals", "*", "anything", False),
    ("num-eq", "NumericEquals", 10, "10", True),
    ("num-eq-dec", "NumericEquals", "10", "10.0", True),
    ("num-ne", "NumericNotEquals", 10, "11", True),
    ("num-lt", "NumericLessThan", 10, "9.5", True),
    ("num-lt-eq", "NumericLessThan", 10, "10", False),
    ("num-le", "NumericLessThanEquals", 10, "10", True),
    ("num-gt", "NumericGreaterThan", 10, "11", True),
    ("num-ge", "NumericGreaterThanEquals", 10, "9", False),
    ("num-bad-request", "NumericLessThan", 10, "ten", False),
    ("num-missing", "NumericLessThan", 10, None, False),
    ("date-lt", "DateLessThan", "2024-06-01T00:00:00Z", "2024-05-31T23:59:59Z", True),
    ("date-lt-epoch", "DateLessThan", "2024-06-01T00:00:00Z", "1717199999", True),
    ("date-gt", "DateGreaterThan", 1717200000, "2024-06-01T00:00:01Z", True),
    ("date-eq-zone", "DateEquals", "2024-06-01T02:00:00+02:00", "2024-06-01T00:00:00Z", True),
    ("date-ne", "DateNotEquals", "2024-06-01", "2024-06-01T00:00:00Z", False),
    ("date-le", "DateLessThanEquals", "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", True),
    ("date-ge", "DateGreaterThanEquals", "2024-06-01T00:00:00Z", "2024-05-01T00:00:00Z", False),
    ("date-bad-request", "DateLessThan", "2024-06-01T00:00:00Z", "yesterday", False),
    ("bool-true", "Bool", "true", "true", True),
    ("bool-json", "Bool", False, "false", True),
    ("bool-case", "Bool", "true", "TRUE", True),
    ("bool-false", "Bool", "true", "false", False),
    ("bool-missing", "Bool", "false", None, False),
    ("binary", "BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True),
    ("binary-other", "BinaryEquals", "QmluYXJ5VmFsdWU=", "T3RoZXI=", False),
    ("binary-garbage", "BinaryEquals", "QmluYXJ5VmFsdWU=", "!!", False),
    ("ip4-cidr", "IpAddress", "203.0.113.0/24", "203.0.113.7", True),
    ("ip4-outside", "IpAddress", "203.0.113.0/24", "203.0.114.7", False),
    ("ip4-no-prefix", "IpAddress", "203.0.113.7", "203.0.113.7", True),
    ("ip4-no-prefix-other", "IpAddress", "203.0.113.7", "203.0.113.8", False),
    ("ip6-cidr", "IpAddress", "2001:db8::/32", "2001:db8:1::5", True),
    ("ip6-vs-ip4", "IpAddress", "2001:db8::/32", "203.0.113.7", False),
    ("ip-garbage", "IpAddress", "0.0.0.0/0", "not-an-ip", False),
    ("not-ip", "NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "203.0.113.7", True),
    ("not-ip-hit", "NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "10.1.1.1", False),
    ("not-ip-missing", "NotIpAddress", "10.0.0.0/8", None, True),
    (
        "arn-like",
        "ArnLike",
        "arn:aws:iam::*:role/game-*",
        "arn:aws:iam::123456789012:role/game-x",
        True,
    ),
    ("arn-like-colon", "ArnLike", "arn:aws:iam::*", "arn:aws:iam::123456789012:role/x", False),
    ("arn-equals-is-like", "ArnEquals", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", True),
    ("arn-case", "ArnEquals", "arn:aws:s3:::B", "arn:aws:s3:::b", False),
    ("arn-not-arn", "ArnLike", "arn:aws:s3:::*", "bucket", False),
    ("arn-not-like", "ArnNotLike", "arn:aws:s3:::b/*", "arn:aws:s3:::c/k", True),
    ("arn-not-equals-hit", "ArnNotEquals", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", False),
    ("arn-not-missing", "ArnNotLike", "arn:aws:s3:::b/*", None, True),
    ("null-true-absent", "Null", "true", None, True),
    ("null-true-present", "Null", "true", "x", False),
    ("null-false-present", "Null", "false", "x", True),
    ("null-false-absent", "Null", "false", None, False),
    ("null-empty-is-null", "Null", "true", "", True),
    ("if-exists-missing", "StringEqualsIfExists", "a", None, True),
    ("if-exists-present", "StringEqualsIfExists", "a", "b", False),
    ("if-exists-neg-missing", "StringNotEqualsIfExists", "a", None, True),
    ("num-if-exists-present", "NumericLessThanIfExists", 5, "4", True),
    ("ip-if-exists-missing", "IpAddressIfExists", "10.0.0.0/8", None, True),
]


@pytest.mark.parametrize(
    ("operator", "values", "given", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_operator(operator: str, values: object, given: str | None, expected: bool) -> None:
    context = {} if given is None else {"k:key": given}
    assert holds(operator, values, context) is expected


SET_CASES = [
    ("all-subset", "ForAllValues:StringEquals", ["a", "b", "c"], ["a", "c"], True),
    ("all-extra", "ForAllValues:StringEquals", ["a", "b"], ["a", "z"], False),
    ("all-empty", "ForAllValues:StringEquals", ["a"], [], True),
    ("all-missing", "ForAllValues:StringEquals", ["a"], None, True),
    ("any-overlap", "ForAnyValue:StringEquals", ["a", "b"], ["z", "b"], True),
    ("any-none", "ForAnyValue:StringEquals", ["a", "b"], ["y", "z"], False),
    ("any-empty", "ForAnyValue:StringEquals", ["a"], [], False),
    ("any-missing", "ForAnyValue:StringEquals", ["a"], None, False),
    ("any-like", "ForAnyValue:StringLike", ["authenticated"], ["authenticated", "x"], True),
    ("all-neg", "ForAllValues:StringNotEquals", ["a"], ["b", "c"], True),
    ("all-neg-hit", "ForAllValues:StringNotEquals", ["a"], ["b", "a"], False),
    ("any-neg", "ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True),
    ("any-neg-all-hit", "ForAnyValue:StringNotEquals", ["a"], ["a"], False),
    ("unqualified-multi-any", "StringEquals", ["a"], ["z", "a"], True),
    ("unqualified-multi-neg", "StringNotEquals", ["a"], ["z", "a"], False),
    ("all-if-exists-missing", "ForAllValues:StringLikeIfExists", ["a*"], None, True),
    ("all-numeric", "ForAllValues:NumericLessThan", [10], ["1", "9"], True),
]


@pytest.mark.parametrize(
    ("operator", "values", "given", "expected"),
    [case[1:] for case in SET_CASES],
    ids=[case[0] for case in SET_CASES],
)
def test_set_qualifiers(
    operator: str, values: object, given: list[str] | None, expected: bool
) -> None:
    context = {} if given is None else {"k:key": given}
    assert holds(operator, values, context) is expected


def test_key_names_are_case_insensitive() -> None:
    assert holds("StringEquals", "x", {"AWS:SourceIp": "x"}, key="aws:sourceip")
    assert holds("StringEquals", "x", {"aws:principaltag/Team": "x"}, key="aws:PrincipalTag/team")


def test_operators_and_keys_are_anded() -> None:
    conditions = compile_json(
        {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}, variables=True
    )
    context = build_context({"a": "1", "b": "2", "c": "true"})
    assert all(condition.holds(context) for condition in conditions)
    context = build_context({"a": "1", "b": "3", "c": "true"})
    assert not all(condition.holds(context) for condition in conditions)


def test_variables_in_string_conditions() -> None:
    context = {"s3:prefix": "alice/photos", "aws:username": "alice"}
    assert holds("StringLike", "${aws:username}/*", context, key="s3:prefix")
    assert not holds(
        "StringLike", "${aws:username}/*", {**context, "aws:username": "bob"}, key="s3:prefix"
    )


def test_unresolved_variable_positive_fails_negated_matches() -> None:
    assert not holds("StringEquals", "${aws:username}", {"k:key": "alice"})
    assert holds("StringNotEquals", "${aws:username}", {"k:key": "alice"})


def test_variable_default_value() -> None:
    assert holds(
        "StringEquals", "${aws:PrincipalTag/team, 'company-wide'}", {"k:key": "company-wide"}
    )
    assert holds(
        "StringEquals",
        "${aws:PrincipalTag/team, 'x'}",
        {"k:key": "blue", "aws:PrincipalTag/team": "blue"},
    )


def test_variable_value_is_never_a_wildcard() -> None:
    assert not holds("StringLike", "${aws:username}", {"k:key": "alice", "aws:username": "*"})
    assert holds("StringLike", "${aws:username}", {"k:key": "*", "aws:username": "*"})


def test_special_literals() -> None:
    assert holds("StringLike", "a${*}b", {"k:key": "a*b"})
    assert not holds("StringLike", "a${*}b", {"k:key": "axxb"})
    assert holds("StringLike", "a${?}", {"k:key": "a?"})
    assert holds("StringEquals", "cost${$}", {"k:key": "cost$"})


def test_multivalued_key_is_not_a_variable() -> None:
    context = {"k:key": "a", "aws:TagKeys": ["a"]}
    assert not holds("StringEquals", "${aws:TagKeys}", context)


def test_variables_are_literal_when_not_enabled() -> None:
    (condition,) = compile_json({"StringEquals": {"k": "${x}"}}, variables=False)
    assert condition.holds(build_context({"k": "${x}"}))
    assert not condition.holds(build_context({"k": "v", "x": "v"}))


def test_numeric_operators_take_no_variables() -> None:
    with pytest.raises(Exception, match="numeric"):
        compile_json({"NumericEquals": {"k": "${x}"}})


def test_arn_like_with_variable() -> None:
    context = {
        "aws:SourceArn": "arn:aws:iam::123456789012:role/r",
        "aws:PrincipalAccount": "123456789012",
    }
    assert holds(
        "ArnLike", "arn:aws:iam::${aws:PrincipalAccount}:role/*", context, key="aws:SourceArn"
    )


def test_explain_names_operator_key_wanted_and_had() -> None:
    (condition,) = compile_json(
        {"StringEquals": {"accounts.google.com:aud": "game-app"}}, variables=True
    )
    context = build_context({"accounts.google.com:aud": "other-app"})
    assert condition.explain(context) == (
        "condition StringEquals on `accounts.google.com:aud`: wanted `game-app`, "
        "request had `other-app`"
    )
    assert "no value" in condition.explain(build_context({}))


SAMPLE_VALUES = {
    "String": ("abc", "abc", "xyz"),
    "Numeric": ("10", "10", "11"),
    "Date": ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),
    "Bool": ("true", "true", "false"),
    "Binary": ("QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", "T3RoZXI="),
    "IpAddress": ("10.0.0.0/8", "10.1.2.3", "192.0.2.1"),
    "Arn": ("arn:aws:s3:::b/k", "arn:aws:s3:::b/k", "arn:aws:s3:::c/k"),
}
NON_NULL = sorted(name for name, spec in OPERATORS.items() if spec.family != "Null")


@pytest.mark.parametrize("name", NON_NULL)
def test_every_operator_if_exists_and_qualifiers(name: str) -> None:
    spec = OPERATORS[name]
    policy_value, equal, different = SAMPLE_VALUES[spec.family]
    plain = holds(name, policy_value, {"k:key": equal})
    other = holds(name, policy_value, {"k:key": different})
    assert holds(name, policy_value, {}) is spec.negated
    assert holds(name + "IfExists", policy_value, {}) is True
    assert holds(name + "IfExists", policy_value, {"k:key": equal}) is plain
    assert holds(name + "IfExists", policy_value, {"k:key": different}) is other
    assert holds("ForAllValues:" + name, policy_value, {}) is True
    assert holds("ForAnyValue:" + name, policy_value, {}) is False
    assert holds("ForAnyValue:" + name, policy_value, {"k:key": [different, equal]}) is (
        plain or other
    )
    assert holds("ForAllValues:" + name, policy_value, {"k:key": [equal, equal]}) is plain


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.text(alphabet="ab:*?", max_size=14).map(lambda text: "arn:" + text),
    text=st.text(alphabet="ab:", max_size=14).map(lambda text: "arn:" + text),
)
def test_arn_like_static_and_variable_forms_agree(pattern: str, text: str) -> None:
    static = holds("ArnLike", pattern, {"k:key": text})
    dynamic = holds("ArnLike", pattern + "${v}", {"k:key": text, "v": ""})
    assert static == dynamic

"""Parsing and validation of policy documents: every element valid, and each rejection."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core.policy import (
    INLINE_ROLE_AGGREGATE_LIMIT,
    MANAGED_POLICY_LIMIT,
    SESSION_POLICY_LIMIT,
    SIZE_LIMITS,
    TRUST_POLICY_LIMIT_DEFAULT,
    Effect,
    PolicyKind,
    find_problems,
    parse_policy,
    policy_size,
)
from webfed.errors import MalformedPolicyDocument

ALLOW_ALL = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
TRUST = {
    "Effect": "Allow",
    "Principal": {"Federated": "accounts.google.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
}


def document(*statements: dict[str, object], **top: object) -> str:
    body: dict[str, object] = {"Version": "2012-10-17", **top}
    body["Statement"] = list(statements)
    return json.dumps(body)


def rejected(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> str:
    with pytest.raises(MalformedPolicyDocument) as caught:
        parse_policy(text, kind)
    return caught.value.message


# --- valid documents --------------------------------------------------------------------------


def test_statement_may_be_a_single_object() -> None:
    policy = parse_policy(json.dumps({"Statement": ALLOW_ALL}), PolicyKind.IDENTITY)
    assert len(policy.statements) == 1
    assert policy.version is None
    assert policy.statements[0].effect is Effect.ALLOW


def test_policy_keeps_source_name_and_kind() -> None:
    text = document(ALLOW_ALL)
    policy = parse_policy(text, PolicyKind.IDENTITY, name="game")
    assert (policy.document, policy.name, policy.kind) == (text, "game", PolicyKind.IDENTITY)
    assert policy.has_allow and not policy.has_deny


def test_parse_is_cached_per_document_and_kind() -> None:
    text = document(ALLOW_ALL)
    first = parse_policy(text, PolicyKind.IDENTITY, name="a")
    second = parse_policy(text, PolicyKind.IDENTITY, name="b")
    assert first.statements is second.statements
    assert {first, second} == {first, second}  # hashable by identity
    assert first != second


@pytest.mark.parametrize(
    "element",
    [
        {"Principal": "*"},
        {"Principal": {"AWS": "*"}},
        {"Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:root"]}},
        {"Principal": {"AWS": "arn:aws:iam::123456789012:role/path/game"}},
        {"Principal": {"AWS": "arn:aws:sts::123456789012:assumed-role/game/alice"}},
        {"Principal": {"AWS": "AROADBQP57FF2AEXAMPLE"}},
        {"Principal": {"Federated": "cognito-identity.amazonaws.com"}},
        {"Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/example.com/id"}},
        {"Principal": {"Service": ["ec2.amazonaws.com"]}},
        {"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d52"}},
        {"NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}},
    ],
    ids=[
        "star",
        "aws-star",
        "account-and-root",
        "role-with-path",
        "session",
        "unique-id",
        "federated-name",
        "federated-arn",
        "service",
        "canonical",
        "not-principal",
    ],
)
def test_principal_forms_accepted_in_resource_policies(element: dict[str, object]) -> None:
    statement = {**ALLOW_ALL, **element}
    policy = parse_policy(document(statement), PolicyKind.RESOURCE)
    assert policy.statements[0].principal is not None


@pytest.mark.parametrize(
    "operator",
    [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ForAllValues:StringLike",
        "ForAnyValue:StringEqualsIfExists",
        "ArnLike",
        "ArnNotEqualsIfExists",
    ],
)
def test_string_and_arn_operators_accepted(operator: str) -> None:
    statement = {**ALLOW_ALL, "Condition": {operator: {"aws:PrincipalArn": ["arn:aws:iam::1:*"]}}}
    assert parse_policy(document(statement), PolicyKind.IDENTITY).statements[0].conditions


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("NumericLessThan", 10),
        ("NumericEquals", "1.5"),
        ("DateGreaterThan", "2024-01-01T00:00:00Z"),
        ("DateLessThanEquals", 1700000000),
        ("Bool", True),
        ("Bool", "false"),
        ("BinaryEquals", "QmluYXJ5VmFsdWU="),
        ("IpAddress", "203.0.113.0/24"),
        ("NotIpAddress", "2001:db8::/32"),
        ("Null", "true"),
    ],
    ids=[
        "num-int",
        "num-dec",
        "date-iso",
        "date-epoch",
        "bool-json",
        "bool-str",
        "binary",
        "ipv4",
        "ipv6",
        "null",
    ],
)
def test_typed_operators_accepted(operator: str, value: object) -> None:
    statement = {**ALLOW_ALL, "Condition": {operator: {"some:key": value}}}
    assert parse_policy(document(statement), PolicyKind.IDENTITY).statements[0].conditions


# --- rejections -------------------------------------------------------------------------------

REJECTIONS = [
    ("not-json", "{", "not valid JSON"),
    ("not-object", "[]", "JSON object"),
    ("duplicate-key", '{"Statement": {"Effect": "Allow", "Effect": "Deny"}}', "duplicate key"),
    ("nan", '{"Statement": {"Condition": {"NumericEquals": {"a": NaN}}}}', "NaN"),
    ("unknown-top", document(ALLOW_ALL, Extra="x"), 'unknown element "Extra"'),
    ("bad-version", document(ALLOW_ALL, Version="2020-01-01"), "Version"),
    ("id-in-identity", document(ALLOW_ALL, Id="x"), "element Id"),
    ("no-statement", json.dumps({"Version": "2012-10-17"}), "element Statement"),
    ("empty-statement", document(), "at least one statement"),
    ("statement-not-object", json.dumps({"Statement": ["x"]}), "Statement[0]"),
    ("unknown-element", document({**ALLOW_ALL, "Actions": "x"}), 'unknown element "Actions"'),
    ("bad-sid", document({**ALLOW_ALL, "Sid": "no spaces"}), "element Sid"),
    ("numeric-sid", document({**ALLOW_ALL, "Sid": 1}), "element Sid"),
    ("duplicate-sid", document({**ALLOW_ALL, "Sid": "A"}, {**ALLOW_ALL, "Sid": "A"}), "unique"),
    ("effect-case", document({**ALLOW_ALL, "Effect": "allow"}), "element Effect"),
    ("effect-missing", document({"Action": "s3:Get", "Resource": "*"}), "element Effect"),
    ("action-missing", document({"Effect": "Allow", "Resource": "*"}), "element Action"),
    ("action-and-not", document({**ALLOW_ALL, "NotAction": "s3:Put"}), "not both"),
    ("action-type", document({**ALLOW_ALL, "Action": 5}), "element Action"),
    ("action-empty-list", document({**ALLOW_ALL, "Action": []}), "element Action"),
    ("action-no-colon", document({**ALLOW_ALL, "Action": "s3GetObject"}), "service:action"),
    ("action-wild-prefix", document({**ALLOW_ALL, "Action": "s3*:Get"}), "service prefix"),
    ("action-star-prefix", document({**ALLOW_ALL, "Action": "*:Get"}), "service prefix"),
    ("resource-missing", document({"Effect": "Allow", "Action": "s3:Get"}), "element Resource"),
    ("resource-not-arn", document({**ALLOW_ALL, "Resource": "bucket/key"}), "must be an ARN"),
    ("resource-short-arn", document({**ALLOW_ALL, "Resource": "arn:aws:s3"}), "must be an ARN"),
    ("resource-wild-svc", document({**ALLOW_ALL, "Resource": "arn:aws:s*:::b"}), "service"),
    ("resource-bad-var", document({**ALLOW_ALL, "Resource": "arn:aws:s3:::${a, b}"}), "variable"),
    ("principal-identity", document({**ALLOW_ALL, "Principal": "*"}), "element Principal"),
    ("condition-type", document({**ALLOW_ALL, "Condition": []}), "element Condition"),
    (
        "unknown-operator",
        document({**ALLOW_ALL, "Condition": {"StringEqual": {"a": "b"}}}),
        'unknown condition operator "StringEqual"',
    ),
    (
        "unknown-qualifier",
        document({**ALLOW_ALL, "Condition": {"ForSomeValues:StringLike": {"a": "b"}}}),
        "unknown condition operator",
    ),
    (
        "null-if-exists",
        document({**ALLOW_ALL, "Condition": {"NullIfExists": {"a": "true"}}}),
        "unknown condition operator",
    ),
    ("bad-number", document({**ALLOW_ALL, "Condition": {"NumericEquals": {"a": "x"}}}), "numeric"),
    ("bad-date", document({**ALLOW_ALL, "Condition": {"DateEquals": {"a": "soon"}}}), "date"),
    ("bad-bool", document({**ALLOW_ALL, "Condition": {"Bool": {"a": "yes"}}}), "true or false"),
    ("bad-ip", document({**ALLOW_ALL, "Condition": {"IpAddress": {"a": "1.2.3"}}}), "IP"),
    ("bad-b64", document({**ALLOW_ALL, "Condition": {"BinaryEquals": {"a": "!!"}}}), "base64"),
    ("empty-values", document({**ALLOW_ALL, "Condition": {"StringEquals": {"a": []}}}), "value"),
    ("object-value", document({**ALLOW_ALL, "Condition": {"StringEquals": {"a": {}}}}), "values"),
    ("char-outside-set", '{"Statement": {"Sid": "\u0100"}}', "U+0100"),
    ("control-char", '{"Statement": {"Effect": "Allow"\u0001}}', "U+0001"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, expected) for _, text, expected in REJECTIONS],
    ids=[name for name, _, _ in REJECTIONS],
)
def test_identity_policy_rejections(text: str, expected: str) -> None:
    assert expected in rejected(text)


def test_rejection_names_statement_and_sid() -> None:
    text = document(ALLOW_ALL, {**ALLOW_ALL, "Sid": "Second", "Action": "s3*:Get"})
    assert rejected(text).startswith('Statement[1] (Sid "Second"), element Action:')


def test_character_outside_set_escaped_in_json_is_checked_on_raw_text() -> None:
    # The raw text is ASCII: the \u escape is allowed (AWS checks the document's characters).
    text = document({**ALLOW_ALL, "Condition": {"StringEquals": {"a": "\u0100"}}})
    assert "\\u0100" in text
    parse_policy(text, PolicyKind.IDENTITY)


TRUST_REJECTIONS = [
    ("missing-principal", {k: v for k, v in TRUST.items() if k != "Principal"}, "Principal"),
    ("resource", {**TRUST, "Resource": "*"}, "element Resource"),
    ("non-sts-action", {**TRUST, "Action": "s3:GetObject"}, "sts actions"),
    ("star-action", {**TRUST, "Action": "*"}, "sts actions"),
    ("partial-wild", {**TRUST, "Principal": {"AWS": "arn:aws:iam::123456789012:role/*"}}, "wild"),
    ("wild-federated", {**TRUST, "Principal": {"Federated": "*"}}, "wildcards"),
    ("bad-principal-type", {**TRUST, "Principal": {"User": "x"}}, "principal type"),
    ("empty-principal", {**TRUST, "Principal": {}}, "element Principal"),
    ("principal-string", {**TRUST, "Principal": "arn:aws:iam::1:root"}, "element Principal"),
    ("bad-aws-arn", {**TRUST, "Principal": {"AWS": "arn:aws:s3:::b"}}, "principal ARN"),
    ("bad-aws-text", {**TRUST, "Principal": {"AWS": "alice"}}, "account id"),
    (
        "bad-provider-arn",
        {**TRUST, "Principal": {"Federated": "arn:aws:iam::123456789012:role/x"}},
        "provider ARN",
    ),
]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [(statement, expected) for _, statement, expected in TRUST_REJECTIONS],
    ids=[name for name, _, _ in TRUST_REJECTIONS],
)
def test_trust_policy_rejections(statement: dict[str, object], expected: str) -> None:
    assert expected in rejected(document(statement), PolicyKind.TRUST)


@pytest.mark.parametrize(
    "kind", [PolicyKind.SESSION, PolicyKind.BOUNDARY, PolicyKind.GUARDRAIL], ids=lambda k: k.value
)
def test_principal_forbidden_outside_trust_and_resource(kind: PolicyKind) -> None:
    assert "not allowed" in rejected(document({**ALLOW_ALL, "Principal": "*"}), kind)


def test_resource_policy_needs_principal_and_allows_id() -> None:
    assert "element Principal" in rejected(document(ALLOW_ALL), PolicyKind.RESOURCE)
    policy = parse_policy(document({**ALLOW_ALL, "Principal": "*"}, Id="p1"), PolicyKind.RESOURCE)
    assert policy.id == "p1"


def test_find_problems_reports_one_per_statement() -> None:
    text = document({**ALLOW_ALL, "Effect": "allow"}, ALLOW_ALL, {**ALLOW_ALL, "Action": "x"})
    problems = find_problems(text, PolicyKind.IDENTITY)
    assert [problem.statement for problem in problems] == [0, 2]
    assert find_problems(document(ALLOW_ALL), PolicyKind.IDENTITY) == []


def test_oversized_document_rejected_before_parsing() -> None:
    assert "longer than" in rejected(" " * 131_073)


# --- size -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("", 0), ("{ }", 2), ('{\n\t"a" : "b c"\r\n}', 10), ("abc", 3)],
    ids=["empty", "braces", "mixed-whitespace", "plain"],
)
def test_policy_size_excludes_whitespace(text: str, size: int) -> None:
    assert policy_size(text) == size


def test_size_limits_are_data() -> None:
    assert INLINE_ROLE_AGGREGATE_LIMIT == SIZE_LIMITS["inline_role_aggregate"] == 10_240
    assert MANAGED_POLICY_LIMIT == SIZE_LIMITS["managed"] == 6_144
    assert TRUST_POLICY_LIMIT_DEFAULT == SIZE_LIMITS["trust_default"] == 2_048
    assert SESSION_POLICY_LIMIT == SIZE_LIMITS["session"] == 2_048


# --- properties -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["Allow", "Deny", "*", "s3:GetObject", "arn:aws:s3:::b/*", "2012-10-17"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Version",
                    "Statement",
                    "Effect",
                    "Action",
                    "Resource",
                    "Condition",
                    "Principal",
                    "Sid",
                    "StringLike",
                    "Null",
                    "aws:x",
                    "AWS",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, kind=st.sampled_from(list(PolicyKind)))
def test_parse_raises_only_malformed_policy_document(value: object, kind: PolicyKind) -> None:
    try:
        policy = parse_policy(json.dumps(value), kind)
    except MalformedPolicyDocument as error:
        assert error.message
    else:
        assert policy.statements


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_parse_of_arbitrary_text_raises_only_malformed(text: str) -> None:
    try:
        policy = parse_policy(text, PolicyKind.IDENTITY)
    except MalformedPolicyDocument as error:
        assert error.message
    else:
        assert policy.statements

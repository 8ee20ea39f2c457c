"""Session tags (https://aws.amazon.com/tags) and source identity, at every limit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tokens import SigningKey
from tests.unit.oidc.conftest import NOW, token
from tests.unit.oidc.helpers import rejection
from webfed.core.oidc import (
    SOURCE_IDENTITY_CLAIM,
    TAGS_CLAIM,
    IssuerKeySet,
    TrustedProvider,
    validate_token,
)

INVALID = "InvalidIdentityToken"


def _with(key: SigningKey, **extra: Any) -> str:
    return token(key, **extra)


def _tags(principal: Any = None, transitive: Any = None, **other: Any) -> dict[str, Any]:
    claim: dict[str, Any] = dict(other)
    if principal is not None:
        claim["principal_tags"] = principal
    if transitive is not None:
        claim["transitive_tag_keys"] = transitive
    return {TAGS_CLAIM: claim}


def test_aws_documented_example(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    claim = _tags(
        {"Project": ["Automation"], "CostCenter": ["987654"], "Department": ["Engineering"]},
        ["Project", "CostCenter"],
    )
    result = validate_token(_with(rsa_key, **claim), provider, key_set, now=NOW)
    assert dict(result.principal_tags) == {
        "Project": "Automation",
        "CostCenter": "987654",
        "Department": "Engineering",
    }
    assert result.transitive_tag_keys == ("Project", "CostCenter")


def test_no_tags_and_no_source_identity(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    result = validate_token(_with(rsa_key), provider, key_set, now=NOW)
    assert dict(result.principal_tags) == {}
    assert result.transitive_tag_keys == ()
    assert result.source_identity is None


@pytest.mark.parametrize(
    "principal",
    [
        {f"k{i}": ["v"] for i in range(50)},
        {"k" * 128: ["v" * 256]},
        {"empty-value": [""]},
        {"Ünïcödé Key 1": ["vålue 2"]},
        {"a_b.c:d/e=f+g-h@i": ["a_b.c:d/e=f+g-h@i"]},
        {"awsx": ["not a prefix"]},
    ],
    ids=[
        "fifty-tags",
        "longest-key-and-value",
        "empty-value",
        "unicode",
        "punctuation",
        "aws-lookalike",
    ],
)
def test_tags_at_the_limits(
    principal: dict[str, list[str]],
    rsa_key: SigningKey,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    result = validate_token(_with(rsa_key, **_tags(principal)), provider, key_set, now=NOW)
    assert dict(result.principal_tags) == {key: value[0] for key, value in principal.items()}


@pytest.mark.parametrize(
    "claim",
    [
        _tags({f"k{i}": ["v"] for i in range(51)}),
        _tags({"k" * 129: ["v"]}),
        _tags({"k": ["v" * 257]}),
        _tags({"": ["v"]}),
        _tags({"aws:team": ["x"]}),
        _tags({"AWS:team": ["x"]}),
        _tags({"Team": ["a"], "team": ["b"]}),
        _tags({"k": ["a", "b"]}),
        _tags({"k": []}),
        _tags({"k": "v"}),
        _tags({"k": [7]}),
        _tags({"bad*key": ["v"]}),
        _tags({"k": ["bad#value"]}),
        _tags({"k": ["v"]}, ["other"]),
        _tags({"k": ["v"]}, ["K"]),
        _tags({"k": ["v"]}, ["k", "k"]),
        _tags({"k": ["v"]}, "k"),
        _tags({"k": ["v"]}, [7]),
        _tags(None, ["k"]),
        _tags({"k": ["v"]}, extra=1),
        {TAGS_CLAIM: ["k"]},
        _tags(["k"]),
    ],
    ids=[
        "fifty-one",
        "key-too-long",
        "value-too-long",
        "empty-key",
        "aws-prefix",
        "aws-prefix-upper",
        "case-duplicate",
        "two-values",
        "no-value",
        "value-not-array",
        "value-number",
        "key-bad-char",
        "value-bad-char",
        "transitive-unknown",
        "transitive-case",
        "transitive-repeat",
        "transitive-not-array",
        "transitive-number",
        "transitive-without-tags",
        "unknown-member",
        "claim-not-object",
        "principal-not-object",
    ],
)
def test_bad_tags_are_refused(
    claim: dict[str, Any], rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = _with(rsa_key, **claim)
    rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "session_tags")


@pytest.mark.parametrize(
    "value",
    ["ab", "x" * 64, "Admin", "a_b+c=d,e.f@g-h", "user@example.com"],
    ids=["shortest", "longest", "word", "punctuation", "email"],
)
def test_source_identity_accepted(
    value: str, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = _with(rsa_key, **{SOURCE_IDENTITY_CLAIM: value})
    assert validate_token(raw, provider, key_set, now=NOW).source_identity == value


@pytest.mark.parametrize(
    "value",
    ["a", "x" * 65, "aws:admin", "AWS:admin", "has space", "slash/no", "ünï", 42, ["ab"], ""],
    ids=[
        "too-short",
        "too-long",
        "aws-prefix",
        "aws-prefix-upper",
        "space",
        "slash",
        "non-ascii",
        "number",
        "list",
        "empty",
    ],
)
def test_source_identity_refused(
    value: object, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = _with(rsa_key, **{SOURCE_IDENTITY_CLAIM: value})
    rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "source_identity")

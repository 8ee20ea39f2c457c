"""The fuzz corpus in CI: every kept input replayed through its harness, plus bounded
Hypothesis properties over the same ``check`` functions (no atheris needed).

Each ``tests/fuzz/corpus/<target>/`` file is an input that added coverage when the target was
fuzzed (``scripts/fuzz``); replaying them all keeps every path the fuzzer reached free of
crashes, 5xx answers and hangs (more than a second of CPU per input) as the code changes.
"""

from __future__ import annotations

import importlib
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz._common import CORPUS, Seed

TARGETS = ("jwt", "policy", "sigv4", "query", "json", "s3", "dynamodb", "http")
HANG_SECONDS = 1.0
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _harness(target: str) -> ModuleType:
    return importlib.import_module(f"tests.fuzz.fuzz_{target}")


@pytest.fixture(scope="module", autouse=True)
def _stop_http_app() -> Iterator[None]:
    """The HTTP harness starts the app on first use; stop it (lifespan shutdown) at the end."""
    yield
    _harness("http").shutdown()


def _checked(check: Callable[[bytes], None], data: bytes, name: str) -> None:
    started = time.process_time()
    check(data)
    spent = time.process_time() - started
    assert spent < HANG_SECONDS, f"{name}: {spent:.2f} s of CPU for one input"


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_replays_cleanly(target: str) -> None:
    files = sorted(path for path in (CORPUS / target).iterdir() if path.is_file())
    assert files, f"tests/fuzz/corpus/{target} is empty: run scripts/fuzz {target}"
    check = _harness(target).check
    for path in files:
        _checked(check, path.read_bytes(), f"{target}/{path.name}")


def test_corpus_stays_small() -> None:
    files = [path for path in CORPUS.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) < 5 * 1024 * 1024
    for target in TARGETS:
        assert len(list((CORPUS / target).iterdir())) <= 600, target


@pytest.mark.parametrize("target", TARGETS)
@PROPERTY
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes(target: str, data: bytes) -> None:
    _checked(_harness(target).check, data, target)


# --- structure-aware properties ----------------------------------------------------------------

_TEXT = st.text(max_size=40)
_STRINGS = st.one_of(_TEXT, st.lists(_TEXT, max_size=3))
_OPERATORS = st.sampled_from(
    [
        "StringEquals", "StringNotLike", "StringEqualsIgnoreCase", "ArnLike", "NumericLessThan",
        "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "Null",
        "ForAllValues:StringLike", "ForAnyValue:StringEqualsIfExists", "StringLikeIfExists",
    ]
)  # fmt: skip
_CONDITION_KEYS = st.sampled_from(
    ["aws:SourceIp", "aws:CurrentTime", "aws:TagKeys", "s3:prefix", "accounts.google.com:aud"]
)
_STATEMENTS = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.one_of(st.sampled_from(["*", "s3:Get*", "sts:AssumeRole*"]), _STRINGS),
    },
    optional={
        "Sid": st.from_regex(r"[A-Za-z0-9]{0,8}", fullmatch=True),
        "Resource": st.one_of(st.just("arn:aws:s3:::b/${aws:username}/*"), _STRINGS),
        "Principal": st.one_of(st.just("*"), st.fixed_dictionaries({"Federated": _STRINGS})),
        "Condition": st.dictionaries(
            _OPERATORS, st.dictionaries(_CONDITION_KEYS, _STRINGS, max_size=2), max_size=3
        ),
    },
)
_POLICIES = st.fixed_dictionaries(
    {"Statement": st.one_of(_STATEMENTS, st.lists(_STATEMENTS, min_size=1, max_size=3))},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"])},
)


@PROPERTY
@given(kind=st.integers(0, 5), action=_TEXT, resource=_TEXT, policy=_POLICIES)
def test_policy_documents(kind: int, action: str, resource: str, policy: dict[str, Any]) -> None:
    seed = Seed().int_in(kind, 0, 5).int_in(0, 0, 3).text(action).text(resource).int_in(0, 0, 4)
    _checked(_harness("policy").check, seed.rest(json.dumps(policy).encode()), "policy")


_CLAIM_VALUES = st.one_of(
    st.integers(1_699_999_000, 1_700_001_000), _TEXT, st.lists(_TEXT, max_size=3), st.booleans()
)
_CLAIMS = st.fixed_dictionaries(
    {"iss": st.sampled_from(["https://issuer.example.com", "https://other.example.com"])},
    optional=dict.fromkeys(
        ("aud", "sub", "exp", "iat", "nbf", "azp", "amr", "source_identity"), _CLAIM_VALUES
    ),
)


@PROPERTY
@given(key=st.integers(0, 2), kid=st.sampled_from(["rsa-1", "ec-1", "rsa-2", "x"]), claims=_CLAIMS)
def test_signed_tokens(key: int, kid: str, claims: dict[str, Any]) -> None:
    jwt = _harness("jwt")
    header = {"alg": jwt.KEYS[key].algorithm, "kid": kid}
    seed = Seed().int_in(1, 0, 2).int_in(key, 0, 2).chunk(json.dumps(header).encode())
    _checked(jwt.check, seed.rest(json.dumps(claims).encode()), "jwt")


_FORM_KEYS = st.sampled_from(
    [
        "RoleName", "Path", "MaxSessionDuration", "Tags.member.1.Key", "Tags.member.1.Value",
        "Tags.member.2.Key", "Tags.member.3.Value", "Tags", "PolicyArns.member.1.arn",
        "ClientIDList.member.1", "Marker", "MaxItems", "DurationSeconds",
    ]
)  # fmt: skip


@PROPERTY
@given(
    service=st.integers(0, 1),
    operation=st.integers(0, 300),
    fields=st.lists(st.tuples(_FORM_KEYS, _TEXT), max_size=6, unique_by=lambda item: item[0]),
)
def test_query_forms(service: int, operation: int, fields: list[tuple[str, str]]) -> None:
    query = _harness("query")
    names = query.OPERATIONS[query.SERVICES[service].meta.name]
    seed = (
        Seed().int_in(service, 0, 1).boolean(True).int_in(operation % len(names), 0, len(names) - 1)
    )
    _checked(query.check, seed.rest(urllib.parse.urlencode(fields).encode()), "query")

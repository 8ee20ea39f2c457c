"""Property tests: whatever arrives on the wire, the adapters raise only WebfedError (4xx)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webfed.errors import WebfedError
from webfed.protocol.json11 import decode_json
from webfed.protocol.models import OperationSpec, load_service
from webfed.protocol.query import decode_query, parse_form, resolve_action
from webfed.protocol.shapes import ListNode, MapNode, Structure, resolve

from .synthetic import operation

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPERATIONS = [
    ("sts", "AssumeRoleWithWebIdentity"),
    ("iam", "CreateRole"),
    ("iam", "CreateOpenIDConnectProvider"),
    ("iam", "SimulatePrincipalPolicy"),
    ("cognito-identity", "GetId"),
    ("cognito-identity", "SetIdentityPoolRoles"),
    ("cognito-identity", "CreateIdentityPool"),
]


def _spec(service: str, name: str) -> OperationSpec:
    return load_service(service).operations[name]


def _vocabulary(op: OperationSpec) -> list[str]:
    """Every name on the wire of ``op``'s input, plus the list/map words and small indices."""
    words = {"member", "entry", "key", "value", "0", "1", "2", "3", "01", "", "x"}
    pending: list[Any] = [op.input]
    seen: set[int] = set()
    while pending:
        node = resolve(pending.pop())
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Structure):
            words.update(m.query_name for m in node.members)
            pending.extend(m.node for m in node.members)
        elif isinstance(node, ListNode):
            pending.append(node.member)
        elif isinstance(node, MapNode):
            pending.extend((node.key, node.value))
    return sorted(words)


def _forms(op: OperationSpec) -> st.SearchStrategy[dict[str, str]]:
    keys = st.lists(st.sampled_from(_vocabulary(op)), min_size=1, max_size=6).map(".".join)
    values = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["", "true", "1", "-5", "2015-01-25T08:00:00Z", "Zm9v"]),
    )
    return st.dictionaries(keys, values, max_size=12)


@FUZZ
@given(body=st.binary(max_size=300))
def test_parse_form_raises_only_webfed_errors(body: bytes) -> None:
    try:
        parse_form(body)
    except WebfedError as error:
        assert 400 <= error.status < 500


@FUZZ
@given(body=st.text(alphabet="a=&%+.1Ff\u00e9\x00", max_size=60).map(str.encode))
def test_parse_form_on_form_like_text(body: bytes) -> None:
    try:
        params = parse_form(body)
    except WebfedError as error:
        assert 400 <= error.status < 500
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


@pytest.mark.parametrize(("service", "name"), OPERATIONS, ids=[f"{s}.{n}" for s, n in OPERATIONS])
@FUZZ
@given(data=st.data())
def test_decode_query_raises_only_webfed_errors(
    service: str, name: str, data: st.DataObject
) -> None:
    op = _spec(service, name)
    form = data.draw(_forms(op))
    try:
        decode_query(op, form)
    except WebfedError as error:
        assert 400 <= error.status < 500


@FUZZ
@given(data=st.data())
def test_synthetic_query_fuzz(data: st.DataObject) -> None:
    op = operation("query")
    form = data.draw(_forms(op))
    try:
        decode_query(op, form)
    except WebfedError as error:
        assert 400 <= error.status < 500


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["Action", "Version", "X"]), st.text(max_size=20)))
def test_resolve_action_raises_only_webfed_errors(params: dict[str, str]) -> None:
    try:
        resolve_action(load_service("sts"), params)
    except WebfedError as error:
        assert error.status == 400


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def _json_documents(op: OperationSpec) -> st.SearchStrategy[Any]:
    names = _vocabulary(op)
    member = st.dictionaries(st.sampled_from(names), JSON_VALUES, max_size=6)
    return st.one_of(member, JSON_VALUES)


@pytest.mark.parametrize(
    ("service", "name"), [o for o in OPERATIONS if o[0] == "cognito-identity"], ids=str
)
@FUZZ
@given(data=st.data())
def test_decode_json_raises_only_webfed_errors(
    service: str, name: str, data: st.DataObject
) -> None:
    op = _spec(service, name)
    body = json.dumps(data.draw(_json_documents(op))).encode()
    try:
        decode_json(op, body)
    except WebfedError as error:
        assert 400 <= error.status < 500


@FUZZ
@given(body=st.binary(max_size=200))
def test_decode_json_on_arbitrary_bytes(body: bytes) -> None:
    try:
        decode_json(operation("json"), body)
    except WebfedError as error:
        assert 400 <= error.status < 500


@FUZZ
@given(data=st.data())
def test_synthetic_json_fuzz(data: st.DataObject) -> None:
    op = operation("json")
    body = json.dumps(data.draw(_json_documents(op))).encode()
    try:
        decode_json(op, body)
    except WebfedError as error:
        assert 400 <= error.status < 500

"""The assume calls' shared steps that need no server: the RoleArn check and the session
policies of a call that names none."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from webfed.api.context import CallContext
from webfed.api.sts.sessions import SessionPolicies, load_role, read_session_policies
from webfed.errors import ValidationError

_ACCOUNT = "123456789012"


def _ctx() -> CallContext:
    return cast(CallContext, SimpleNamespace(account_id=_ACCOUNT, runtime=None))


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::12345678901:role/short-account",
        "arn:aws:iam::123456789012:role",
        "not an arn",
    ],
    ids=["user", "short-account", "no-name", "text"],
)
def test_a_role_arn_that_is_not_one_is_a_validation_error(role_arn: str) -> None:
    for _ in range(2):  # the second time from the remembered parse
        with pytest.raises(ValidationError, match="RoleArn must be an IAM role ARN"):
            asyncio.run(load_role(_ctx(), role_arn))


def test_a_role_of_another_account_is_not_loaded() -> None:
    other = "arn:aws:iam::210987654321:role/path/Game"
    assert asyncio.run(load_role(_ctx(), other)) is None


@pytest.mark.parametrize(
    "params",
    [{}, {"PolicyArns": []}, {"PolicyArns": None}],
    ids=["absent", "empty-list", "null"],
)
def test_no_session_policies(params: dict[str, Any]) -> None:
    policies = asyncio.run(read_session_policies(_ctx(), params))
    assert policies == SessionPolicies(None, (), ())
    assert not policies.present

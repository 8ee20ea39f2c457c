"""Handler-level IAM tests: a real Store on SQLite and PostgreSQL, a CallContext, no HTTP.

Every call goes through :func:`call`, which also checks the returned members against botocore's
IAM output shape (names, types, required members), so the wire layer can render them as-is.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest

from webfed.api.context import CallContext
from webfed.api.iam import OPERATIONS
from webfed.settings import Settings
from webfed.storage import Store, migrate

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
IAM_MODEL = botocore.session.get_session().get_service_model("iam")

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"accounts.google.com:aud": "game-app"}},
            }
        ],
    }
)
PERMISSIONS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


def _check_shape(value: Any, shape: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: members not in the model: {unknown}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{where}: required members missing: {missing}"
        for name, member in value.items():
            _check_shape(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            _check_shape(item, shape.member, f"{where}[{index}]")
    elif kind == "timestamp":
        assert isinstance(value, datetime) and value.tzinfo is not None, where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), where
    else:
        assert kind == "string" and isinstance(value, str), where


def check_output(operation: str, result: dict[str, Any]) -> None:
    """Assert ``result`` fits the operation's botocore output shape exactly."""
    shape = IAM_MODEL.operation_model(operation).output_shape
    if shape is None:
        assert result == {}, f"{operation} has no output members"
        return
    _check_shape(result, shape, operation)


async def call(ctx: CallContext, operation: str, **params: Any) -> dict[str, Any]:
    result = await OPERATIONS[operation].handler(ctx, params)
    check_output(operation, result)
    return result


def new_account_id() -> str:
    return str(random.SystemRandom().randrange(10**11, 10**12))


def make_context(store: Store, settings: Settings | None = None) -> CallContext:
    return CallContext(
        request_id="req-1",
        now=NOW,
        source_ip="127.0.0.1",
        account_id=new_account_id(),
        region="us-east-1",
        caller=None,
        store=store,
        settings=settings or Settings(),
    )


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    migrate(database_url)
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def ctx(store: Store) -> CallContext:
    """A context in a fresh account, so tests sharing a database never see each other's rows."""
    return make_context(store)

"""Authorizer.from_settings on a real database: changes made elsewhere reach live sessions."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.unit.authorize.helpers import ACCOUNT, ADMIN, game_session, sign_with
from tests.unit.authorize.policies import allow, deny, document
from webfed.authorizer import Authorizer
from webfed.core.credentials import TemporaryCredentials, mint_credentials
from webfed.core.entities import Role
from webfed.core.identifiers import new_role_id
from webfed.core.policy import DecisionKind, policy_size
from webfed.errors import AccessDenied, SignatureDoesNotMatch
from webfed.settings import Settings
from webfed.storage import Store, migrate

MASTER = base64.b64encode(bytes(range(100, 132))).decode()
OBJECT = "arn:aws:s3:::game-saves/p/slot-1"


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[Store]:
    migrate(fresh_database_url)
    opened = await Store.open(fresh_database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def authorizer(
    fresh_database_url: str, store: Store, tmp_path: Path
) -> AsyncIterator[Authorizer]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_database_url,
        account_id=ACCOUNT,
        master_key=SecretStr(MASTER),
    )
    opened = await Authorizer.from_settings(settings, admin=ADMIN)
    try:
        yield opened
    finally:
        await opened.aclose()


async def _role(store: Store, *policies: str) -> Role:
    role = await store.iam.roles.create(
        ACCOUNT,
        role_id=new_role_id(random.Random()),
        name="GamePlayer",
        path="/game/",
        trust_policy=document(),
        description=None,
        max_session_duration=3600,
        permissions_boundary_arn=None,
        tags=(),
        now=datetime.now(UTC),
    )
    for index, text in enumerate(policies):
        await _put(store, f"p{index}", text)
    return role


async def _put(store: Store, name: str, text: str) -> None:
    await store.iam.roles.put_inline_policy(ACCOUNT, "GamePlayer", name, text, policy_size(text))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _credentials(authorizer: Authorizer, role: Role, issued: datetime) -> TemporaryCredentials:
    session = game_session(
        role_id=role.role_id, issued_at=issued, expires_at=issued + timedelta(hours=1)
    )
    return mint_credentials(session, key_ring=authorizer.key_ring, rng=random.Random(3))


async def _allowed(authorizer: Authorizer, credentials: TemporaryCredentials) -> bool:
    request = sign_with(credentials, signed_at=_now(), service="s3")
    result = await authorizer.check(request, action="s3:GetObject", resource=OBJECT)
    return result.allowed


async def _until_denied(authorizer: Authorizer, credentials: TemporaryCredentials) -> float:
    started = time.monotonic()
    while await _allowed(authorizer, credentials):
        assert time.monotonic() - started < 5, "the change did not reach the session"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_policy_change_reaches_live_sessions(authorizer: Authorizer, store: Store) -> None:
    role = await _role(store, document(allow("s3:*")))
    credentials = _credentials(authorizer, role, _now() - timedelta(minutes=1))
    assert await _allowed(authorizer, credentials)
    await _put(store, "p0", document(allow("dynamodb:*")))  # written by "another node"
    assert await _until_denied(authorizer, credentials) < 3


async def test_revoke_older_sessions(authorizer: Authorizer, store: Store) -> None:
    role = await _role(store, document(allow("s3:*")))
    old = _credentials(authorizer, role, _now() - timedelta(minutes=10))
    assert await _allowed(authorizer, old)
    cutoff = (_now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    revoke = deny("*", DateLessThan={"aws:TokenIssueTime": cutoff})
    await _put(store, "AWSRevokeOlderSessions", document(revoke))
    await _until_denied(authorizer, old)
    request = sign_with(old, signed_at=_now(), service="s3")
    result = await authorizer.check(request, action="s3:GetObject", resource=OBJECT)
    assert result.decision.kind is DecisionKind.EXPLICIT_DENY
    assert isinstance(result.denial, AccessDenied)
    assert result.denial.encoded_message
    fresh = _credentials(authorizer, role, _now())
    assert await _allowed(authorizer, fresh)


async def test_deleted_role(authorizer: Authorizer, store: Store) -> None:
    role = await _role(store)
    credentials = _credentials(authorizer, role, _now())
    await store.iam.roles.delete(ACCOUNT, "GamePlayer")
    await asyncio.sleep(1.2)
    request = sign_with(credentials, signed_at=_now(), service="s3")
    result = await authorizer.check(request, action="s3:GetObject", resource=OBJECT)
    assert not result.allowed
    assert "no longer exists" in result.decision.reason


async def test_admin_and_bad_signatures(authorizer: Authorizer) -> None:
    request = sign_with(ADMIN, signed_at=_now())
    result = await authorizer.check(request, action="execute-api:Invoke", resource="*")
    assert result.allowed
    assert result.caller.arn == f"arn:aws:iam::{ACCOUNT}:root"
    forged = sign_with(replace(ADMIN, secret_access_key="x" * 40), signed_at=_now())
    with pytest.raises(SignatureDoesNotMatch):
        await authorizer.check(forged, action="execute-api:Invoke", resource="*")
    assert ADMIN.secret_access_key not in repr(authorizer)
    assert json.dumps(result.decision.to_dict())

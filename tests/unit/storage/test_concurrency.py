"""Races between two processes on one database: exactly one winner, never a corrupted row.

Each child opens its own Store (its own engine and connections, as two ``webfed serve``
processes would), waits at a barrier, then performs the same write.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from tests.unit.storage.conftest import DOCUMENT, NOW, TRUST
from tests.unit.storage.helpers import make_policy, make_role
from webfed.core.identifiers import new_role_id
from webfed.errors import WebfedError
from webfed.storage import Store

ROUNDS = 3


async def _create_role(url: str, account: str, name: str, barrier: Barrier) -> str:
    store = await Store.open(url)
    try:
        await asyncio.to_thread(barrier.wait, 30)
        await store.iam.roles.create(
            account,
            role_id=new_role_id(random.Random()),
            name=name,
            path="/",
            trust_policy=TRUST,
            description=None,
            max_session_duration=3600,
            permissions_boundary_arn=None,
            tags=(),
            now=NOW,
        )
        return "ok"
    except WebfedError as error:
        return error.code
    finally:
        await store.close()


async def _attach(url: str, account: str, arn: str, barrier: Barrier) -> str:
    store = await Store.open(url)
    try:
        await asyncio.to_thread(barrier.wait, 30)
        await store.iam.attachments.attach(account, "Role", arn, NOW)
        return "ok"
    except WebfedError as error:
        return error.code
    finally:
        await store.close()


async def _new_version(url: str, account: str, arn: str, barrier: Barrier) -> str:
    store = await Store.open(url)
    try:
        await asyncio.to_thread(barrier.wait, 30)
        await store.iam.policies.create_version(
            account, arn, DOCUMENT, set_as_default=True, now=NOW
        )
        return "ok"
    except WebfedError as error:
        return error.code
    finally:
        await store.close()


_TASKS = {"create_role": _create_role, "attach": _attach, "new_version": _new_version}


def _run_child(task: str, url: str, account: str, value: str, barrier: Barrier, out: Any) -> None:
    out.put(asyncio.run(_TASKS[task](url, account, value, barrier)))


def race(task: str, url: str, account: str, values: tuple[str, str]) -> list[str]:
    """Run ``task`` in two processes released together; return their outcomes, sorted."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    out = context.Queue()
    children = [
        context.Process(target=_run_child, args=(task, url, account, value, barrier, out))
        for value in values
    ]
    for child in children:
        child.start()
    outcomes = sorted(out.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0, 0]
    return outcomes


async def test_same_role_created_twice_at_once(
    store: Store, account: str, database_url: str
) -> None:
    for round_number in range(ROUNDS):
        name = f"Racer{round_number}"
        outcomes = race("create_role", database_url, account, (name, name.upper()))
        assert outcomes == ["EntityAlreadyExists", "ok"]
        page = await store.iam.roles.list(account, path_prefix="/", marker=None, max_items=100)
        assert [role.name.lower() for role in page.items].count(name.lower()) == 1
        winner = await store.iam.roles.get(account, name)
        assert winner.trust_policy == TRUST and winner.role_id.startswith("AROA")


async def test_attach_limit_holds_under_a_race(
    store: Store, account: str, database_url: str
) -> None:
    await make_role(store, account)
    for index in range(9):
        policy = await make_policy(store, account, f"p{index}")
        await store.iam.attachments.attach(account, "Role", policy.arn, NOW)
    first = await make_policy(store, account, "last-a")
    second = await make_policy(store, account, "last-b")
    outcomes = race("attach", database_url, account, (first.arn, second.arn))
    assert outcomes == ["LimitExceeded", "ok"]
    page = await store.iam.attachments.list_attached(account, "Role", max_items=100)
    assert len(page.items) == 10


async def test_version_limit_holds_under_a_race(
    store: Store, account: str, database_url: str
) -> None:
    policy = await make_policy(store, account)
    for _ in range(3):
        await store.iam.policies.create_version(
            account, policy.arn, DOCUMENT, set_as_default=False, now=NOW
        )
    outcomes = race("new_version", database_url, account, (policy.arn, policy.arn))
    assert outcomes == ["LimitExceeded", "ok"]
    page = await store.iam.policies.list_versions(account, policy.arn, marker=None, max_items=10)
    assert [version.version_id for version in page.items] == ["v5", "v4", "v3", "v2", "v1"]
    assert sum(version.is_default for version in page.items) == 1


@pytest.mark.parametrize("writers", [4], ids=["four-writers"])
async def test_concurrent_tasks_in_one_process(store: Store, account: str, writers: int) -> None:
    """Many coroutines writing at once on one engine: every write lands, revision counts them."""
    await asyncio.gather(*(make_role(store, account, f"r{index}") for index in range(writers)))
    page = await store.iam.roles.list(account, path_prefix="/", marker=None, max_items=100)
    assert len(page.items) == writers
    assert await store.iam.revision(account) == writers

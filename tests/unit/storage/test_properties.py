"""Hypothesis properties of the repositories against simple Python models.

Each example runs in a fresh account of one migrated database, so examples never interfere.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.storage.helpers import make_role
from webfed.core.entities import Tag, fold_case
from webfed.storage import Store, migrate

T = TypeVar("T")
_PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Keys where case-folding rules differ between Python, PostgreSQL and SQLite: dotted capital
# and dotless i, capital and small sharp s, the ff ligature, final and medial sigma, the Kelvin
# sign (lowercases to ASCII k), a titlecase digraph, and non-ASCII Latin letters.
_KEYS = st.sampled_from(
    [
        "a",
        "A",
        "b",
        "B",
        "Équipe",
        "équipe",
        "key:1",
        "ik",
        "IK",
        "İK",
        "i\u0307k",
        "\u0131k",
        "ẞ",
        "ß",
        "ss",
        "SS",
        "ﬀ",
        "FF",
        "ΟΔΟΣ",
        "οδος",
        "οδοσ",
        "\u212a",
        "k",
        "ǅ",
        "ǆ",
    ]
)
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("tag"), _KEYS, st.text(alphabet="xyz", max_size=3)),
        st.tuples(st.just("untag"), _KEYS, st.just("")),
    ),
    max_size=12,
)


def run_with_store(url: str, body: Callable[[Store, str], Awaitable[T]]) -> T:
    async def runner() -> T:
        store = await Store.open(url)
        try:
            return await body(store, str(random.SystemRandom().randrange(10**11, 10**12)))
        finally:
            await store.close()

    return asyncio.run(runner())


@pytest.fixture
def migrated_url(database_url: str) -> str:
    migrate(database_url)
    return database_url


def _model_of(operations: list[tuple[str, str, str]], folded: bool) -> dict[str, Tag]:
    model: dict[str, Tag] = {}
    for action, key, value in operations:
        index = fold_case(key) if folded else key
        if action == "tag":
            model[index] = Tag(key, value)
        else:
            model.pop(index, None)
    return model


@_PROPERTY_SETTINGS
@given(operations=_OPERATIONS)
def test_role_tags_follow_the_case_insensitive_model(
    migrated_url: str, operations: list[tuple[str, str, str]]
) -> None:
    async def body(store: Store, account: str) -> tuple[Tag, ...]:
        await make_role(store, account)
        for action, key, value in operations:
            if action == "tag":
                await store.iam.roles.tag(account, "Role", [Tag(key, value)])
            else:
                await store.iam.roles.untag(account, "Role", [key])
        return (await store.iam.roles.get(account, "Role")).tags

    expected = tuple(sorted(_model_of(operations, True).values(), key=lambda tag: tag.key))
    assert run_with_store(migrated_url, body) == expected


@_PROPERTY_SETTINGS
@given(operations=_OPERATIONS)
def test_provider_tags_follow_the_exact_model(
    migrated_url: str, operations: list[tuple[str, str, str]]
) -> None:
    from tests.unit.storage.conftest import NOW

    async def body(store: Store, account: str) -> tuple[Tag, ...]:
        await store.iam.providers.create(
            account,
            url="https://p.example.com",
            resource="p.example.com",
            client_ids=(),
            thumbprints=(),
            tags=(),
            now=NOW,
        )
        for action, key, value in operations:
            if action == "tag":
                await store.iam.providers.tag(account, "p.example.com", [Tag(key, value)])
            else:
                await store.iam.providers.untag(account, "p.example.com", [key])
        return (await store.iam.providers.get(account, "p.example.com")).tags

    expected = tuple(sorted(_model_of(operations, False).values(), key=lambda tag: tag.key))
    assert run_with_store(migrated_url, body) == expected


@_PROPERTY_SETTINGS
@given(
    names=st.sets(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True), max_size=9),
    page_size=st.integers(min_value=1, max_value=4),
)
def test_paging_roles_returns_each_role_once_in_order(
    migrated_url: str, names: set[str], page_size: int
) -> None:
    unique = {name.lower(): name for name in names}

    async def body(store: Store, account: str) -> list[str]:
        for name in unique.values():
            await make_role(store, account, name)
        seen: list[str] = []
        marker: str | None = None
        while True:
            page = await store.iam.roles.list(
                account, path_prefix="/", marker=marker, max_items=page_size
            )
            assert len(page.items) <= page_size
            seen += [role.name for role in page.items]
            if page.marker is None:
                return seen
            marker = page.marker

    assert run_with_store(migrated_url, body) == [unique[key] for key in sorted(unique)]

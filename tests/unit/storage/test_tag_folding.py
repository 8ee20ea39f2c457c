"""Role and policy tag keys fold case with one Python function on both databases.

PostgreSQL's ``lower()`` maps ``İ`` (U+0130) to ``i`` while Python maps it to ``i`` followed by
U+0307, and SQLite's folds ASCII only; a unique index on SQL ``lower(key)`` therefore disagreed
with the repositories' matching. The folded key is now computed in Python and stored, and the
unique index is on that column, so the two can never disagree.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from tests.unit.storage.conftest import DOCUMENT, NOW
from tests.unit.storage.helpers import make_role
from webfed.core.entities import Tag, fold_case
from webfed.core.identifiers import new_policy_id
from webfed.errors import EntityAlreadyExists, InvalidInput, ServiceFailure
from webfed.storage import Store
from webfed.storage.engine import create_sync_engine
from webfed.storage.schema import role_tags

DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ABC", "abc"),
        ("İK", "i\u0307k"),
        ("ẞ", "ß"),
        ("ß", "ß"),
        ("ﬀ", "ﬀ"),
        ("ΟΔΟΣ", "οδος"),
        ("\u0131", "\u0131"),
        ("\u212a", "k"),
    ],
    ids=[
        "ascii",
        "dotted-capital-i",
        "capital-sharp-s",
        "sharp-s",
        "ff-ligature",
        "final-sigma",
        "dotless-i",
        "kelvin",
    ],
)
def test_fold_case_is_python_lowercase(text: str, folded: str) -> None:
    assert fold_case(text) == folded


async def test_tagging_dotted_capital_i_next_to_ik(store: Store, account: str) -> None:
    await make_role(store, account, tags=(Tag("ik", "1"),))
    await store.iam.roles.tag(account, "Role", [Tag("İK", "2")])
    assert (await store.iam.roles.get(account, "Role")).tags == (Tag("ik", "1"), Tag("İK", "2"))
    await store.iam.roles.untag(account, "Role", ["i\u0307K"])
    assert (await store.iam.roles.get(account, "Role")).tags == (Tag("ik", "1"),)


async def test_create_role_with_keys_that_differ_only_in_sql_lower(
    store: Store, account: str
) -> None:
    role = await make_role(store, account, tags=(Tag("ik", "1"), Tag("İK", "2")))
    assert role.tags == (Tag("ik", "1"), Tag("İK", "2"))


async def test_create_policy_with_keys_that_differ_only_in_sql_lower(
    store: Store, account: str
) -> None:
    policy = await store.iam.policies.create(
        account,
        policy_id=new_policy_id(random.Random()),
        name="P",
        path="/",
        description=None,
        document=DOCUMENT,
        tags=(Tag("ik", "1"), Tag("İK", "2")),
        now=NOW,
    )
    assert policy.tags == (Tag("ik", "1"), Tag("İK", "2"))


async def test_duplicate_folded_keys_are_invalid_input_not_entity_exists(
    store: Store, account: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await make_role(store, account, tags=(Tag("ẞ", "1"), Tag("ß", "2")))
    assert raised.value.message == DUPLICATE
    assert not isinstance(raised.value, EntityAlreadyExists)
    assert await store.iam.roles.find(account, "Role") is None
    with pytest.raises(InvalidInput, match="Duplicate tag keys"):
        await store.iam.policies.create(
            account,
            policy_id=new_policy_id(random.Random()),
            name="P",
            path="/",
            description=None,
            document=DOCUMENT,
            tags=(Tag("Key", "1"), Tag("KEY", "2")),
            now=NOW,
        )


async def test_tagging_with_duplicate_folded_keys_is_invalid_input(
    store: Store, account: str
) -> None:
    await make_role(store, account)
    with pytest.raises(InvalidInput, match="Duplicate tag keys"):
        await store.iam.roles.tag(account, "Role", [Tag("ΟΔΟΣ", "1"), Tag("οδος", "2")])
    assert (await store.iam.roles.get(account, "Role")).tags == ()


async def test_folded_key_column_holds_the_python_fold(
    store: Store, account: str, database_url: str
) -> None:
    role = await make_role(store, account, tags=(Tag("İK", "1"), Tag("ẞx", "2")))
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(role_tags.c.key, role_tags.c.folded_key).where(
                role_tags.c.owner_id == role.role_id
            )
            rows = sorted(tuple(row) for row in connection.execute(query))
    finally:
        engine.dispose()
    assert rows == [("İK", "i\u0307k"), ("ẞx", "ßx")]


async def test_an_unexpected_constraint_is_a_service_failure(store: Store, account: str) -> None:
    """A role id collision is webfed's fault, not the caller's: never EntityAlreadyExists."""
    await make_role(store, account, "First", role_id="AROACOLLIDE")
    with pytest.raises(ServiceFailure) as raised:
        await make_role(store, account, "Second", role_id="AROACOLLIDE")
    assert not isinstance(raised.value, EntityAlreadyExists)
    assert await store.iam.roles.find(account, "Second") is None

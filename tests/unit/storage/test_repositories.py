"""Repository methods directly: revisions, case rules, limits, permissions, DB-level constraints."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.unit.storage.conftest import DOCUMENT, NOW, TRUST
from tests.unit.storage.helpers import make_policy, make_role
from webfed.core.entities import Tag
from webfed.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
)
from webfed.storage import Store
from webfed.storage.engine import create_sync_engine
from webfed.storage.schema import roles


async def test_revision_moves_with_every_write_and_only_then(store: Store, account: str) -> None:
    assert await store.iam.revision(account) == 0
    await make_role(store, account)
    assert await store.iam.revision(account) == 1
    await store.iam.roles.get(account, "Role")
    await store.iam.roles.list(account, path_prefix="/", marker=None, max_items=10)
    assert await store.iam.revision(account) == 1
    await store.iam.roles.tag(account, "Role", [Tag("a", "b")])
    assert await store.iam.revision(account) == 2


async def test_failed_write_rolls_back_its_revision(store: Store, account: str) -> None:
    await make_role(store, account)
    with pytest.raises(EntityAlreadyExists):
        await make_role(store, account, "ROLE")
    with pytest.raises(NoSuchEntity):
        await store.iam.roles.tag(account, "Ghost", [Tag("a", "b")])
    assert await store.iam.revision(account) == 1


async def test_revisions_are_per_account(store: Store, account: str) -> None:
    other = str(int(account) + 1)
    await make_role(store, account)
    assert await store.iam.revision(other) == 0


async def test_find_returns_none(store: Store, account: str) -> None:
    assert await store.iam.roles.find(account, "nobody") is None
    assert await store.iam.providers.find(account, "nowhere.example.com") is None
    assert await store.iam.policies.find(account, f"arn:aws:iam::{account}:policy/None") is None


async def test_role_round_trip(store: Store, account: str) -> None:
    created = await make_role(
        store,
        account,
        "Game",
        path="/apps/",
        description="d",
        max_session_duration=7200,
        tags=(Tag("B", "2"), Tag("a", "1")),
    )
    fetched = await store.iam.roles.get(account, "GAME")
    assert fetched == created
    assert fetched.create_date == NOW and fetched.create_date.tzinfo is not None
    assert fetched.tags == (Tag("B", "2"), Tag("a", "1"))
    assert fetched.arn == f"arn:aws:iam::{account}:role/apps/Game"


async def test_database_enforces_case_insensitive_role_names(
    store: Store, account: str, database_url: str
) -> None:
    """Even a writer that skips the repository's check cannot store a case-variant name."""
    row = {
        "account_id": account,
        "path": "/",
        "trust_policy": TRUST,
        "max_session_duration": 3600,
        "create_date": NOW,
    }
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(roles).values(role_id="AROA1", name="Alpha", **row))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(sa.insert(roles).values(role_id="AROA2", name="ALPHA", **row))
    finally:
        with engine.begin() as connection:
            connection.execute(sa.delete(roles).where(roles.c.account_id == account))
        engine.dispose()


async def test_role_tags_merge_case_insensitively(store: Store, account: str) -> None:
    await make_role(store, account, tags=(Tag("Test", "1"),))
    await store.iam.roles.tag(account, "Role", [Tag("test", "2")])
    assert (await store.iam.roles.get(account, "Role")).tags == (Tag("test", "2"),)
    await store.iam.roles.untag(account, "Role", ["TEST"])
    assert (await store.iam.roles.get(account, "Role")).tags == ()


async def test_provider_tags_are_exact(store: Store, account: str) -> None:
    await store.iam.providers.create(
        account,
        url="https://a.example.com",
        resource="a.example.com",
        client_ids=["x"],
        thumbprints=[],
        tags=[Tag("env", "1")],
        now=NOW,
    )
    await store.iam.providers.tag(account, "a.example.com", [Tag("ENV", "2")])
    await store.iam.providers.untag(account, "a.example.com", ["Env"])
    provider = await store.iam.providers.get(account, "a.example.com")
    assert provider.tags == (Tag("ENV", "2"), Tag("env", "1"))


async def test_tag_quota_checked_after_merge(store: Store, account: str) -> None:
    await make_role(store, account, tags=tuple(Tag(f"k{index}", "v") for index in range(49)))
    await store.iam.roles.tag(account, "Role", [Tag("K0", "x"), Tag("new", "v")])
    with pytest.raises(LimitExceeded):
        await store.iam.roles.tag(account, "Role", [Tag("extra", "v")])
    role = await store.iam.roles.get(account, "Role")
    assert len(role.tags) == 50 and Tag("K0", "x") in role.tags


async def test_inline_policy_limit_inside_transaction(store: Store, account: str) -> None:
    await make_role(store, account)
    await store.iam.roles.put_inline_policy(account, "Role", "a", DOCUMENT, 10_000)
    with pytest.raises(LimitExceeded):
        await store.iam.roles.put_inline_policy(account, "Role", "b", DOCUMENT, 241)
    await store.iam.roles.put_inline_policy(account, "Role", "b", DOCUMENT, 240)
    page = await store.iam.roles.list_inline_policies(account, "Role", marker=None, max_items=1)
    assert page.items == ("a",) and page.is_truncated
    rest = await store.iam.roles.list_inline_policies(
        account, "Role", marker=page.marker, max_items=1
    )
    assert rest.items == ("b",) and not rest.is_truncated


async def test_delete_role_conflicts_then_succeeds(store: Store, account: str) -> None:
    await make_role(store, account, tags=(Tag("t", "v"),))
    await store.iam.roles.put_inline_policy(account, "Role", "a", DOCUMENT, 10)
    with pytest.raises(DeleteConflict):
        await store.iam.roles.delete(account, "Role")
    await store.iam.roles.delete_inline_policy(account, "Role", "a")
    await store.iam.roles.delete(account, "Role")
    assert await store.iam.roles.find(account, "Role") is None
    await make_role(store, account)  # the name is free again


async def test_role_permissions(store: Store, account: str) -> None:
    boundary = await make_policy(store, account, "Boundary")
    attached = await make_policy(store, account, "Attached", path="/x/")
    await make_role(store, account, permissions_boundary_arn=boundary.arn)
    await store.iam.roles.put_inline_policy(account, "Role", "inline", DOCUMENT, 10)
    await store.iam.attachments.attach(account, "Role", attached.arn, NOW)
    newer = DOCUMENT.replace('"*"', '"s3:*"', 1)
    await store.iam.policies.create_version(
        account, attached.arn, newer, set_as_default=True, now=NOW
    )
    permissions = await store.iam.attachments.permissions(account, "role")
    assert permissions.role.permissions_boundary_arn == boundary.arn
    assert permissions.inline == (("inline", DOCUMENT),)
    assert permissions.managed == ((attached.arn, newer),)
    assert permissions.boundary == DOCUMENT


async def test_policy_versions_keep_one_default(store: Store, account: str) -> None:
    policy = await make_policy(store, account)
    for _ in range(4):
        await store.iam.policies.create_version(
            account, policy.arn, DOCUMENT, set_as_default=True, now=NOW
        )
    with pytest.raises(LimitExceeded):
        await store.iam.policies.create_version(
            account, policy.arn, DOCUMENT, set_as_default=False, now=NOW
        )
    page = await store.iam.policies.list_versions(account, policy.arn, marker=None, max_items=10)
    assert [version.is_default for version in page.items] == [True, False, False, False, False]
    await store.iam.policies.set_default_version(account, policy.arn, "v2")
    default = await store.iam.policies.default_version(account, policy.arn)
    assert default.version_id == "v2"


async def test_policy_names_unique_regardless_of_path(store: Store, account: str) -> None:
    await make_policy(store, account, "Shared", path="/a/")
    with pytest.raises(EntityAlreadyExists):
        await make_policy(store, account, "shared", path="/b/")


async def test_attach_limit_inside_transaction(store: Store, account: str) -> None:
    await make_role(store, account)
    policies = [await make_policy(store, account, f"p{index}") for index in range(11)]
    for policy in policies[:10]:
        await store.iam.attachments.attach(account, "Role", policy.arn, NOW)
    await store.iam.attachments.attach(account, "Role", policies[0].arn, NOW)  # idempotent
    with pytest.raises(LimitExceeded):
        await store.iam.attachments.attach(account, "Role", policies[10].arn, NOW)
    page = await store.iam.attachments.list_attached(account, "Role", max_items=100)
    assert len(page.items) == 10


async def test_provider_limits(store: Store, account: str) -> None:
    await store.iam.providers.create(
        account,
        url="https://a.example.com",
        resource="a.example.com",
        client_ids=[f"c{index}" for index in range(100)],
        thumbprints=[],
        tags=[],
        now=NOW,
    )
    with pytest.raises(LimitExceeded):
        await store.iam.providers.add_client_id(account, "a.example.com", "one-more")
    await store.iam.providers.remove_client_id(account, "a.example.com", "c0")
    await store.iam.providers.add_client_id(account, "a.example.com", "one-more")
    provider = await store.iam.providers.get(account, "a.example.com")
    assert len(provider.client_ids) == 100 and provider.client_ids[-1] == "one-more"


async def test_list_roles_orders_by_name_ignoring_case(store: Store, account: str) -> None:
    names = ["beta", "Alpha", "gamma", "Delta", "epsilon"]
    random.shuffle(names)
    for name in names:
        await make_role(store, account, name)
    page = await store.iam.roles.list(account, path_prefix="/", marker=None, max_items=100)
    assert [role.name for role in page.items] == ["Alpha", "beta", "Delta", "epsilon", "gamma"]


async def test_path_prefix_is_literal(store: Store, account: str) -> None:
    await make_role(store, account, "under", path="/a_b/")
    await make_role(store, account, "other", path="/axb/")
    page = await store.iam.roles.list(account, path_prefix="/a_", marker=None, max_items=100)
    assert [role.name for role in page.items] == ["under"]

"""Identity pool and identity repositories on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.storage.conftest import NOW
from webfed.errors import (
    InvalidParameterException,
    LimitExceededException,
    ResourceConflict,
    ResourceNotFound,
)
from webfed.storage import Store
from webfed.storage.identity_models import (
    CognitoProvider,
    Identity,
    IdentityPoolConfig,
    MappingRule,
    PrincipalTagMap,
    RoleMapping,
    frozen_map,
)
from webfed.storage.identity_pools import MAX_POOLS, identity_pool_arn

ROLE = "arn:aws:iam::123456789012:role/game"
CONFIG = IdentityPoolConfig(
    name="game pool",
    allow_unauthenticated=True,
    allow_classic_flow=True,
    supported_login_providers=frozen_map({"accounts.google.com": "client-1"}),
    developer_provider_name="login.game",
    open_id_connect_provider_arns=("arn:aws:iam::123456789012:oidc-provider/id.example",),
    cognito_identity_providers=(
        CognitoProvider("cognito-idp.us-east-1.amazonaws.com/us-east-1_abc", "app", True),
    ),
)


def pool_id() -> str:
    return f"us-east-1:{uuid.uuid4()}"


def identity_id() -> str:
    return f"us-east-1:{uuid.uuid4()}"


async def make_pool(store: Store, account: str, **changes: object) -> str:
    new_id = pool_id()
    config = dataclasses.replace(CONFIG, **changes)  # type: ignore[arg-type]  # test override
    await store.identity_pools.create(account, pool_id=new_id, config=config, tags={}, now=NOW)
    return new_id


async def test_create_round_trips_every_member(store: Store, account: str) -> None:
    new_id = pool_id()
    created = await store.identity_pools.create(
        account, pool_id=new_id, config=CONFIG, tags={"team": "games"}, now=NOW
    )
    assert created.config == CONFIG
    assert dict(created.tags) == {"team": "games"}
    assert created.arn == identity_pool_arn("us-east-1", account, new_id)
    assert dict(created.roles) == {} and dict(created.role_mappings) == {}
    assert created.create_date == NOW == created.update_date


async def test_pool_of_another_account_is_not_found(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    with pytest.raises(ResourceNotFound, match=new_id):
        await store.identity_pools.get("999999999999", new_id)
    with pytest.raises(ResourceNotFound):
        await store.identity_pools.delete("999999999999", new_id)
    assert (await store.identity_pools.find(new_id)) is not None


async def test_update_replaces_and_keeps_the_developer_provider(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    bare = IdentityPoolConfig(name="renamed", allow_unauthenticated=False)
    later = NOW + timedelta(minutes=1)
    updated = await store.identity_pools.update(account, new_id, bare, tags=None, now=later)
    assert updated.config == dataclasses.replace(bare, developer_provider_name="login.game")
    assert updated.update_date == later and updated.create_date == NOW


async def test_developer_provider_cannot_change(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    changed = dataclasses.replace(CONFIG, developer_provider_name="other.name")
    with pytest.raises(InvalidParameterException, match=r"login\.game"):
        await store.identity_pools.update(account, new_id, changed, tags=None, now=NOW)


async def test_developer_provider_can_be_set_later(store: Store, account: str) -> None:
    new_id = await make_pool(store, account, developer_provider_name=None)
    updated = await store.identity_pools.update(account, new_id, CONFIG, tags={}, now=NOW)
    assert updated.config.developer_provider_name == "login.game"


async def test_list_pages_in_id_order(store: Store, account: str) -> None:
    created = sorted([await make_pool(store, account) for _ in range(5)])
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.identity_pools.list(account, after, 2)
        seen.extend(pool.pool_id for pool in page.pools)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == created


async def test_pool_limit(store: Store, account: str) -> None:
    # Fill the account directly to the limit, then one more create must fail.
    for _ in range(MAX_POOLS):
        await make_pool(store, account)
    with pytest.raises(LimitExceededException, match="1000"):
        await make_pool(store, account)


async def test_roles_and_mappings_round_trip(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    mappings = {
        "accounts.google.com": RoleMapping(
            "Rules", "Deny", (MappingRule("hd", "Equals", "example.com", ROLE),)
        ),
        "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc:app": RoleMapping(
            "Token", "AuthenticatedRole"
        ),
    }
    roles = {"authenticated": ROLE}
    await store.identity_pools.set_roles(account, new_id, roles, mappings, NOW)
    pool = await store.identity_pools.get(account, new_id)
    assert dict(pool.roles) == roles and dict(pool.role_mappings) == mappings


async def test_principal_tag_maps_per_provider(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    mapping = PrincipalTagMap(new_id, "accounts.google.com", False, frozen_map({"dept": "hd"}))
    await store.identity_pools.set_principal_tag_map(account, mapping)
    assert await store.identity_pools.get_principal_tag_map(
        account, new_id, "accounts.google.com"
    ) == (mapping)
    assert await store.identity_pools.get_principal_tag_map(account, new_id, "x") is None


async def test_tags_merge_remove_and_cap(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    await store.identity_pools.tag(account, new_id, {"a": "1", "b": "2"})
    await store.identity_pools.tag(account, new_id, {"a": "3"})
    await store.identity_pools.untag(account, new_id, ["b", "absent"])
    assert dict((await store.identity_pools.get(account, new_id)).tags) == {"a": "3"}
    with pytest.raises(LimitExceededException, match="50"):
        await store.identity_pools.tag(account, new_id, {f"k{i}": "v" for i in range(50)})


async def test_login_identity_is_found_and_reused(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    first_id = identity_id()
    created, is_new = await store.identities.get_or_create_for_login(
        account, new_id, "accounts.google.com", "sub-1", new_identity_id=first_id, now=NOW
    )
    again, again_new = await store.identities.get_or_create_for_login(
        account, new_id, "accounts.google.com", "sub-1", new_identity_id=identity_id(), now=NOW
    )
    assert is_new and not again_new
    assert created.identity_id == again.identity_id == first_id
    assert created.logins == ("accounts.google.com",)
    found = await store.identities.find_by_login(new_id, "accounts.google.com", "sub-1")
    assert found is not None and found.identity_id == first_id
    assert await store.identities.find_by_login(new_id, "accounts.google.com", "sub-2") is None


async def test_link_rules(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    guest = await store.identities.create_unauthenticated(account, new_id, identity_id(), NOW)
    assert guest.logins == ()
    await store.identities.link(
        guest.identity_id, "accounts.google.com", "s1", one_per_provider=True, now=NOW
    )
    await store.identities.link(
        guest.identity_id, "accounts.google.com", "s1", one_per_provider=True, now=NOW
    )
    with pytest.raises(ResourceConflict, match="only one login per provider"):
        await store.identities.link(
            guest.identity_id, "accounts.google.com", "s2", one_per_provider=True, now=NOW
        )
    other, _ = await store.identities.get_or_create_for_login(
        account, new_id, "www.amazon.com", "a1", new_identity_id=identity_id(), now=NOW
    )
    with pytest.raises(ResourceConflict, match="another identity"):
        await store.identities.link(
            other.identity_id, "accounts.google.com", "s1", one_per_provider=True, now=NOW
        )
    await store.identities.link(
        other.identity_id, "login.game", "u1", one_per_provider=False, now=NOW
    )
    await store.identities.link(
        other.identity_id, "login.game", "u2", one_per_provider=False, now=NOW
    )
    assert await store.identities.logins_of(other.identity_id, "login.game") == ("u1", "u2")


async def test_merge_moves_logins_and_disables_the_source(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    source, _ = await store.identities.get_or_create_for_login(
        account, new_id, "login.game", "u1", new_identity_id=identity_id(), now=NOW
    )
    survivor, _ = await store.identities.get_or_create_for_login(
        account, new_id, "login.game", "u2", new_identity_id=identity_id(), now=NOW
    )
    merged = await store.identities.merge(source.identity_id, survivor.identity_id, NOW)
    assert await store.identities.logins_of(merged.identity_id, "login.game") == ("u1", "u2")
    disabled = await store.identities.get(account, source.identity_id)
    assert disabled.disabled and disabled.merged_into == survivor.identity_id
    found = await store.identities.find_by_login(new_id, "login.game", "u1")
    assert found is not None and found.identity_id == survivor.identity_id
    with pytest.raises(ResourceConflict, match="disabled"):
        await store.identities.merge(source.identity_id, survivor.identity_id, NOW)
    page = await store.identities.list(account, new_id, after=None, limit=60, hide_disabled=True)
    assert [item.identity_id for item in page.identities] == [survivor.identity_id]


async def test_list_delete_and_pool_delete(store: Store, account: str) -> None:
    new_id = await make_pool(store, account)
    ids = sorted(
        [
            (
                await store.identities.create_unauthenticated(account, new_id, identity_id(), NOW)
            ).identity_id
            for _ in range(3)
        ]
    )
    first = await store.identities.list(account, new_id, after=None, limit=2, hide_disabled=False)
    assert [item.identity_id for item in first.identities] == ids[:2]
    assert first.next_after == ids[1]
    unknown = identity_id()
    assert await store.identities.delete_many(account, [ids[0], unknown]) == (unknown,)
    assert await store.identities.delete_many("999999999999", [ids[1]]) == (ids[1],)
    with pytest.raises(ResourceNotFound, match=ids[0]):
        await store.identities.get(account, ids[0])
    await store.identity_pools.delete(account, new_id)
    assert await store.identities.find(ids[1]) is None


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.from_regex(r"[\w +=,.@-]{1,128}", fullmatch=True),
    providers=st.dictionaries(
        st.sampled_from(["accounts.google.com", "www.amazon.com", "graph.facebook.com"]),
        st.text(min_size=1, max_size=128),
        max_size=3,
    ),
    allow=st.booleans(),
)
async def test_any_configuration_round_trips(
    store: Store, account: str, name: str, providers: dict[str, str], allow: bool
) -> None:
    config = IdentityPoolConfig(
        name=name, allow_unauthenticated=allow, supported_login_providers=frozen_map(providers)
    )
    new_id = pool_id()
    await store.identity_pools.create(account, pool_id=new_id, config=config, tags={}, now=NOW)
    assert (await store.identity_pools.get(account, new_id)).config == config


async def test_losing_insert_returns_the_winner(
    store: Store, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path a race takes: the first look-up saw nothing, the insert then hits the key."""
    new_id = await make_pool(store, account)
    winner, _ = await store.identities.get_or_create_for_login(
        account, new_id, "accounts.google.com", "s", new_identity_id=identity_id(), now=NOW
    )
    real_find = store.identities.find_by_login
    calls: list[str] = []

    async def stale_first(pool: str, provider: str, subject: str) -> Identity | None:
        calls.append(subject)
        return None if len(calls) == 1 else await real_find(pool, provider, subject)

    monkeypatch.setattr(store.identities, "find_by_login", stale_first)
    loser_id = identity_id()
    found, created = await store.identities.get_or_create_for_login(
        account, new_id, "accounts.google.com", "s", new_identity_id=loser_id, now=NOW
    )
    assert (found.identity_id, created) == (winner.identity_id, False) and len(calls) == 2
    assert await store.identities.find(loser_id) is None  # its row was rolled back


@pytest.mark.parametrize(
    "subject",
    ["\U00010000" * 1024, "x" * 1024, "İ", "i\u0307"],
    ids=["1024-astral-chars", "1024-ascii", "dotted-capital-i", "i-combining-dot"],
)
async def test_any_subject_is_a_distinct_login(store: Store, account: str, subject: str) -> None:
    new_id = await make_pool(store, account)
    first, created = await store.identities.get_or_create_for_login(
        account, new_id, "login.game", subject, new_identity_id=identity_id(), now=NOW
    )
    other, other_created = await store.identities.get_or_create_for_login(
        account, new_id, "login.game", subject[:-1] + "y", new_identity_id=identity_id(), now=NOW
    )
    assert created and other_created and first.identity_id != other.identity_id
    assert await store.identities.logins_of(first.identity_id, "login.game") == (subject,)


@pytest.mark.parametrize(
    ("provider", "subject", "message"),
    [
        ("login.game", "a\x00b", "without NUL"),
        ("login.game", "x" * 1025, "1 to 1024"),
        ("login.game", "", "1 to 1024"),
        ("p" * 129, "s", "1 to 128"),
    ],
    ids=["nul", "subject-too-long", "empty-subject", "provider-too-long"],
)
async def test_unstorable_logins_are_bad_input(
    store: Store, account: str, provider: str, subject: str, message: str
) -> None:
    new_id = await make_pool(store, account)
    with pytest.raises(InvalidParameterException, match=message):
        await store.identities.get_or_create_for_login(
            account, new_id, provider, subject, new_identity_id=identity_id(), now=NOW
        )
    guest = await store.identities.create_unauthenticated(account, new_id, identity_id(), NOW)
    with pytest.raises(InvalidParameterException, match=message):
        await store.identities.link(
            guest.identity_id, provider, subject, one_per_provider=False, now=NOW
        )

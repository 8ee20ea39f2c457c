"""Repository of Cognito-compatible identity pools (Cognito Identity API 2014-06-30).

Follows the API reference pages ``CreateIdentityPool`` through ``ListTagsForResource``: at most
1,000 pools per account (``LimitExceededException``), ``UpdateIdentityPool`` replaces the whole
configuration, the developer provider name cannot change once set, at most 50 tags per pool.
Every write runs in the account's serialised write transaction (``Database.write``), so the
pool-count check cannot be raced past by a concurrent creator on another process.

Pool ids are chosen by the caller of :meth:`IdentityPoolRepository.create`: random for
``CreateIdentityPool``, fixed by the file for ``webfed apply``. An id already taken, in any
account, is ``ResourceConflictException``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from types import MappingProxyType
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.errors import (
    InvalidParameterException,
    LimitExceededException,
    ResourceConflict,
    ResourceNotFound,
)
from webfed.storage.database import Database
from webfed.storage.identity_documents import (
    config_from_document,
    config_to_document,
    mappings_from_document,
    mappings_to_document,
)
from webfed.storage.identity_models import (
    IdentityPool,
    IdentityPoolConfig,
    PoolPage,
    PrincipalTagMap,
    RoleMapping,
    frozen_map,
)
from webfed.storage.identity_schema import (
    identities,
    identity_logins,
    identity_pool_tags,
    identity_pools,
)
from webfed.storage.pagination import sortable

__all__ = [
    "MAX_POOLS",
    "MAX_POOL_TAGS",
    "IdentityPoolRepository",
    "identity_pool_arn",
    "kept_developer_provider",
]

MAX_POOLS = 1000
MAX_POOL_TAGS = 50


def identity_pool_arn(region: str, account_id: str, pool_id: str) -> str:
    """``arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/POOL_ID``."""
    return f"arn:aws:cognito-identity:{region}:{account_id}:identitypool/{pool_id}"


def _not_found(pool_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Identity pool {pool_id} does not exist in this account.")


def _pool(row: Row[tuple[object, ...]], tags: Mapping[str, str]) -> IdentityPool:
    mapping = row._mapping
    pool_id = str(mapping["pool_id"])
    account_id = str(mapping["account_id"])
    roles = cast(Mapping[str, Mapping[str, object]], mapping["roles"])
    return IdentityPool(
        pool_id=pool_id,
        account_id=account_id,
        arn=identity_pool_arn(pool_id.partition(":")[0], account_id, pool_id),
        config=config_from_document(str(mapping["name"]), mapping["configuration"]),
        roles=frozen_map(cast(Mapping[str, str], roles["roles"])),
        role_mappings=mappings_from_document(roles["role_mappings"]),
        tags=frozen_map(tags),
        create_date=mapping["create_date"],
        update_date=mapping["update_date"],
        principal_tag_maps=_tag_maps(pool_id, mapping["principal_tag_maps"]),
    )


def _tag_map(pool_id: str, provider: str, stored: Mapping[str, object]) -> PrincipalTagMap:
    return PrincipalTagMap(
        pool_id=pool_id,
        provider_name=provider,
        use_defaults=bool(stored["use_defaults"]),
        principal_tags=frozen_map(cast(Mapping[str, str], stored["principal_tags"])),
    )


def _tag_maps(pool_id: str, document: object) -> Mapping[str, PrincipalTagMap]:
    maps = cast(Mapping[str, Mapping[str, object]], document or {})
    return MappingProxyType(
        {provider: _tag_map(pool_id, provider, stored) for provider, stored in maps.items()}
    )


async def _require(
    connection: AsyncConnection, account_id: str, pool_id: str, *, lock: bool = False
) -> Row[tuple[object, ...]]:
    query = sa.select(identity_pools).where(
        identity_pools.c.account_id == account_id, identity_pools.c.pool_id == pool_id
    )
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await connection.execute(query)).first()
    if row is None:
        raise _not_found(pool_id)
    return row


async def _tags_of(
    connection: AsyncConnection, pool_ids: Sequence[str]
) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {pool_id: {} for pool_id in pool_ids}
    if not pool_ids:
        return found
    query = sa.select(identity_pool_tags).where(identity_pool_tags.c.owner_id.in_(pool_ids))
    for row in (await connection.execute(query)).all():
        found[str(row.owner_id)][str(row.key)] = str(row.value)
    return found


#: How long :meth:`IdentityPoolRepository.find` answers from memory: a pool changed on another
#: node reaches this one's unsigned flows within this many seconds (writes through this
#: repository clear the memory at once).
FIND_CACHE_SECONDS = 1.0
_FIND_CACHE_ENTRIES = 10_000


class IdentityPoolRepository:
    def __init__(self, database: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = database
        self._clock = clock
        self._recent: dict[str, tuple[float, IdentityPool | None]] = {}
        # The read of a pool in flight, shared by every ``find`` that misses meanwhile (when the
        # memory of a busy pool lapses, each concurrent call would otherwise read it again).
        self._reading: dict[str, asyncio.Future[IdentityPool | None]] = {}
        self._generation = 0  # moves at each write: a read that raced one is not remembered

    @asynccontextmanager
    async def _write(self, account_id: str) -> AsyncIterator[AsyncConnection]:
        """The account's write transaction; pools read from memory are forgotten on both sides
        of it, and a ``find`` that read during it does not remember what it read."""
        self._forget()
        try:
            async with self._db.write(account_id) as connection:
                yield connection
        finally:
            self._forget()

    def _forget(self) -> None:
        self._generation += 1
        self._recent.clear()
        self._reading.clear()

    async def create(
        self,
        account_id: str,
        *,
        pool_id: str,
        config: IdentityPoolConfig,
        tags: Mapping[str, str],
        now: datetime,
    ) -> IdentityPool:
        """Store a new pool with no roles; ``LimitExceededException`` past 1,000 per account,
        ``ResourceConflictException`` when ``pool_id`` is taken (in any account)."""
        _check_tag_count(len(tags))
        try:
            return await self._insert(account_id, pool_id, config, tags, now)
        except IntegrityError as error:  # a concurrent creator of the same id won the race
            raise _id_taken(pool_id) from error

    async def _insert(
        self,
        account_id: str,
        pool_id: str,
        config: IdentityPoolConfig,
        tags: Mapping[str, str],
        now: datetime,
    ) -> IdentityPool:
        async with self._write(account_id) as connection:
            taken = sa.select(identity_pools.c.pool_id).where(identity_pools.c.pool_id == pool_id)
            if (await connection.execute(taken)).first() is not None:
                raise _id_taken(pool_id)
            count = await connection.execute(
                sa.select(sa.func.count())
                .select_from(identity_pools)
                .where(identity_pools.c.account_id == account_id)
            )
            if count.scalar_one() >= MAX_POOLS:
                raise LimitExceededException(
                    f"An account may hold at most {MAX_POOLS} identity pools."
                )
            await connection.execute(
                sa.insert(identity_pools).values(
                    pool_id=pool_id,
                    account_id=account_id,
                    name=config.name,
                    configuration=config_to_document(config),
                    roles={"roles": {}, "role_mappings": {}},
                    principal_tag_maps={},
                    create_date=now,
                    update_date=now,
                )
            )
            await _insert_tags(connection, pool_id, tags)
            # Read in the same transaction: a read after the commit could fail and turn a done
            # write into an error.
            return await _load_pool(connection, account_id, pool_id)

    async def get(self, account_id: str, pool_id: str) -> IdentityPool:
        async with self._db.read() as connection:
            return await _load_pool(connection, account_id, pool_id)

    async def find(self, pool_id: str) -> IdentityPool | None:
        """The pool ``pool_id`` in whatever account holds it (for the unsigned flows), from
        memory for :data:`FIND_CACHE_SECONDS` after a read: ``GetId`` and
        ``GetCredentialsForIdentity`` read the pool on every call. Concurrent calls that miss
        share one read."""
        now = self._clock()
        recent = self._recent.get(pool_id)
        if recent is not None and now - recent[0] < FIND_CACHE_SECONDS:
            return recent[1]
        reading = self._reading.get(pool_id)
        if reading is None:
            reading = asyncio.ensure_future(self._find_and_remember(pool_id, now))
            reading.add_done_callback(_retrieved)
            self._reading[pool_id] = reading
        return await asyncio.shield(reading)

    async def _find_and_remember(self, pool_id: str, started: float) -> IdentityPool | None:
        generation = self._generation
        try:
            pool = await self._find(pool_id)
        finally:
            if self._generation == generation:
                self._reading.pop(pool_id, None)
        if self._generation == generation:  # no write through this process meanwhile
            if len(self._recent) >= _FIND_CACHE_ENTRIES:
                self._recent.clear()
            self._recent[pool_id] = (started, pool)
        return pool

    async def _find(self, pool_id: str) -> IdentityPool | None:
        async with self._db.read() as connection:
            query = sa.select(identity_pools).where(identity_pools.c.pool_id == pool_id)
            row = (await connection.execute(query)).first()
            if row is None:
                return None
            tags = await _tags_of(connection, [pool_id])
        return _pool(row, tags[pool_id])

    async def update(
        self,
        account_id: str,
        pool_id: str,
        config: IdentityPoolConfig,
        *,
        tags: Mapping[str, str] | None,
        now: datetime,
    ) -> IdentityPool:
        """Replace the configuration whole; ``tags`` (when given) replace the pool's tags.

        A developer provider name, once set, may only be sent again unchanged or left out (in
        which case it is kept: an identity's developer logins depend on it).
        """
        if tags is not None:
            _check_tag_count(len(tags))
        async with self._write(account_id) as connection:
            row = await _require(connection, account_id, pool_id, lock=True)
            stored = config_from_document(str(row.name), row.configuration)
            config = _keep_developer_provider(stored, config)
            await connection.execute(
                sa.update(identity_pools)
                .where(identity_pools.c.pool_id == pool_id)
                .values(
                    name=config.name,
                    configuration=config_to_document(config),
                    update_date=now,
                )
            )
            if tags is not None:
                await connection.execute(
                    sa.delete(identity_pool_tags).where(identity_pool_tags.c.owner_id == pool_id)
                )
                await _insert_tags(connection, pool_id, tags)
            return await _load_pool(connection, account_id, pool_id)

    async def delete(self, account_id: str, pool_id: str) -> None:
        """Delete the pool, its tags, identities and logins."""
        async with self._write(account_id) as connection:
            await _require(connection, account_id, pool_id, lock=True)
            await _delete_pool_rows(connection, pool_id)

    async def list(self, account_id: str, after: str | None, limit: int) -> PoolPage:
        """Pools in id order, ``limit`` at most, resuming after the pool id ``after``."""
        async with self._db.read() as connection:
            order = sortable(identity_pools.c.pool_id, connection.dialect.name)
            query = sa.select(identity_pools).where(identity_pools.c.account_id == account_id)
            if after is not None:
                query = query.where(order > after)
            rows = (await connection.execute(query.order_by(order).limit(limit + 1))).all()
            kept = rows[:limit]
            tags = await _tags_of(connection, [str(row.pool_id) for row in kept])
        pools = tuple(_pool(row, tags[str(row.pool_id)]) for row in kept)
        next_after = pools[-1].pool_id if len(rows) > limit else None
        return PoolPage(pools, next_after)

    async def set_roles(
        self,
        account_id: str,
        pool_id: str,
        roles: Mapping[str, str],
        role_mappings: Mapping[str, RoleMapping],
        now: datetime,
    ) -> None:
        """Replace the default roles and the role mappings (``SetIdentityPoolRoles``)."""
        document = {"roles": dict(roles), "role_mappings": mappings_to_document(role_mappings)}
        async with self._write(account_id) as connection:
            await _require(connection, account_id, pool_id, lock=True)
            await connection.execute(
                sa.update(identity_pools)
                .where(identity_pools.c.pool_id == pool_id)
                .values(roles=document, update_date=now)
            )

    async def set_principal_tag_map(self, account_id: str, mapping: PrincipalTagMap) -> None:
        """Store one provider's attribute-to-tag map, replacing the previous one."""
        async with self._write(account_id) as connection:
            row = await _require(connection, account_id, mapping.pool_id, lock=True)
            maps = dict(cast(Mapping[str, object], row.principal_tag_maps))
            maps[mapping.provider_name] = {
                "use_defaults": mapping.use_defaults,
                "principal_tags": dict(mapping.principal_tags),
            }
            await connection.execute(
                sa.update(identity_pools)
                .where(identity_pools.c.pool_id == mapping.pool_id)
                .values(principal_tag_maps=maps)
            )

    async def get_principal_tag_map(
        self, account_id: str, pool_id: str, provider_name: str
    ) -> PrincipalTagMap | None:
        """The provider's map, or ``None`` when none was ever set."""
        async with self._db.read() as connection:
            row = await _require(connection, account_id, pool_id)
        return _tag_maps(pool_id, row.principal_tag_maps).get(provider_name)

    async def tag(self, account_id: str, pool_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags; the result may hold at most 50."""
        async with self._write(account_id) as connection:
            await _require(connection, account_id, pool_id, lock=True)
            current = (await _tags_of(connection, [pool_id]))[pool_id]
            _check_tag_count(len(current.keys() | tags.keys()))
            await connection.execute(
                sa.delete(identity_pool_tags).where(
                    identity_pool_tags.c.owner_id == pool_id,
                    identity_pool_tags.c.key.in_(list(tags)),
                )
            )
            await _insert_tags(connection, pool_id, tags)

    async def untag(self, account_id: str, pool_id: str, keys: Sequence[str]) -> None:
        """Remove tags by key; keys the pool does not have are ignored."""
        async with self._write(account_id) as connection:
            await _require(connection, account_id, pool_id, lock=True)
            await connection.execute(
                sa.delete(identity_pool_tags).where(
                    identity_pool_tags.c.owner_id == pool_id,
                    identity_pool_tags.c.key.in_(list(keys)),
                )
            )


def _retrieved(reading: asyncio.Future[IdentityPool | None]) -> None:
    """Mark a shared read's failure as seen (every caller that awaited it got it already)."""
    if not reading.cancelled():
        reading.exception()


def _check_tag_count(count: int) -> None:
    if count > MAX_POOL_TAGS:
        raise LimitExceededException(
            f"An identity pool may hold at most {MAX_POOL_TAGS} tags; this request leaves {count}."
        )


def _id_taken(pool_id: str) -> ResourceConflict:
    return ResourceConflict(f"Identity pool id {pool_id} is already in use.")


def kept_developer_provider(
    stored: IdentityPoolConfig, wanted: IdentityPoolConfig
) -> IdentityPoolConfig:
    """``wanted`` as an update of ``stored`` stores it: a developer provider name, once set,
    is kept when left out and refused (``InvalidParameterException``) when different."""
    return _keep_developer_provider(stored, wanted)


def _keep_developer_provider(
    stored: IdentityPoolConfig, wanted: IdentityPoolConfig
) -> IdentityPoolConfig:
    current = stored.developer_provider_name
    if current is None:
        return wanted
    if wanted.developer_provider_name is None:
        return dataclasses.replace(wanted, developer_provider_name=current)
    if wanted.developer_provider_name != current:
        raise InvalidParameterException(
            f"DeveloperProviderName cannot be changed once set: it is {current!r}."
        )
    return wanted


async def _insert_tags(connection: AsyncConnection, pool_id: str, tags: Mapping[str, str]) -> None:
    if tags:
        await connection.execute(
            sa.insert(identity_pool_tags),
            [{"owner_id": pool_id, "key": key, "value": value} for key, value in tags.items()],
        )


async def _delete_pool_rows(connection: AsyncConnection, pool_id: str) -> None:
    # Explicit deletes in dependency order: foreign-key cascades are not relied upon.
    await connection.execute(sa.delete(identity_logins).where(identity_logins.c.pool_id == pool_id))
    await connection.execute(sa.delete(identities).where(identities.c.pool_id == pool_id))
    await connection.execute(
        sa.delete(identity_pool_tags).where(identity_pool_tags.c.owner_id == pool_id)
    )
    await connection.execute(sa.delete(identity_pools).where(identity_pools.c.pool_id == pool_id))


async def _load_pool(connection: AsyncConnection, account_id: str, pool_id: str) -> IdentityPool:
    row = await _require(connection, account_id, pool_id)
    tags = await _tags_of(connection, [pool_id])
    return _pool(row, tags[pool_id])

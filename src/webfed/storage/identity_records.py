"""Repository of identities in identity pools, and the logins linked to them.

Designed for the flows of the Cognito Identity developer guide ("Identity pools authentication
flow", "Developer-authenticated identities", linking and merging):

* ``GetId`` with logins calls :meth:`IdentityRepository.get_or_create_for_login`: it finds the
  identity of login ``(provider, subject)`` in the pool through the ``identity_logins`` primary
  key ``(pool_id, login_key)``, or creates one. Two processes racing on one login both end with
  the same identity: the loser's insert violates that key, its transaction is rolled back and it
  reads the winner's row.
* ``GetId`` without logins calls :meth:`create_unauthenticated`.
* Linking a further login calls :meth:`link` (``ResourceConflictException`` when the login is
  another identity's, or when the identity already has a login of a provider that allows one).
* Merging calls :meth:`merge`: the source's logins move to the survivor, and the source (and any
  identity merged into it earlier) is disabled, pointing at the survivor.
* Developer user identifiers are logins whose provider is the pool's developer provider name;
  ``LookupDeveloperIdentity`` reads them with :meth:`logins_of` and :meth:`find_by_login`.

Identity writes do not bump the account's IAM revision (they change nothing IAM caches hold);
they rely on the primary keys instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.errors import InvalidParameterException, ResourceConflict, ResourceNotFound
from webfed.storage.database import Database
from webfed.storage.identity_models import Identity, IdentityPage
from webfed.storage.identity_schema import identities, identity_logins, login_key
from webfed.storage.pagination import sortable

__all__ = ["MAX_PROVIDER_LENGTH", "MAX_SUBJECT_LENGTH", "IdentityRepository"]


MAX_SUBJECT_LENGTH = 1024
MAX_PROVIDER_LENGTH = 128


def _check_login(provider: str, subject: str) -> None:
    """Refuse what neither database can store alike (NUL, over-long values) as bad input."""
    if not 0 < len(provider) <= MAX_PROVIDER_LENGTH or "\x00" in provider:
        raise InvalidParameterException(
            f"A login provider name must be 1 to {MAX_PROVIDER_LENGTH} characters without NUL."
        )
    if not 0 < len(subject) <= MAX_SUBJECT_LENGTH or "\x00" in subject:
        raise InvalidParameterException(
            f"The {provider} user identifier must be 1 to {MAX_SUBJECT_LENGTH} characters "
            "without NUL."
        )


def _pool_gone(pool_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"IdentityPool '{pool_id}' not found.")


def _not_found(identity_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Identity {identity_id} does not exist.")


def _identity(
    row: Row[tuple[object, ...]], logins: Sequence[str], login_keys: Sequence[str] = ()
) -> Identity:
    mapping = row._mapping
    merged = mapping["merged_into"]
    return Identity(
        identity_id=str(mapping["identity_id"]),
        pool_id=str(mapping["pool_id"]),
        account_id=str(mapping["account_id"]),
        logins=tuple(sorted(set(logins))),
        create_date=mapping["create_date"],
        last_modified_date=mapping["last_modified_date"],
        merged_into=None if merged is None else str(merged),
        login_keys=frozenset(login_keys),
    )


async def _providers_of(
    connection: AsyncConnection, identity_ids: Sequence[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {identity_id: [] for identity_id in identity_ids}
    if not identity_ids:
        return found
    query = sa.select(identity_logins.c.identity_id, identity_logins.c.provider).where(
        identity_logins.c.identity_id.in_(list(identity_ids))
    )
    for identity_id, provider in (await connection.execute(query)).all():
        found[str(identity_id)].append(str(provider))
    return found


_LINKED = identity_logins.alias("linked")
_KEY = identity_logins.alias("key")


def _with_logins(query: sa.Select[tuple[object, ...]]) -> sa.Select[tuple[object, ...]]:
    """``query`` (selecting from ``identities``) with one row per linked login (or one row with
    NULLs): an identity, its providers and its login keys in one round trip."""
    return query.add_columns(
        _LINKED.c.provider.label("linked_provider"), _LINKED.c.login_key.label("linked_key")
    ).outerjoin(_LINKED, _LINKED.c.identity_id == identities.c.identity_id)


# Built once: the flows run these on every call, and building a select costs more than
# running it on an indexed row.
_BY_ID = _with_logins(
    sa.select(identities).where(identities.c.identity_id == sa.bindparam("identity_id"))
)
_BY_LOGIN = _with_logins(
    sa.select(identities)
    .join(_KEY, _KEY.c.identity_id == identities.c.identity_id)
    .where(_KEY.c.pool_id == sa.bindparam("pool_id"), _KEY.c.login_key == sa.bindparam("key"))
)


# Positions in the rows of _BY_ID and _BY_LOGIN (the same columns): the identity's columns,
# then the linked login's provider and key.
_COLUMNS = {column.key: index for index, column in enumerate(_BY_ID.selected_columns)}
_PROVIDER, _LOGIN_KEY = _COLUMNS["linked_provider"], _COLUMNS["linked_key"]


def _one(rows: Sequence[Sequence[Any]]) -> Identity | None:
    """The identity in ``rows`` of :data:`_BY_ID` or :data:`_BY_LOGIN` (one per linked
    login), or ``None`` when there are none."""
    if not rows:
        return None
    first = rows[0]
    linked = [row for row in rows if row[_PROVIDER] is not None]
    merged = first[_COLUMNS["merged_into"]]
    return Identity(
        identity_id=str(first[_COLUMNS["identity_id"]]),
        pool_id=str(first[_COLUMNS["pool_id"]]),
        account_id=str(first[_COLUMNS["account_id"]]),
        logins=tuple(sorted({str(row[_PROVIDER]) for row in linked})),
        create_date=first[_COLUMNS["create_date"]],
        last_modified_date=first[_COLUMNS["last_modified_date"]],
        merged_into=None if merged is None else str(merged),
        login_keys=frozenset(str(row[_LOGIN_KEY]) for row in linked),
    )


async def _load(connection: AsyncConnection, identity_id: str) -> Identity | None:
    return _one((await connection.execute(_BY_ID, {"identity_id": identity_id})).all())


async def _owner_of_login(
    connection: AsyncConnection, pool_id: str, provider: str, subject: str
) -> str | None:
    query = sa.select(identity_logins.c.identity_id).where(
        identity_logins.c.pool_id == pool_id,
        identity_logins.c.login_key == login_key(provider, subject),
    )
    owner = (await connection.execute(query)).scalar_one_or_none()
    return None if owner is None else str(owner)


class IdentityRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, account_id: str, identity_id: str) -> Identity:
        """The identity, which must belong to a pool of ``account_id``."""
        async with self._db.read() as connection:
            identity = await _load(connection, identity_id)
        if identity is None or identity.account_id != account_id:
            raise _not_found(identity_id)
        return identity

    async def find(self, identity_id: str) -> Identity | None:
        """The identity in whatever account holds it (for the unsigned flows)."""
        return _one(await self._db.rows(_BY_ID, {"identity_id": identity_id}))

    async def find_by_login(self, pool_id: str, provider: str, subject: str) -> Identity | None:
        """The identity login ``(provider, subject)`` of the pool is linked to, if any (one
        query: the login's primary key, its identity, the identity's providers)."""
        values = {"pool_id": pool_id, "key": login_key(provider, subject)}
        return _one(await self._db.rows(_BY_LOGIN, values))

    async def logins_of(self, identity_id: str, provider: str) -> tuple[str, ...]:
        """The subjects of ``provider`` linked to the identity (developer user identifiers)."""
        async with self._db.read() as connection:
            query = (
                sa.select(identity_logins.c.subject)
                .where(
                    identity_logins.c.identity_id == identity_id,
                    identity_logins.c.provider == provider,
                )
                .order_by(sortable(identity_logins.c.subject, connection.dialect.name))
            )
            return tuple(str(value) for value in (await connection.execute(query)).scalars())

    async def create_unauthenticated(
        self, account_id: str, pool_id: str, identity_id: str, now: datetime
    ) -> Identity:
        """A new identity with no login (a guest)."""
        values = _identity_values(account_id, pool_id, identity_id, now)
        try:
            return await self._db.run_write(lambda connection: _created(connection, values, None))
        except IntegrityError as error:  # the pool was deleted meanwhile (its foreign key)
            raise _pool_gone(pool_id) from error

    async def get_or_create_for_login(
        self,
        account_id: str,
        pool_id: str,
        provider: str,
        subject: str,
        *,
        new_identity_id: str,
        now: datetime,
    ) -> tuple[Identity, bool]:
        """The login's identity and ``False``, or a new identity ``new_identity_id`` and ``True``.

        Safe across processes: whichever insert of the login commits first wins, and every
        other caller gets that identity back. The insert and the read of the new identity are
        one short transaction (:meth:`Database.run_write`).
        """
        _check_login(provider, subject)
        existing = await self.find_by_login(pool_id, provider, subject)
        if existing is not None:
            return existing, False
        values = _identity_values(account_id, pool_id, new_identity_id, now)
        login = _login_values(pool_id, provider, subject, new_identity_id, now)
        try:
            created = await self._db.run_write(
                lambda connection: _created(connection, values, login)
            )
        except IntegrityError as error:
            winner = await self.find_by_login(pool_id, provider, subject)
            if winner is None:  # not a lost race: the pool was deleted meanwhile
                raise _pool_gone(pool_id) from error
            return winner, False
        return created, True

    async def _insert_identity(
        self,
        connection: AsyncConnection,
        account_id: str,
        pool_id: str,
        identity_id: str,
        now: datetime,
    ) -> None:
        values = _identity_values(account_id, pool_id, identity_id, now)
        await connection.execute(_INSERT_IDENTITY, values)

    async def link(
        self,
        identity_id: str,
        provider: str,
        subject: str,
        *,
        one_per_provider: bool,
        now: datetime,
    ) -> None:
        """Link login ``(provider, subject)`` to the identity; linking it again changes nothing.

        ``ResourceConflictException`` if the login belongs to another identity (the caller
        merges instead) or, with ``one_per_provider`` (public providers), if the identity
        already has a different login of ``provider``.
        """
        _check_login(provider, subject)
        try:
            async with self._db.plain_write() as connection:
                identity = await self._require_enabled(connection, identity_id)
                await self._check_link(connection, identity, provider, subject, one_per_provider)
                owner = await _owner_of_login(connection, identity.pool_id, provider, subject)
                if owner is None:
                    await _insert_login(
                        connection, identity.pool_id, provider, subject, identity_id, now
                    )
                    await _touch(connection, identity_id, now)
        except IntegrityError as error:
            raise ResourceConflict(
                f"The {provider} login was linked to another identity at the same time."
            ) from error

    async def _require_enabled(self, connection: AsyncConnection, identity_id: str) -> Identity:
        identity = await _load(connection, identity_id)
        if identity is None:
            raise _not_found(identity_id)
        if identity.disabled:
            raise ResourceConflict(f"Identity {identity_id} was merged and is disabled.")
        return identity

    async def _check_link(
        self,
        connection: AsyncConnection,
        identity: Identity,
        provider: str,
        subject: str,
        one_per_provider: bool,
    ) -> None:
        owner = await _owner_of_login(connection, identity.pool_id, provider, subject)
        if owner is not None and owner != identity.identity_id:
            raise ResourceConflict(f"The {provider} login is already linked to another identity.")
        if owner is None and one_per_provider and provider in identity.logins:
            raise ResourceConflict(
                f"Identity {identity.identity_id} already has a {provider} login; "
                "only one login per provider is allowed."
            )

    async def merge(self, source_id: str, survivor_id: str, now: datetime) -> Identity:
        """Move the source's logins to the survivor and disable the source (pointing at it)."""
        async with self._db.plain_write() as connection:
            source = await self._require_enabled(connection, source_id)
            survivor = await self._require_enabled(connection, survivor_id)
            if source.pool_id != survivor.pool_id or source_id == survivor_id:
                raise ResourceConflict("Only two different identities of one pool can be merged.")
            await connection.execute(
                sa.update(identity_logins)
                .where(identity_logins.c.identity_id == source_id)
                .values(identity_id=survivor_id)
            )
            await connection.execute(
                sa.update(identities)
                .where(
                    sa.or_(
                        identities.c.identity_id == source_id,
                        identities.c.merged_into == source_id,
                    )
                )
                .values(merged_into=survivor_id, last_modified_date=now)
            )
            await _touch(connection, survivor_id, now)
            merged = await _load(connection, survivor_id)
        if merged is None:
            raise _not_found(survivor_id)
        return merged

    async def unlink(
        self, identity_id: str, provider: str, subject: str | None, now: datetime
    ) -> int:
        """Remove the identity's logins of ``provider`` (only ``subject`` when given).

        Returns how many were removed. The login is free afterwards: the next ``GetId`` with it
        creates a new identity (``UnlinkIdentity``, ``UnlinkDeveloperIdentity``).
        """
        async with self._db.plain_write() as connection:
            await self._require_enabled(connection, identity_id)
            query = sa.delete(identity_logins).where(
                identity_logins.c.identity_id == identity_id,
                identity_logins.c.provider == provider,
            )
            if subject is not None:
                query = query.where(identity_logins.c.subject == subject)
            removed = (await connection.execute(query)).rowcount
            if removed:
                await _touch(connection, identity_id, now)
        return int(removed)

    async def list(
        self,
        account_id: str,
        pool_id: str,
        *,
        after: str | None,
        limit: int,
        hide_disabled: bool,
    ) -> IdentityPage:
        """Identities of the pool in id order, resuming after the identity id ``after``."""
        async with self._db.read() as connection:
            order = sortable(identities.c.identity_id, connection.dialect.name)
            query = sa.select(identities).where(
                identities.c.pool_id == pool_id, identities.c.account_id == account_id
            )
            if hide_disabled:
                query = query.where(identities.c.merged_into.is_(None))
            if after is not None:
                query = query.where(order > after)
            rows = (await connection.execute(query.order_by(order).limit(limit + 1))).all()
            kept = rows[:limit]
            providers = await _providers_of(connection, [str(row.identity_id) for row in kept])
        found = tuple(_identity(row, providers[str(row.identity_id)]) for row in kept)
        return IdentityPage(found, found[-1].identity_id if len(rows) > limit else None)

    async def delete_many(self, account_id: str, identity_ids: Sequence[str]) -> tuple[str, ...]:
        """Delete the identities (and their logins); returns the ids not found in the account."""
        wanted = list(dict.fromkeys(identity_ids))
        async with self._db.plain_write() as connection:
            query = sa.select(identities.c.identity_id).where(
                identities.c.identity_id.in_(wanted), identities.c.account_id == account_id
            )
            present = [str(value) for value in (await connection.execute(query)).scalars()]
            if present:
                await connection.execute(
                    sa.delete(identity_logins).where(identity_logins.c.identity_id.in_(present))
                )
                await connection.execute(
                    sa.delete(identities).where(identities.c.identity_id.in_(present))
                )
        return tuple(identity_id for identity_id in wanted if identity_id not in set(present))


def _identity_values(
    account_id: str, pool_id: str, identity_id: str, now: datetime
) -> dict[str, object]:
    return {
        "identity_id": identity_id,
        "pool_id": pool_id,
        "account_id": account_id,
        "merged_into": None,
        "create_date": now,
        "last_modified_date": now,
    }


def _login_values(
    pool_id: str, provider: str, subject: str, identity_id: str, now: datetime
) -> dict[str, object]:
    return {
        "pool_id": pool_id,
        "login_key": login_key(provider, subject),
        "provider": provider,
        "subject": subject,
        "identity_id": identity_id,
        "create_date": now,
    }


_INSERT_IDENTITY = sa.insert(identities)
_INSERT_LOGIN = sa.insert(identity_logins)


def _created(
    connection: Connection, identity: dict[str, object], login: dict[str, object] | None
) -> Identity:
    """Insert a new identity (and its first login), then read it back as stored (blocking: it
    runs inside :meth:`Database.run_write`)."""
    connection.execute(_INSERT_IDENTITY, identity)
    if login is not None:
        connection.execute(_INSERT_LOGIN, login)
    created = _one(connection.execute(_BY_ID, {"identity_id": identity["identity_id"]}).all())
    if created is None:  # pragma: no cover - just inserted in this transaction
        raise _not_found(str(identity["identity_id"]))
    return created


async def _insert_login(
    connection: AsyncConnection,
    pool_id: str,
    provider: str,
    subject: str,
    identity_id: str,
    now: datetime,
) -> None:
    values = _login_values(pool_id, provider, subject, identity_id, now)
    await connection.execute(_INSERT_LOGIN, values)


async def _touch(connection: AsyncConnection, identity_id: str, now: datetime) -> None:
    await connection.execute(
        sa.update(identities)
        .where(identities.c.identity_id == identity_id)
        .values(last_modified_date=now)
    )

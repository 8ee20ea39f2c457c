"""Sealing keys in the database, wrapped by the master key; loading the ring and rotating it.

Rows hold the key id, its purpose, the wrapped secret (:func:`webfed.core.keys.wrap_key`),
``created_at``, ``retired_at`` and ``not_after`` (the moment the key stops unsealing). A partial
unique index allows one unretired key per purpose, which makes both "create the first key" and
"rotate" safe when several nodes do them at once: the loser of the race gets an
``IntegrityError``, re-reads, and uses the winner's key.

Keys are global (not per account), so writes here do not touch the per-account revision
counter; each node reloads its ring on a timer (see ``docs/credentials.md``).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from webfed.core.keys import (
    RETIRED_KEY_GRACE,
    SEALING_LEAD,
    KeyRing,
    MasterKey,
    SealingKey,
    new_sealing_key,
    unwrap_key,
    wrap_key,
)
from webfed.errors import MasterKeyError
from webfed.storage.database import Database
from webfed.storage.schema import UtcDateTime, metadata

__all__ = [
    "SEALING",
    "HasKeys",
    "SealingKeyRepository",
    "StoredKey",
    "load_key_ring",
    "rotate_keys",
    "sealing_keys",
]

SEALING = "sealing"
_RACE_RETRIES = 5

sealing_keys = sa.Table(
    "sealing_keys",
    metadata,
    sa.Column("key_id", sa.String(8), primary_key=True),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("retired_at", UtcDateTime, nullable=True),
    sa.Column("not_after", UtcDateTime, nullable=True),
)
sa.Index(
    "uq_sealing_keys_active_purpose",
    sealing_keys.c.purpose,
    unique=True,
    sqlite_where=sealing_keys.c.retired_at.is_(None),
    postgresql_where=sealing_keys.c.retired_at.is_(None),
)


@dataclass(frozen=True, slots=True)
class StoredKey:
    """One row: a key as the database keeps it (the secret still wrapped)."""

    key_id: str
    purpose: str
    wrapped: bytes = field(repr=False)
    created_at: datetime
    retired_at: datetime | None
    not_after: datetime | None

    def unwrap(self, master: MasterKey) -> SealingKey:
        key = unwrap_key(
            master, self.wrapped, created_at=self.created_at, retired_at=self.retired_at
        )
        if key.key_id != self.key_id:  # a blob copied onto another row
            raise MasterKeyError(f"stored sealing key {self.key_id} holds another key's blob")
        return key


def _stored(row: Row[tuple[object, ...]]) -> StoredKey:
    mapping = row._mapping
    return StoredKey(
        key_id=str(mapping["key_id"]),
        purpose=str(mapping["purpose"]),
        wrapped=bytes(mapping["wrapped"]),
        created_at=mapping["created_at"],
        retired_at=mapping["retired_at"],
        not_after=mapping["not_after"],
    )


class SealingKeyRepository:
    """List, add, retire and prune stored keys."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def list(self, purpose: str = SEALING) -> tuple[StoredKey, ...]:
        """Every key of ``purpose``, oldest first."""
        query = (
            sa.select(sealing_keys)
            .where(sealing_keys.c.purpose == purpose)
            .order_by(sealing_keys.c.created_at, sealing_keys.c.key_id)
        )
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_stored(row) for row in rows)

    async def add(self, key: StoredKey) -> None:
        """Insert a key; ``IntegrityError`` if its id exists or another key is already current."""
        async with self._db.plain_write() as connection:
            await connection.execute(sa.insert(sealing_keys).values(**_values(key)))

    async def retire(self, key_id: str, *, now: datetime, not_after: datetime) -> None:
        """Mark a key retired; it keeps unsealing until ``not_after``. Idempotent."""
        async with self._db.plain_write() as connection:
            await connection.execute(_retire_statement(now, not_after, key_id=key_id))

    async def replace_current(self, key: StoredKey, *, now: datetime, not_after: datetime) -> None:
        """In one transaction: retire the current key of ``key.purpose`` and add ``key``."""
        async with self._db.plain_write() as connection:
            await connection.execute(_retire_statement(now, not_after, purpose=key.purpose))
            await connection.execute(sa.insert(sealing_keys).values(**_values(key)))

    async def prune(self, now: datetime, purpose: str = SEALING) -> int:
        """Delete keys whose grace period has ended; return how many."""
        async with self._db.plain_write() as connection:
            result = await connection.execute(
                sa.delete(sealing_keys).where(
                    sealing_keys.c.purpose == purpose, sealing_keys.c.not_after <= now
                )
            )
        return int(result.rowcount or 0)


def _values(key: StoredKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "purpose": key.purpose,
        "wrapped": key.wrapped,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
        "not_after": key.not_after,
    }


def _retire_statement(
    now: datetime, not_after: datetime, *, key_id: str | None = None, purpose: str | None = None
) -> sa.Update:
    statement = sa.update(sealing_keys).where(sealing_keys.c.retired_at.is_(None))
    if key_id is not None:
        statement = statement.where(sealing_keys.c.key_id == key_id)
    if purpose is not None:
        statement = statement.where(sealing_keys.c.purpose == purpose)
    return statement.values(retired_at=now, not_after=not_after)


# --- the shell around the pure key ring -------------------------------------------------------


def _to_store(key: SealingKey, master: MasterKey, rng: random.Random) -> StoredKey:
    return StoredKey(
        key_id=key.key_id,
        purpose=SEALING,
        wrapped=wrap_key(master, key, rng),
        created_at=key.created_at,
        retired_at=key.retired_at,
        not_after=key.not_after,
    )


class HasKeys(Protocol):
    """What the key functions need of a ``Store``: its ``keys`` repository."""

    @property
    def keys(self) -> SealingKeyRepository: ...


async def load_key_ring(
    store: HasKeys,
    master: MasterKey,
    now: datetime,
    rng: random.Random | None = None,
    sealing_lead: timedelta = SEALING_LEAD,
) -> KeyRing:
    """The ring of every usable stored key, creating the first key if there is none;
    ``sealing_lead`` as :class:`KeyRing` takes it (more than the nodes' reload interval).

    Raises ``MasterKeyError`` when the master key does not open the stored keys.
    """
    rng = rng or secrets.SystemRandom()
    for _ in range(_RACE_RETRIES):
        keys = [stored.unwrap(master) for stored in await store.keys.list()]
        if any(key.retired_at is None for key in keys):
            return KeyRing(keys, now, sealing_lead)
        try:
            await store.keys.add(_to_store(new_sealing_key(rng, now), master, rng))
        except IntegrityError:
            continue  # another node created the first key between our read and our insert
    raise RuntimeError("could not settle on a current sealing key")  # pragma: no cover


async def rotate_keys(
    store: HasKeys,
    master: MasterKey,
    now: datetime,
    rng: random.Random | None = None,
) -> SealingKey:
    """``webfed keys rotate``: a new current key; the old one keeps unsealing for its grace.

    Keys whose grace has ended are deleted. Returns the new key (its id is for the operator).
    """
    rng = rng or secrets.SystemRandom()
    await store.keys.prune(now)
    for _ in range(_RACE_RETRIES):
        key = new_sealing_key(rng, now)
        stored = _to_store(key, master, rng)
        try:
            await store.keys.replace_current(stored, now=now, not_after=now + RETIRED_KEY_GRACE)
        except IntegrityError:
            continue  # a concurrent rotation won; rotate again on top of it
        return key
    raise RuntimeError("could not rotate the sealing key")  # pragma: no cover

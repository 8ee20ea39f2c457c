"""Repository of IAM OpenID Connect providers.

Follows the IAM API reference pages ``CreateOpenIDConnectProvider`` through
``ListOpenIDConnectProviderTags``: one provider per URL per account, at most 100 providers per
account, at most 100 client ids and 5 thumbprints each, client-id changes idempotent, thumbprint
updates replacing the list, tag keys compared exactly. A provider is addressed by its resource
(the URL without scheme), which is also the tail of its ARN. Beyond IAM, a provider may hold a
static key set for an offline issuer (set by ``webfed apply``, never on IAM's wire).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.entities import OidcProvider, Page, Tag
from webfed.core.identifiers import oidc_provider_arn
from webfed.errors import EntityAlreadyExists, LimitExceeded
from webfed.storage.constraints import TAG_KEY_CONSTRAINTS, mapped_constraints
from webfed.storage.database import Database
from webfed.storage.lookups import require_provider
from webfed.storage.pagination import sortable
from webfed.storage.schema import oidc_provider_tags, oidc_providers
from webfed.storage.tags import insert_tags, list_tag_page, load_tags, merge_tags, remove_tags

__all__ = ["MAX_CLIENT_IDS", "MAX_PROVIDERS", "OidcProviderRepository"]

MAX_PROVIDERS = 100
MAX_CLIENT_IDS = 100
_TAG_QUOTA = "TagsPerOpenIDConnectProvider"


def _provider(row: Row[tuple[object, ...]], tags: tuple[Tag, ...]) -> OidcProvider:
    mapping = row._mapping
    return OidcProvider(
        account_id=str(mapping["account_id"]),
        arn=oidc_provider_arn(str(mapping["account_id"]), str(mapping["resource"])),
        url=str(mapping["url"]),
        client_ids=tuple(mapping["client_ids"]),
        thumbprints=tuple(mapping["thumbprints"]),
        tags=tags,
        create_date=mapping["create_date"],
        static_jwks=mapping["static_jwks"],
    )


class OidcProviderRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account_id: str,
        *,
        url: str,
        resource: str,
        client_ids: Sequence[str],
        thumbprints: Sequence[str],
        tags: Sequence[Tag],
        now: datetime,
    ) -> OidcProvider:
        """Register a provider: ``EntityAlreadyExists`` for a known URL; at most 100."""

        def exists() -> EntityAlreadyExists:
            return EntityAlreadyExists(f"Provider with url {url} already exists.")

        known = {"uq_oidc_providers_account_id_resource": exists, **TAG_KEY_CONSTRAINTS}
        with mapped_constraints(known):
            async with self._db.write(account_id) as connection:
                await self._check_new(connection, account_id, url, resource)
                inserted = await connection.execute(
                    sa.insert(oidc_providers)
                    .values(
                        account_id=account_id,
                        url=url,
                        resource=resource,
                        client_ids=list(dict.fromkeys(client_ids)),
                        thumbprints=list(thumbprints),
                        create_date=now,
                    )
                    .returning(oidc_providers.c.id)
                )
                owner = int(inserted.scalar_one())
                await insert_tags(connection, oidc_provider_tags, owner, tags)
                # Read in the same transaction: a read after the commit could fail and turn
                # a done write into an error.
                return await _load_provider(connection, account_id, resource)

    async def _check_new(
        self, connection: AsyncConnection, account_id: str, url: str, resource: str
    ) -> None:
        mine = oidc_providers.c.account_id == account_id
        existing = await connection.execute(
            sa.select(oidc_providers.c.id).where(mine, oidc_providers.c.resource == resource)
        )
        if existing.first() is not None:
            raise EntityAlreadyExists(f"Provider with url {url} already exists.")
        count = await connection.execute(
            sa.select(sa.func.count()).select_from(oidc_providers).where(mine)
        )
        if count.scalar_one() >= MAX_PROVIDERS:
            raise LimitExceeded(f"Cannot exceed quota for OpenIdConnectProviders: {MAX_PROVIDERS}")

    async def get(self, account_id: str, resource: str) -> OidcProvider:
        async with self._db.read() as connection:
            return await _load_provider(connection, account_id, resource)

    async def find(self, account_id: str, resource: str) -> OidcProvider | None:
        """The provider for ``resource`` (issuer URL without scheme), or ``None``."""
        async with self._db.read() as connection:
            query = sa.select(oidc_providers).where(
                oidc_providers.c.account_id == account_id, oidc_providers.c.resource == resource
            )
            row = (await connection.execute(query)).first()
            if row is None:
                return None
            tags = await load_tags(connection, oidc_provider_tags, [row.id])
        return _provider(row, tags[row.id])

    async def list(self, account_id: str) -> tuple[OidcProvider, ...]:
        """Every provider of the account, in ARN order (IAM does not paginate this list)."""
        async with self._db.read() as connection:
            order = sortable(oidc_providers.c.resource, connection.dialect.name)
            query = (
                sa.select(oidc_providers)
                .where(oidc_providers.c.account_id == account_id)
                .order_by(order)
            )
            rows = (await connection.execute(query)).all()
            tags = await load_tags(connection, oidc_provider_tags, [row.id for row in rows])
        return tuple(_provider(row, tags[row.id]) for row in rows)

    async def delete(self, account_id: str, resource: str) -> None:
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            await connection.execute(
                sa.delete(oidc_provider_tags).where(oidc_provider_tags.c.owner_id == row.id)
            )
            await connection.execute(sa.delete(oidc_providers).where(oidc_providers.c.id == row.id))

    async def add_client_id(self, account_id: str, resource: str, client_id: str) -> None:
        """Add a client id; adding one already present changes nothing."""
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            client_ids = list(row.client_ids)
            if client_id in client_ids:
                return
            if len(client_ids) >= MAX_CLIENT_IDS:
                raise LimitExceeded(
                    f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
                )
            await self._set(connection, row.id, client_ids=[*client_ids, client_id])

    async def remove_client_id(self, account_id: str, resource: str, client_id: str) -> None:
        """Remove a client id; removing one that is absent changes nothing."""
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            remaining = [value for value in row.client_ids if value != client_id]
            await self._set(connection, row.id, client_ids=remaining)

    async def update_thumbprints(
        self, account_id: str, resource: str, thumbprints: Sequence[str]
    ) -> None:
        """Replace the thumbprint list (no merge)."""
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            await self._set(connection, row.id, thumbprints=list(thumbprints))

    async def set_static_keys(
        self, account_id: str, resource: str, static_jwks: str | None
    ) -> None:
        """Store (or with ``None`` remove) the provider's static key set, already checked by
        :func:`webfed.jwks.static.check_static_key_set`. Bumps the IAM revision, so every node
        drops its cached provider and uses the new keys within the revision poll."""
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            await self._set(connection, row.id, static_jwks=static_jwks)

    async def _set(self, connection: AsyncConnection, provider: int, **values: object) -> None:
        await connection.execute(
            sa.update(oidc_providers).where(oidc_providers.c.id == provider).values(**values)
        )

    async def tag(self, account_id: str, resource: str, tags: Sequence[Tag]) -> None:
        with mapped_constraints(TAG_KEY_CONSTRAINTS):
            async with self._db.write(account_id) as connection:
                row = await require_provider(connection, account_id, resource, lock=True)
                await merge_tags(
                    connection, oidc_provider_tags, row.id, tags, quota_name=_TAG_QUOTA
                )

    async def untag(self, account_id: str, resource: str, keys: Sequence[str]) -> None:
        async with self._db.write(account_id) as connection:
            row = await require_provider(connection, account_id, resource, lock=True)
            await remove_tags(connection, oidc_provider_tags, row.id, keys)

    async def list_tags(
        self, account_id: str, resource: str, marker: str | None, max_items: int
    ) -> Page[Tag]:
        async with self._db.read() as connection:
            row = await require_provider(connection, account_id, resource)
            return await list_tag_page(connection, oidc_provider_tags, row.id, marker, max_items)


async def _load_provider(
    connection: AsyncConnection, account_id: str, resource: str
) -> OidcProvider:
    row = await require_provider(connection, account_id, resource)
    tags = await load_tags(connection, oidc_provider_tags, [row.id])
    return _provider(row, tags[row.id])

"""Tables of the Cognito-compatible identity pools (migration 0005).

* ``identity_pools``: one row per pool; the configuration lists (login providers, provider
  ARNs, user-pool clients, roles, role mappings, principal-tag maps) are JSON documents that are
  only ever read and replaced whole, as ``UpdateIdentityPool`` and ``SetIdentityPoolRoles`` do.
* ``identity_pool_tags``: resource tags, keys unique per pool (compared exactly, like Cognito).
* ``identities``: one row per identity; ``merged_into`` points a merged (disabled) identity at
  its survivor.
* ``identity_logins``: which identity a login ``(provider, subject)`` of a pool belongs to. The
  primary key ``(pool_id, login_key)`` is the index ``GetId`` looks logins up by, and the
  guarantee that two processes creating an identity for one login end with exactly one.
  ``login_key`` is the SHA-256 of provider and subject (:func:`login_key`), so the key stays
  small whatever the subject holds (PostgreSQL refuses index entries above about 2,700 bytes,
  and a 1,024-character developer user identifier can reach 4 KiB in UTF-8).
  Developer user identifiers are logins whose provider is the pool's developer provider name.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from webfed.storage.schema import UtcDateTime, metadata

__all__ = ["identities", "identity_logins", "identity_pool_tags", "identity_pools", "login_key"]


def login_key(provider: str, subject: str) -> str:
    """The hex SHA-256 of ``provider NUL subject`` (UTF-8): the indexed name of a login."""
    return hashlib.sha256(f"{provider}\x00{subject}".encode()).hexdigest()


_ID = sa.String(55)

identity_pools = sa.Table(
    "identity_pools",
    metadata,
    sa.Column("pool_id", _ID, primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("configuration", sa.JSON, nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("principal_tag_maps", sa.JSON, nullable=False),
    sa.Column("create_date", UtcDateTime, nullable=False),
    sa.Column("update_date", UtcDateTime, nullable=False),
)
sa.Index(
    "ix_identity_pools_account_id_pool_id", identity_pools.c.account_id, identity_pools.c.pool_id
)

identity_pool_tags = sa.Table(
    "identity_pool_tags",
    metadata,
    sa.Column(
        "owner_id",
        _ID,
        sa.ForeignKey("identity_pools.pool_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("identity_id", _ID, primary_key=True),
    sa.Column(
        "pool_id",
        _ID,
        sa.ForeignKey("identity_pools.pool_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("merged_into", _ID, nullable=True),
    sa.Column("create_date", UtcDateTime, nullable=False),
    sa.Column("last_modified_date", UtcDateTime, nullable=False),
)
sa.Index("ix_identities_pool_id_identity_id", identities.c.pool_id, identities.c.identity_id)

identity_logins = sa.Table(
    "identity_logins",
    metadata,
    sa.Column(
        "pool_id",
        _ID,
        sa.ForeignKey("identity_pools.pool_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("login_key", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(1024), nullable=False),
    sa.Column(
        "identity_id",
        _ID,
        sa.ForeignKey("identities.identity_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("create_date", UtcDateTime, nullable=False),
)
sa.Index("ix_identity_logins_identity_id", identity_logins.c.identity_id)

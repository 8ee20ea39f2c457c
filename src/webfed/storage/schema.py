"""The database schema, as SQLAlchemy Core tables (no ORM).

Every IAM row carries ``account_id``. Case-insensitive uniqueness is enforced by the database
itself, so two concurrent writers can never both succeed: role and managed policy names (ASCII
only) through unique indexes on ``lower(name)``; role and policy tag keys (any letter) through a
unique index on ``folded_key``, the key folded in Python by ``webfed.core.entities.fold_case``,
because SQL ``lower()`` differs between SQLite, PostgreSQL and Python outside ASCII.
``account_revisions`` holds a per-account counter bumped in the same transaction as every IAM
write; nodes compare it to invalidate their caches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "FOLDED_KEY_LENGTH",
    "account_revisions",
    "managed_policies",
    "metadata",
    "oidc_provider_tags",
    "oidc_providers",
    "policy_tags",
    "policy_versions",
    "role_policies",
    "role_policy_attachments",
    "role_tags",
    "roles",
]


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zone type; it stores the naive UTC value and this decorator restores the
    zone on the way out, so both databases return the same values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

_ACCOUNT = sa.String(12)

account_revisions = sa.Table(
    "account_revisions",
    metadata,
    sa.Column("account_id", _ACCOUNT, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)

oidc_providers = sa.Table(
    "oidc_providers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", _ACCOUNT, nullable=False),
    sa.Column("url", sa.String(255), nullable=False),
    sa.Column("resource", sa.String(255), nullable=False),
    sa.Column("client_ids", sa.JSON, nullable=False),
    sa.Column("thumbprints", sa.JSON, nullable=False),
    sa.Column("create_date", UtcDateTime, nullable=False),
    sa.Column("static_jwks", sa.Text, nullable=True),
    sa.UniqueConstraint("account_id", "resource"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("role_id", sa.String(128), primary_key=True),
    sa.Column("account_id", _ACCOUNT, nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("path", sa.String(512), nullable=False),
    sa.Column("trust_policy", sa.Text, nullable=False),
    sa.Column("description", sa.String(1000), nullable=True),
    sa.Column("max_session_duration", sa.Integer, nullable=False),
    sa.Column(
        "boundary_policy_id",
        sa.String(128),
        sa.ForeignKey("managed_policies.policy_id", ondelete="RESTRICT"),
        nullable=True,
    ),
    sa.Column("create_date", UtcDateTime, nullable=False),
    sa.CheckConstraint("max_session_duration BETWEEN 3600 AND 43200", name="max_session_duration"),
)
sa.Index(
    "uq_roles_account_lower_name", roles.c.account_id, sa.func.lower(roles.c.name), unique=True
)

managed_policies = sa.Table(
    "managed_policies",
    metadata,
    sa.Column("policy_id", sa.String(128), primary_key=True),
    sa.Column("account_id", _ACCOUNT, nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("path", sa.String(512), nullable=False),
    sa.Column("description", sa.String(1000), nullable=True),
    sa.Column("next_version", sa.Integer, nullable=False),
    sa.Column("create_date", UtcDateTime, nullable=False),
    sa.Column("update_date", UtcDateTime, nullable=False),
)
sa.Index(
    "uq_managed_policies_account_lower_name",
    managed_policies.c.account_id,
    sa.func.lower(managed_policies.c.name),
    unique=True,
)

policy_versions = sa.Table(
    "policy_versions",
    metadata,
    sa.Column(
        "policy_id",
        sa.String(128),
        sa.ForeignKey("managed_policies.policy_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("create_date", UtcDateTime, nullable=False),
)
sa.Index(
    "uq_policy_versions_one_default",
    policy_versions.c.policy_id,
    unique=True,
    sqlite_where=policy_versions.c.is_default,
    postgresql_where=policy_versions.c.is_default,
)

role_policies = sa.Table(
    "role_policies",
    metadata,
    sa.Column(
        "role_id",
        sa.String(128),
        sa.ForeignKey("roles.role_id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
)

role_policy_attachments = sa.Table(
    "role_policy_attachments",
    metadata,
    sa.Column(
        "role_id",
        sa.String(128),
        sa.ForeignKey("roles.role_id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column(
        "policy_id",
        sa.String(128),
        sa.ForeignKey("managed_policies.policy_id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    sa.Column("attach_date", UtcDateTime, nullable=False),
)


# A folded key is at most twice as long as the 128-character key (only U+0130 grows).
FOLDED_KEY_LENGTH = 256


def _tag_table(
    name: str, owner: str, owner_column: sa.Column[str] | sa.Column[int], *, folded: bool
) -> sa.Table:
    owner_type = owner_column.type
    columns: list[sa.Column[Any]] = [
        sa.Column(
            "owner_id",
            owner_type,
            sa.ForeignKey(f"{owner}.{owner_column.name}", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
    ]
    if folded:
        columns.append(sa.Column("folded_key", sa.String(FOLDED_KEY_LENGTH), nullable=False))
    return sa.Table(name, metadata, *columns)


# Role and policy tag keys are unique per owner after webfed.core.entities.fold_case, which the
# repositories compute and store in ``folded_key``; provider tag keys are compared exactly.
role_tags = _tag_table("role_tags", "roles", roles.c.role_id, folded=True)
sa.Index("uq_role_tags_folded_key", role_tags.c.owner_id, role_tags.c.folded_key, unique=True)

policy_tags = _tag_table(
    "policy_tags", "managed_policies", managed_policies.c.policy_id, folded=True
)
sa.Index("uq_policy_tags_folded_key", policy_tags.c.owner_id, policy_tags.c.folded_key, unique=True)

oidc_provider_tags = _tag_table(
    "oidc_provider_tags", "oidc_providers", oidc_providers.c.id, folded=False
)
sa.Index(
    "uq_oidc_provider_tags_key",
    oidc_provider_tags.c.owner_id,
    oidc_provider_tags.c.key,
    unique=True,
)

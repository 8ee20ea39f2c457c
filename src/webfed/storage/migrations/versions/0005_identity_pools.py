"""Cognito-compatible identity pools, their tags, identities and linked logins.

See ``webfed.storage.identity_schema`` for what each table holds and why the login key is the
primary key of ``identity_logins``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webfed.storage.schema import UtcDateTime

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "identity_pools",
        sa.Column("pool_id", sa.String(length=55), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("configuration", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("principal_tag_maps", sa.JSON(), nullable=False),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.Column("update_date", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", name=op.f("pk_identity_pools")),
    )
    op.create_index(
        "ix_identity_pools_account_id_pool_id", "identity_pools", ["account_id", "pool_id"]
    )
    op.create_table(
        "identity_pool_tags",
        sa.Column("owner_id", sa.String(length=55), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["identity_pools.pool_id"],
            name=op.f("fk_identity_pool_tags_owner_id_identity_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "key", name=op.f("pk_identity_pool_tags")),
    )
    op.create_table(
        "identities",
        sa.Column("identity_id", sa.String(length=55), nullable=False),
        sa.Column("pool_id", sa.String(length=55), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("merged_into", sa.String(length=55), nullable=True),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.Column("last_modified_date", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["identity_pools.pool_id"],
            name=op.f("fk_identities_pool_id_identity_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_identities")),
    )
    op.create_index("ix_identities_pool_id_identity_id", "identities", ["pool_id", "identity_id"])
    op.create_table(
        "identity_logins",
        sa.Column("pool_id", sa.String(length=55), nullable=False),
        sa.Column("login_key", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=1024), nullable=False),
        sa.Column("identity_id", sa.String(length=55), nullable=False),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["identity_pools.pool_id"],
            name=op.f("fk_identity_logins_pool_id_identity_pools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.identity_id"],
            name=op.f("fk_identity_logins_identity_id_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pool_id", "login_key", name=op.f("pk_identity_logins")),
    )
    op.create_index("ix_identity_logins_identity_id", "identity_logins", ["identity_id"])


def downgrade() -> None:
    op.drop_index("ix_identity_logins_identity_id", table_name="identity_logins")
    op.drop_table("identity_logins")
    op.drop_index("ix_identities_pool_id_identity_id", table_name="identities")
    op.drop_table("identities")
    op.drop_table("identity_pool_tags")
    op.drop_index("ix_identity_pools_account_id_pool_id", table_name="identity_pools")
    op.drop_table("identity_pools")

"""Initial IAM schema: OIDC providers, roles, inline and managed policies, tags, revisions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from webfed.storage.schema import UtcDateTime

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _tag_table(name: str, owner_type: sa.types.TypeEngine[Any], owner: str) -> None:
    op.create_table(
        name,
        sa.Column("owner_id", owner_type, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], [owner], name=op.f(f"fk_{name}_owner_id"), ondelete="CASCADE"
        ),
    )


def _identity_tables() -> None:
    op.create_table(
        "account_revisions",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_revisions")),
    )
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("client_ids", sa.JSON(), nullable=False),
        sa.Column("thumbprints", sa.JSON(), nullable=False),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_providers")),
        sa.UniqueConstraint(
            "account_id", "resource", name=op.f("uq_oidc_providers_account_id_resource")
        ),
    )
    _tag_table("oidc_provider_tags", sa.Integer(), "oidc_providers.id")
    op.create_index(
        "uq_oidc_provider_tags_key", "oidc_provider_tags", ["owner_id", "key"], unique=True
    )


def _policy_tables() -> None:
    op.create_table(
        "managed_policies",
        sa.Column("policy_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.Column("update_date", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_managed_policies")),
    )
    op.create_index(
        "uq_managed_policies_account_lower_name",
        "managed_policies",
        ["account_id", sa.text("lower(name)")],
        unique=True,
    )
    op.create_table(
        "policy_versions",
        sa.Column("policy_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["managed_policies.policy_id"],
            name=op.f("fk_policy_versions_policy_id_managed_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy_id", "number", name=op.f("pk_policy_versions")),
    )
    op.create_index(
        "uq_policy_versions_one_default",
        "policy_versions",
        ["policy_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    _tag_table("policy_tags", sa.String(length=128), "managed_policies.policy_id")
    op.create_index(
        "uq_policy_tags_lower_key", "policy_tags", ["owner_id", sa.text("lower(key)")], unique=True
    )


def _role_tables() -> None:
    op.create_table(
        "roles",
        sa.Column("role_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("trust_policy", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("boundary_policy_id", sa.String(length=128), nullable=True),
        sa.Column("create_date", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "max_session_duration BETWEEN 3600 AND 43200",
            name=op.f("ck_roles_max_session_duration"),
        ),
        sa.ForeignKeyConstraint(
            ["boundary_policy_id"],
            ["managed_policies.policy_id"],
            name=op.f("fk_roles_boundary_policy_id_managed_policies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("role_id", name=op.f("pk_roles")),
    )
    op.create_index(
        "uq_roles_account_lower_name", "roles", ["account_id", sa.text("lower(name)")], unique=True
    )
    op.create_table(
        "role_policies",
        sa.Column("role_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_role_policies_role_id_roles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("role_id", "name", name=op.f("pk_role_policies")),
    )
    op.create_table(
        "role_policy_attachments",
        sa.Column("role_id", sa.String(length=128), nullable=False),
        sa.Column("policy_id", sa.String(length=128), nullable=False),
        sa.Column("attach_date", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["managed_policies.policy_id"],
            name=op.f("fk_role_policy_attachments_policy_id_managed_policies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_role_policy_attachments_role_id_roles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("role_id", "policy_id", name=op.f("pk_role_policy_attachments")),
    )
    _tag_table("role_tags", sa.String(length=128), "roles.role_id")
    op.create_index(
        "uq_role_tags_lower_key", "role_tags", ["owner_id", sa.text("lower(key)")], unique=True
    )


def upgrade() -> None:
    _identity_tables()
    _policy_tables()
    _role_tables()


def downgrade() -> None:
    for table in (
        "role_tags",
        "role_policy_attachments",
        "role_policies",
        "roles",
        "policy_tags",
        "policy_versions",
        "managed_policies",
        "oidc_provider_tags",
        "oidc_providers",
        "account_revisions",
    ):
        op.drop_table(table)

"""Sealing keys: the wrapped keys that seal session tokens and authorization messages.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webfed.storage.schema import UtcDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sealing_keys",
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.Column("not_after", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_sealing_keys")),
    )
    # At most one current (unretired) key per purpose: two nodes creating the first key at once,
    # or rotating at once, collide here and the loser re-reads instead of adding a second one.
    active = sa.text("retired_at IS NULL")
    op.create_index(
        "uq_sealing_keys_active_purpose",
        "sealing_keys",
        ["purpose"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )


def downgrade() -> None:
    op.drop_index("uq_sealing_keys_active_purpose", table_name="sealing_keys")
    op.drop_table("sealing_keys")

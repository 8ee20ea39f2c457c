"""Session revocation rules (see ``webfed.storage.revocations`` and docs/revocation.md).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webfed.storage.schema import UtcDateTime

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "session_revocations",
        # INTEGER PRIMARY KEY AUTOINCREMENT on SQLite, a BIGINT identity elsewhere: ids are never
        # reused, which the nodes' change detection (row count, highest id) relies on.
        sa.Column(
            "rule_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2048), nullable=False),
        sa.Column("provider", sa.String(length=2048), nullable=True),
        sa.Column("issued_before", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_session_revocations")),
        sqlite_autoincrement=True,
    )
    # Loading the live rules and pruning the old ones both select by this column.
    op.create_index(
        "ix_session_revocations_issued_before", "session_revocations", ["issued_before"]
    )


def downgrade() -> None:
    op.drop_index("ix_session_revocations_issued_before", table_name="session_revocations")
    op.drop_table("session_revocations")

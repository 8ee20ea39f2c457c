"""Audit events: one CloudTrail-shaped record per call (see docs/audit.md).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webfed.storage.schema import UtcDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        # INTEGER PRIMARY KEY makes SQLite's auto-incrementing rowid; BIGINT identity elsewhere.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("event_time", UtcDateTime(), nullable=False),
        sa.Column("event_source", sa.String(length=64), nullable=False),
        sa.Column("event_name", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=False),
        sa.Column("error_code", sa.String(length=128), nullable=True),
        sa.Column("principal", sa.String(length=1024), nullable=True),
        sa.Column("role_arn", sa.String(length=2048), nullable=True),
        sa.Column("session_name", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    # Retention deletes by time; tail reads one account's newest ids.
    op.create_index("ix_audit_events_event_time", "audit_events", ["event_time"])
    op.create_index("ix_audit_events_account_id_id", "audit_events", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_account_id_id", table_name="audit_events")
    op.drop_index("ix_audit_events_event_time", table_name="audit_events")
    op.drop_table("audit_events")

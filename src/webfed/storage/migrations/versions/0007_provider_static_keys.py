"""A static key set per OpenID Connect provider, for offline issuers (``webfed.jwks.static``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # NULL: the keys are discovered and fetched, as before. ADD COLUMN of a nullable column
    # rewrites nothing on either SQLite or PostgreSQL.
    op.add_column("oidc_providers", sa.Column("static_jwks", sa.Text(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+ has it): a batch copy would drop and re-create the table
    # the provider tags reference.
    op.drop_column("oidc_providers", "static_jwks")

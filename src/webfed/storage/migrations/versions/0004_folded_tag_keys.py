"""Role and policy tag keys: unique on a key folded in Python, not on SQL ``lower(key)``.

SQL ``lower()`` folds differently on SQLite (ASCII only), PostgreSQL (``İ`` becomes ``i``) and
in Python (``İ`` becomes ``i`` plus U+0307), so the old unique index could disagree with the
repositories and turn a valid TagRole into a constraint violation. The new ``folded_key`` column
holds :func:`webfed.core.entities.fold_case` of the key, filled here for existing rows.

Should two stored keys of one owner fold to the same text (possible only for rows written under
PostgreSQL's ``lower()`` rules), the one first in code-point order is kept and the others are
removed, since the unique index cannot hold both.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webfed.core.entities import fold_case

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Each tag table and the column its owner id refers to.
_TABLES = {"role_tags": "roles.role_id", "policy_tags": "managed_policies.policy_id"}
_FOLDED_LENGTH = 256


def _as_built(table_name: str, *, folded_nullable: bool) -> sa.Table:
    """The table as 0001 built it plus ``folded_key``, so SQLite's batch rebuild need not
    reflect it (reflection warns about the expression index on ``roles``)."""
    return sa.Table(
        table_name,
        sa.MetaData(),
        sa.Column("owner_id", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("folded_key", sa.String(length=_FOLDED_LENGTH), nullable=folded_nullable),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            [_TABLES[table_name]],
            name=f"fk_{table_name}_owner_id",
            ondelete="CASCADE",
        ),
    )


def _backfill(table_name: str) -> None:
    table = sa.table(table_name, sa.column("owner_id"), sa.column("key"), sa.column("folded_key"))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.owner_id, table.c.key)).all()
    seen: set[tuple[object, str]] = set()
    for owner, key in sorted(rows, key=lambda row: (str(row[0]), str(row[1]))):
        folded = fold_case(str(key))
        mine = sa.and_(table.c.owner_id == owner, table.c.key == key)
        if (owner, folded) in seen:
            connection.execute(sa.delete(table).where(mine))
            continue
        seen.add((owner, folded))
        connection.execute(sa.update(table).where(mine).values(folded_key=folded))


def upgrade() -> None:
    for table_name in _TABLES:
        op.drop_index(f"uq_{table_name}_lower_key", table_name=table_name)
        op.add_column(
            table_name, sa.Column("folded_key", sa.String(length=_FOLDED_LENGTH), nullable=True)
        )
        _backfill(table_name)
        copy_from = _as_built(table_name, folded_nullable=True)
        with op.batch_alter_table(table_name, copy_from=copy_from) as batch:
            batch.alter_column(
                "folded_key", existing_type=sa.String(length=_FOLDED_LENGTH), nullable=False
            )
        op.create_index(
            f"uq_{table_name}_folded_key", table_name, ["owner_id", "folded_key"], unique=True
        )


def downgrade() -> None:
    for table_name in _TABLES:
        op.drop_index(f"uq_{table_name}_folded_key", table_name=table_name)
        copy_from = _as_built(table_name, folded_nullable=False)
        with op.batch_alter_table(table_name, copy_from=copy_from) as batch:
            batch.drop_column("folded_key")
        op.create_index(
            f"uq_{table_name}_lower_key",
            table_name,
            ["owner_id", sa.text("lower(key)")],
            unique=True,
        )

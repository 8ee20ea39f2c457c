"""Turning a database constraint violation into the IAM error it stands for, by constraint name.

The repositories check every rule inside their write transaction first, so a violation means a
rule the check did not see (a request repeating a tag key under case folding, say). Which IAM
error that is depends on the constraint, never on the mere fact of a violation: a name index
means ``EntityAlreadyExists``, a tag-key index means ``InvalidInput`` (IAM's "Duplicate tag
keys found"), and any other constraint is webfed's own fault (``ServiceFailure``, HTTP 500).

PostgreSQL (psycopg) names the constraint in the error's diagnostics. SQLite names an
expression index (``index 'name'``) but for a plain unique index lists its columns
(``table.a, table.b``), which are looked up among the schema's unique indexes and keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webfed.errors import InvalidInput, ServiceFailure, WebfedError
from webfed.storage.schema import metadata

__all__ = ["TAG_KEY_CONSTRAINTS", "mapped_constraints", "violated_constraint"]

ErrorFactory = Callable[[], WebfedError]
_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def _duplicate_folded_keys() -> WebfedError:
    return InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def _duplicate_exact_keys() -> WebfedError:
    return InvalidInput("Duplicate tag keys found.")


TAG_KEY_CONSTRAINTS: Mapping[str, ErrorFactory] = {
    "uq_role_tags_folded_key": _duplicate_folded_keys,
    "uq_policy_tags_folded_key": _duplicate_folded_keys,
    "uq_oidc_provider_tags_key": _duplicate_exact_keys,
}


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint or index ``error`` reports, or ``None`` if it is not told."""
    diagnostics = getattr(error.orig, "diag", None)
    name = getattr(diagnostics, "constraint_name", None)
    if isinstance(name, str):
        return name
    message = str(error.orig)
    if not message.startswith(_SQLITE_UNIQUE):
        return None
    subject = message.removeprefix(_SQLITE_UNIQUE).strip()
    if subject.startswith("index '") and subject.endswith("'"):
        return subject[len("index '") : -1]
    return _unique_by_columns(tuple(part.strip() for part in subject.split(",")))


def _unique_by_columns(qualified: tuple[str, ...]) -> str | None:
    """The unique index, unique constraint or primary key over exactly these columns."""
    tables = {column.partition(".")[0] for column in qualified}
    if len(tables) != 1:
        return None
    table = metadata.tables.get(tables.pop())
    if table is None:
        return None
    wanted = tuple(column.partition(".")[2] for column in qualified)
    for name, columns in _unique_column_sets(table):
        if columns == wanted:
            return name
    return None


def _unique_column_sets(table: sa.Table) -> Iterator[tuple[str, tuple[str, ...]]]:
    for index in table.indexes:
        if index.unique and index.name is not None:
            yield str(index.name), tuple(column.name for column in index.columns)
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint) and isinstance(
            constraint.name, str
        ):
            yield constraint.name, tuple(column.name for column in constraint.columns)


@contextmanager
def mapped_constraints(known: Mapping[str, ErrorFactory]) -> Iterator[None]:
    """Re-raise an ``IntegrityError`` as the IAM error its constraint stands for.

    A constraint not in ``known`` becomes ``ServiceFailure``: it is a webfed defect, and must
    not be reported as the caller's conflict.
    """
    try:
        yield
    except IntegrityError as error:
        factory = known.get(violated_constraint(error) or "")
        if factory is None:
            raise ServiceFailure("The request could not be stored.") from error
        raise factory() from error

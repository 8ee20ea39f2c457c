"""Reading role rows, with the boundary policy's ARN joined in."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Row

from webfed.core.entities import Role, Tag
from webfed.core.identifiers import policy_arn, role_arn
from webfed.storage.schema import managed_policies, roles

__all__ = ["role_from_row", "role_query"]

_boundary = managed_policies.alias("boundary")


def role_query() -> sa.Select[tuple[object, ...]]:
    """``SELECT`` of role columns plus ``boundary_path``/``boundary_name`` (NULL without one)."""
    joined = roles.outerjoin(_boundary, roles.c.boundary_policy_id == _boundary.c.policy_id)
    return sa.select(
        roles,
        _boundary.c.path.label("boundary_path"),
        _boundary.c.name.label("boundary_name"),
    ).select_from(joined)


def role_from_row(row: Row[tuple[object, ...]], tags: tuple[Tag, ...]) -> Role:
    values = row._mapping
    account_id = str(values["account_id"])
    boundary = None
    if values["boundary_name"] is not None:
        boundary = policy_arn(
            account_id, str(values["boundary_path"]), str(values["boundary_name"])
        )
    description = values["description"]
    return Role(
        account_id=account_id,
        role_id=str(values["role_id"]),
        name=str(values["name"]),
        path=str(values["path"]),
        arn=role_arn(account_id, str(values["path"]), str(values["name"])),
        trust_policy=str(values["trust_policy"]),
        description=None if description is None else str(description),
        max_session_duration=cast(int, values["max_session_duration"]),
        permissions_boundary_arn=boundary,
        tags=tags,
        create_date=cast(datetime, values["create_date"]),
    )

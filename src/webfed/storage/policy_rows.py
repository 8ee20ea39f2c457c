"""Reading managed policy rows with their default version and usage counts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Row

from webfed.core.entities import ManagedPolicy, PolicyVersion, Tag
from webfed.core.identifiers import policy_arn
from webfed.storage.schema import managed_policies, policy_versions, role_policy_attachments, roles

__all__ = ["policy_from_row", "policy_query", "version_from_row", "version_id"]


def version_id(number: int) -> str:
    """IAM's version identifier: ``v1``, ``v2``, ..."""
    return f"v{number}"


def _attachment_count() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .select_from(role_policy_attachments)
        .where(role_policy_attachments.c.policy_id == managed_policies.c.policy_id)
        .scalar_subquery()
    )


def _boundary_count() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .select_from(roles)
        .where(roles.c.boundary_policy_id == managed_policies.c.policy_id)
        .scalar_subquery()
    )


def policy_query() -> sa.Select[tuple[object, ...]]:
    """Policy columns plus ``default_number``, ``attachment_count``, ``boundary_count``."""
    default = (
        sa.select(policy_versions.c.number)
        .where(
            policy_versions.c.policy_id == managed_policies.c.policy_id,
            policy_versions.c.is_default,
        )
        .scalar_subquery()
    )
    return sa.select(
        managed_policies,
        default.label("default_number"),
        _attachment_count().label("attachment_count"),
        _boundary_count().label("boundary_count"),
    )


def policy_from_row(row: Row[tuple[object, ...]], tags: tuple[Tag, ...]) -> ManagedPolicy:
    values = row._mapping
    account_id = str(values["account_id"])
    description = values["description"]
    return ManagedPolicy(
        account_id=account_id,
        policy_id=str(values["policy_id"]),
        name=str(values["name"]),
        path=str(values["path"]),
        arn=policy_arn(account_id, str(values["path"]), str(values["name"])),
        description=None if description is None else str(description),
        default_version_id=version_id(cast(int, values["default_number"])),
        attachment_count=cast(int, values["attachment_count"]),
        permissions_boundary_usage_count=cast(int, values["boundary_count"]),
        tags=tags,
        create_date=cast(datetime, values["create_date"]),
        update_date=cast(datetime, values["update_date"]),
    )


def version_from_row(row: Row[tuple[object, ...]]) -> PolicyVersion:
    values = row._mapping
    return PolicyVersion(
        version_id=version_id(cast(int, values["number"])),
        document=str(values["document"]),
        is_default=bool(values["is_default"]),
        create_date=cast(datetime, values["create_date"]),
    )

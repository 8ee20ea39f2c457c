"""IAM entities as frozen values, returned by the storage repositories.

Each class mirrors one IAM object of the IAM API reference (``OpenIDConnectProvider``, ``Role``,
inline role policy, ``ManagedPolicy``, ``PolicyVersion``). Documents are held exactly as the caller
sent them (IAM URL-encodes them only on the wire). Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

__all__ = [
    "AttachedPolicy",
    "ManagedPolicy",
    "OidcProvider",
    "Page",
    "PolicyVersion",
    "Role",
    "RolePermissions",
    "RolePolicy",
    "Tag",
    "fold_case",
]

T = TypeVar("T")


def fold_case(text: str) -> str:
    """The one case folding webfed applies wherever IAM ignores letter case.

    IAM treats role names, managed policy names and role and policy tag keys as equal when they
    differ only in case ("IAM identifiers"; "Tagging IAM resources"). webfed folds with the
    Unicode full lowercase mapping (Python's ``str.lower``, which is also what Java's
    ``toLowerCase(Locale.ROOT)`` does), computed in Python and never by the database: SQLite's
    ``lower()`` folds ASCII only, and PostgreSQL's maps some letters differently (``İ`` to
    ``i`` where Unicode gives ``i`` plus a combining dot). Only ``İ`` grows (to two characters).
    """
    return text.lower()


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``marker`` is set exactly when more items follow."""

    items: tuple[T, ...]
    marker: str | None = None

    @property
    def is_truncated(self) -> bool:
        return self.marker is not None


@dataclass(frozen=True, slots=True)
class OidcProvider:
    account_id: str
    arn: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    tags: tuple[Tag, ...]
    create_date: datetime
    #: The issuer's JWK Set as canonical JSON, for an offline issuer: its keys are never fetched.
    static_jwks: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    account_id: str
    role_id: str
    name: str
    path: str
    arn: str
    trust_policy: str
    description: str | None
    max_session_duration: int
    permissions_boundary_arn: str | None
    tags: tuple[Tag, ...]
    create_date: datetime


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """An inline policy embedded in a role."""

    role_name: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    account_id: str
    policy_id: str
    name: str
    path: str
    arn: str
    description: str | None
    default_version_id: str
    attachment_count: int
    permissions_boundary_usage_count: int
    tags: tuple[Tag, ...]
    create_date: datetime
    update_date: datetime


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version_id: str
    document: str
    is_default: bool
    create_date: datetime


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class RolePermissions:
    """Everything the policy engine needs to authorize a session of one role.

    ``inline`` and ``managed`` are ``(name or ARN, document)`` pairs; ``managed`` holds the default
    version of each attached policy; ``boundary`` is the default version of the boundary policy.
    """

    role: Role
    inline: tuple[tuple[str, str], ...]
    managed: tuple[tuple[str, str], ...]
    boundary: str | None

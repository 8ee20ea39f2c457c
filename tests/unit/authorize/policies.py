"""An in-memory policy source (the role's policies as the IAM cache would hand them over)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.unit.authorize.helpers import ACCOUNT, NOW
from webfed.core.entities import Role, Tag
from webfed.core.policy import Policy, PolicyKind, parse_policy
from webfed.iam_cache import RolePolicies

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action: str | list[str], resource: str = "*", **condition: Any) -> dict[str, Any]:
    return allow(action, resource, **condition) | {"Effect": "Deny"}


def game_role(*, tags: tuple[Tag, ...] = (), role_id: str = "AROAGAMEPLAYEREXAMPLE") -> Role:
    return Role(
        account_id=ACCOUNT,
        role_id=role_id,
        name="GamePlayer",
        path="/game/",
        arn=f"arn:aws:iam::{ACCOUNT}:role/game/GamePlayer",
        trust_policy=TRUST,
        description=None,
        max_session_duration=3600,
        permissions_boundary_arn=None,
        tags=tags,
        create_date=NOW,
    )


@dataclass
class Policies:
    """The ``PolicySource`` protocol over plain documents; ``role`` ``None`` = deleted."""

    role: Role | None = field(default_factory=game_role)
    identity: list[str] = field(default_factory=list)
    boundary: str | None = None
    managed: dict[str, str] = field(default_factory=dict)
    _cached: RolePolicies | None = None
    reads: int = 0

    def change(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        self._cached = None

    async def role_policies(self, name: str) -> RolePolicies | None:
        self.reads += 1
        if self.role is None or name.lower() != self.role.name.lower():
            return None
        if self._cached is None:
            identity = tuple(
                parse_policy(text, PolicyKind.IDENTITY, name=f"inline-{index}")
                for index, text in enumerate(self.identity)
            )
            boundary = (
                None
                if self.boundary is None
                else parse_policy(self.boundary, PolicyKind.BOUNDARY, name="boundary")
            )
            self._cached = RolePolicies(self.role, identity, boundary)
        return self._cached

    async def managed_policy(self, arn: str) -> Policy | None:
        text = self.managed.get(arn)
        return None if text is None else parse_policy(text, PolicyKind.IDENTITY, name=arn)

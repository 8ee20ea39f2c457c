"""The request being authorized: who, which action, on which resource, with which context keys.

IAM User Guide, "Policy evaluation logic" ("the request context") and "AWS global condition
context keys". The principal-derived global keys (``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:userid``, ``aws:FederatedProvider``) and, when ``now`` is given, the
time keys (``aws:CurrentTime``, ``aws:EpochTime``) are filled in unless the caller supplied them.
The core never reads the clock: ``now`` comes from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from webfed.core.arn import arn_components
from webfed.core.policy.context import ContextValues, build_context
from webfed.core.policy.principals import (
    Principal,
    RoleSessionPrincipal,
    RootPrincipal,
    WebIdentityPrincipal,
)

__all__ = ["AuthorizationRequest", "principal_context"]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A request to authorize. ``context`` keys are lowercased on construction.

    ``action_lower`` and ``resource_parts`` (the six ARN components, or ``None`` when the
    resource is not an ARN, e.g. ``*``; also split as ``resource_head``, the first five, and
    ``resource_tail``, the resource part) are computed once so evaluation does not redo them.
    """

    principal: Principal
    action: str
    resource: str
    context: ContextValues = field(default_factory=dict)
    # True when ``context`` is already what build_context returns (lowercased names, str or
    # tuple values): hot paths that build it themselves skip the second pass.
    normalized: bool = field(default=False, repr=False, compare=False)
    action_lower: str = field(init=False, repr=False, compare=False)
    resource_parts: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    resource_head: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    resource_tail: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.normalized:
            object.__setattr__(self, "context", build_context(self.context))
        object.__setattr__(self, "action_lower", self.action.lower())
        parts = arn_components(self.resource)
        object.__setattr__(self, "resource_parts", parts)
        object.__setattr__(self, "resource_head", None if parts is None else parts[:5])
        object.__setattr__(self, "resource_tail", "" if parts is None else parts[5])

    @classmethod
    def build(
        cls,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, str | Sequence[str]] | None = None,
        *,
        now: datetime | None = None,
    ) -> AuthorizationRequest:
        """Build a request, adding the principal's global keys and, given ``now``, time keys."""
        values = build_context(principal_context(principal))
        if now is not None:
            values.update(build_context(_time_context(now)))
        values.update(build_context(context or {}))
        return cls(principal, action, resource, values)


def principal_context(principal: Principal) -> dict[str, str]:
    """The global condition keys AWS derives from the principal itself."""
    if isinstance(principal, RoleSessionPrincipal):
        return {
            "aws:PrincipalArn": principal.role_arn,
            "aws:PrincipalAccount": principal.account,
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": f"{principal.role_id}:{principal.session_name}",
        }
    if isinstance(principal, RootPrincipal):
        return {
            "aws:PrincipalArn": principal.arn,
            "aws:PrincipalAccount": principal.account,
            "aws:PrincipalType": "Account",
            "aws:userid": principal.account,
        }
    if isinstance(principal, WebIdentityPrincipal):
        return {"aws:FederatedProvider": principal.provider, "aws:PrincipalType": "WebIdentityUser"}
    return {"aws:PrincipalServiceName": principal.service}


def _time_context(now: datetime) -> dict[str, str]:
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return {
        "aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(moment.timestamp())),
    }

"""The frozen, compiled form of a policy: what :func:`parse_policy` returns and evaluation walks.

IAM User Guide, "IAM JSON policy element reference" and "IAM and AWS STS quotas". Nothing here
holds JSON: every element is already a matcher (actions lowercased into an exact set plus one
escaped regex; resources split into ARN components; conditions compiled per operator), so
evaluation builds no regex and inspects no dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from webfed.core.policy.conditions import Condition
from webfed.core.policy.decision import StatementRef
from webfed.core.policy.principals import PrincipalMatcher
from webfed.core.policy.variables import DynamicGlob
from webfed.core.policy.wildcard import StaticGlob

if TYPE_CHECKING:
    from webfed.core.policy.request import AuthorizationRequest

__all__ = [
    "DOCUMENT_MAX_CHARACTERS",
    "INLINE_GROUP_AGGREGATE_LIMIT",
    "INLINE_ROLE_AGGREGATE_LIMIT",
    "INLINE_USER_AGGREGATE_LIMIT",
    "MANAGED_POLICY_LIMIT",
    "SESSION_POLICY_LIMIT",
    "SIZE_LIMITS",
    "TRUST_POLICY_LIMIT_DEFAULT",
    "TRUST_POLICY_LIMIT_MAXIMUM",
    "ActionMatcher",
    "Effect",
    "Policy",
    "PolicyKind",
    "ResourcePattern",
    "Statement",
    "policy_size",
]

INLINE_ROLE_AGGREGATE_LIMIT = 10_240
INLINE_USER_AGGREGATE_LIMIT = 2_048
INLINE_GROUP_AGGREGATE_LIMIT = 5_120
MANAGED_POLICY_LIMIT = 6_144
TRUST_POLICY_LIMIT_DEFAULT = 2_048
TRUST_POLICY_LIMIT_MAXIMUM = 4_096
SESSION_POLICY_LIMIT = 2_048
DOCUMENT_MAX_CHARACTERS = 131_072
"""The IAM API's maximum length of any policy document parameter (checked before parsing)."""

_WHITESPACE = re.compile(r"[ \t\n\r]+")


class PolicyKind(Enum):
    """Where a policy is attached; decides which elements it may and must have."""

    IDENTITY = "identity"
    TRUST = "trust"
    RESOURCE = "resource"
    SESSION = "session"
    BOUNDARY = "boundary"
    GUARDRAIL = "guardrail"

    @property
    def needs_principal(self) -> bool:
        """Trust and resource policies must name a principal; the others must not."""
        return self in (PolicyKind.TRUST, PolicyKind.RESOURCE)


SIZE_LIMITS: dict[str, int] = {
    "inline_role_aggregate": INLINE_ROLE_AGGREGATE_LIMIT,
    "inline_user_aggregate": INLINE_USER_AGGREGATE_LIMIT,
    "inline_group_aggregate": INLINE_GROUP_AGGREGATE_LIMIT,
    "managed": MANAGED_POLICY_LIMIT,
    "trust_default": TRUST_POLICY_LIMIT_DEFAULT,
    "trust_maximum": TRUST_POLICY_LIMIT_MAXIMUM,
    "session": SESSION_POLICY_LIMIT,
    "document_maximum": DOCUMENT_MAX_CHARACTERS,
}
"""Per-kind limits in characters, whitespace excluded; the caller picks the error."""


def policy_size(document: str) -> int:
    """Characters of ``document`` not counting whitespace, the way IAM measures policy size."""
    return len(document) - sum(len(run) for run in _WHITESPACE.findall(document))


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class ActionMatcher:
    """``Action``/``NotAction`` values, lowercased: an exact set plus the wildcard patterns."""

    sources: tuple[str, ...]
    exact: frozenset[str]
    globs: tuple[StaticGlob, ...]

    def matches(self, action_lower: str) -> bool:
        if action_lower in self.exact:
            return True
        return any(glob.matches(action_lower) for glob in self.globs)


@dataclass(frozen=True, slots=True)
class ResourcePattern:
    """One ``Resource`` value: ``*``, or an ARN whose first five components match separately.

    ``head`` holds the partition, service, region and account components as literal text when
    none has a wildcard (one tuple comparison), else ``head_globs`` holds them compiled. The
    resource part is either static (``static``) or holds policy variables (``dynamic``).
    """

    source: str
    everything: bool
    head: tuple[str, ...] | None
    head_globs: tuple[StaticGlob, ...] | None
    static: StaticGlob | None
    dynamic: DynamicGlob | None

    def matches(self, request: AuthorizationRequest) -> bool | None:
        """True/False, or ``None`` when a policy variable in it cannot be resolved."""
        if self.everything:
            return True
        head = request.resource_head
        if head is None:
            return False
        if self.head is not None:
            if self.head != head:
                return False
        elif not self._head_globs_match(head):
            return False
        if self.static is not None:
            return self.static.matches(request.resource_tail)
        assert self.dynamic is not None
        return self.dynamic.matches(request.resource_tail, request.context)

    def _head_globs_match(self, head: tuple[str, ...]) -> bool:
        assert self.head_globs is not None
        return all(glob.matches(part) for glob, part in zip(self.head_globs, head, strict=True))


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement; ``index`` is its position in the policy (0-based)."""

    index: int
    sid: str
    effect: Effect
    principal: PrincipalMatcher | None
    not_principal: bool
    actions: ActionMatcher
    not_action: bool
    resources: tuple[ResourcePattern, ...] | None
    not_resource: bool
    conditions: tuple[Condition, ...]

    def action_applies(self, action_lower: str) -> bool:
        return self.actions.matches(action_lower) != self.not_action

    def resource_applies(self, request: AuthorizationRequest) -> bool:
        """Whether the resource element covers the request's resource.

        An unresolved variable matches no resource in ``Resource`` (AWS). In ``NotResource``
        AWS is silent; webfed fails closed: such a value excludes the resource from an Allow
        and does not exclude it from a Deny.
        """
        if self.resources is None:
            return True
        hit = False
        for pattern in self.resources:
            found = pattern.matches(request)
            if found is None:
                found = self.not_resource and self.effect is Effect.ALLOW
            if found:
                hit = True
                break
        return hit != self.not_resource


_CANDIDATE_CACHE_LIMIT = 2048


@dataclass(frozen=True, eq=False)
class Policy:
    """A parsed and compiled policy document. Hashable by identity; keeps its source text."""

    name: str
    kind: PolicyKind
    document: str
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    has_deny: bool
    has_allow: bool
    action_index: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Memo: lowercased action -> (Allow statements, Deny statements) whose action element
    covers it. Filled by :meth:`index_action`; bounded; shared by named copies."""
    refs: tuple[StatementRef, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        refs = tuple(StatementRef(self.name, s.index, s.sid) for s in self.statements)
        object.__setattr__(self, "refs", refs)

    def __repr__(self) -> str:
        return (
            f"Policy(name={self.name!r}, kind={self.kind.value}, statements={len(self.statements)})"
        )

    def statements_for(self, action_lower: str) -> tuple[Statement, ...]:
        """The statements whose ``Action``/``NotAction`` covers the action, in order."""
        allows, denies = self.action_index.get(action_lower) or self.index_action(action_lower)
        return tuple(sorted(allows + denies, key=lambda statement: statement.index))

    def allows_for(self, action_lower: str) -> tuple[Statement, ...]:
        """The Allow statements whose action element covers the action (memoised)."""
        return (self.action_index.get(action_lower) or self.index_action(action_lower))[0]

    def denies_for(self, action_lower: str) -> tuple[Statement, ...]:
        """The Deny statements whose action element covers the action (memoised)."""
        return (self.action_index.get(action_lower) or self.index_action(action_lower))[1]

    def index_action(
        self, action_lower: str
    ) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """Compute (and, while the memo has room, remember) the statements for an action."""
        covering = [s for s in self.statements if s.action_applies(action_lower)]
        found = (
            tuple(s for s in covering if s.effect is Effect.ALLOW),
            tuple(s for s in covering if s.effect is Effect.DENY),
        )
        if len(self.action_index) < _CANDIDATE_CACHE_LIMIT:
            self.action_index[action_lower] = found
        return found

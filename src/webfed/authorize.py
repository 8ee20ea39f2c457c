"""``webfed.authorize``: may this caller perform this action on this resource, and why (not)?

AWS builds a request context for every call (IAM User Guide, "Policy evaluation logic" and "AWS
global condition context keys"): the principal's keys (``aws:userid``, ``aws:PrincipalArn``,
``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:PrincipalTag/*``), the session's keys
(``aws:TokenIssueTime``, ``aws:SourceIdentity``, ``aws:FederatedProvider`` and the web identity
keys that survive federation, ``<provider>:aud|sub|amr|id``), time and network keys
(``aws:CurrentTime``, ``aws:EpochTime``, ``aws:SecureTransport``, ``aws:SourceIp``,
``aws:RequestedRegion``) and the service's own keys. The role's *current* policies (from the
per-node :class:`~webfed.iam_cache.IamCache`, so an administrator's change, or a "revoke older
sessions" Deny on ``aws:TokenIssueTime``, reaches live sessions within about a second) are
intersected with the boundary and the session policies sealed in the token; an optional resource
policy joins in. The administrator (the account's root) is allowed unless a resource policy
denies explicitly.

:func:`decide` is the whole decision for a :class:`~webfed.verify.VerifiedCaller`;
:func:`denial` turns a refusal into ``AccessDenied`` with an encoded authorization message the
administrator reads with ``aws sts decode-authorization-message``. The embeddable facade
(verify + decide, with its own store and upkeep) is :class:`webfed.authorizer.Authorizer`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple, Protocol

from webfed.core.authz_message import encode_authorization_message, explain_denial
from webfed.core.credentials import SessionContext
from webfed.core.entities import Tag
from webfed.core.keys import KeyRing
from webfed.core.policy import (
    AuthorizationRequest,
    Decision,
    DecisionKind,
    Policy,
    PolicyKind,
    RoleSessionPrincipal,
    RootPrincipal,
    build_context,
    evaluate,
    parse_policy,
    principal_context,
)
from webfed.errors import AccessDenied
from webfed.iam_cache import IamCache, RolePolicies
from webfed.verify import VerifiedCaller

__all__ = [
    "AuthorizationResult",
    "PolicySource",
    "RequestFacts",
    "SessionViews",
    "authorize_session",
    "decide",
    "denial",
    "principal_tags",
    "session_context_keys",
    "session_policies",
    "session_principal",
]

ContextInput = Mapping[str, str | Sequence[str]]
Values = dict[str, str | tuple[str, ...]]


class PolicySource(Protocol):
    """Where the role's current policies come from: :class:`IamCache` in webfed."""

    async def role_policies(self, name: str) -> RolePolicies | None: ...

    async def managed_policy(self, arn: str) -> Policy | None: ...


class RequestFacts(NamedTuple):
    """What the transport knows about the request: the time, the client, TLS, the region.

    ``source_ip`` and ``secure_transport`` are left out of the context when unknown (``None``),
    as AWS leaves out keys that do not apply; ``region`` is ``aws:RequestedRegion``.
    """

    now: datetime
    source_ip: str | None = None
    secure_transport: bool | None = None
    region: str | None = None


class AuthorizationResult(NamedTuple):
    """A decision about one request; ``denial`` is set (with its encoded message) when refused.

    Named tuples, like :class:`~webfed.core.policy.Decision`: built per request, and cheap.
    """

    caller: VerifiedCaller
    action: str
    resource: str
    decision: Decision
    denial: AccessDenied | None = None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def raise_for_denial(self) -> None:
        """Raise the ``AccessDenied`` of a refused request; return quietly when allowed."""
        if self.denial is not None:
            raise self.denial
        if not self.decision.allowed:
            raise AccessDenied(_denied_sentence(self.caller.arn, self.action, self.resource, None))


# --- the keys a session brings ----------------------------------------------------------------


def session_principal(session: SessionContext) -> RoleSessionPrincipal:
    return RoleSessionPrincipal(
        account=session.account_id,
        role_arn=session.role_arn,
        role_id=session.role_id,
        session_name=session.session_name,
        session_arn=session.assumed_role_arn,
    )


def principal_tags(role_tags: Sequence[Tag], session: SessionContext) -> dict[str, str]:
    """Role tags, overridden case-insensitively by the session's tags (AWS's precedence:
    "if a session tag has the same key as a role tag, the session tag value wins")."""
    merged: dict[str, tuple[str, str]] = {
        tag.key.lower(): (tag.key, tag.value) for tag in role_tags
    }
    for key, value in session.session_tags:
        merged[key.lower()] = (key, value)
    return dict(merged.values())


def session_context_keys(
    session: SessionContext, role_tags: Sequence[Tag], *, source_ip: str | None
) -> dict[str, str | list[str]]:
    """The global keys a role session brings to every request it signs."""
    keys: dict[str, str | list[str]] = {
        "aws:TokenIssueTime": session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:MultiFactorAuthPresent": "false",
    }
    if source_ip is not None:
        keys["aws:SourceIp"] = source_ip
    for key, value in principal_tags(role_tags, session).items():
        keys[f"aws:PrincipalTag/{key}"] = value
    if session.source_identity is not None:
        keys["aws:SourceIdentity"] = session.source_identity
    identity = session.web_identity
    if identity is not None:
        # Only amr, aud, id and sub survive AssumeRoleWithWebIdentity (IAM User Guide,
        # "Available keys for web identity federation").
        prefix = identity.provider
        keys[f"{prefix}:aud"] = identity.aud
        keys[f"{prefix}:sub"] = identity.sub
        keys[f"{prefix}:amr"] = list(identity.amr)
        if identity.id is not None:
            keys[f"{prefix}:id"] = identity.id
        if identity.federated_provider is not None:
            keys["aws:FederatedProvider"] = identity.federated_provider
    return keys


async def session_policies(iam: PolicySource, session: SessionContext) -> list[Policy] | None:
    """The session policies sealed in the token (``None`` when the session has none).

    A managed session policy deleted since the session began grants nothing: it is dropped,
    which can only narrow the session.
    """
    if session.session_policy is None and not session.session_policy_arns:
        return None
    policies: list[Policy] = []
    if session.session_policy is not None:
        policies.append(
            parse_policy(session.session_policy, PolicyKind.SESSION, name="session policy")
        )
    for arn in session.session_policy_arns:
        managed = await iam.managed_policy(arn)
        if managed is not None:
            policies.append(managed)
    return policies


# --- per-session work done once ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SessionView:
    """A session's principal, context keys and policies, valid while ``role`` is current."""

    session: SessionContext
    role: RolePolicies
    principal: RoleSessionPrincipal
    keys: Values
    policies: tuple[Policy, ...] | None


class SessionViews:
    """Remembers, per session, everything about it that does not change from call to call.

    Entries are keyed by the identity of the :class:`SessionContext` (the session-token cache
    hands back the same object for the same token) and are rebuilt as soon as the policy source
    returns a different :class:`RolePolicies` (the IAM cache drops them on any IAM change).
    """

    __slots__ = ("_entries", "_max_entries")

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: dict[int, _SessionView] = {}
        self._max_entries = max_entries

    async def view(self, source: PolicySource, session: SessionContext) -> _SessionView | None:
        role = await source.role_policies(session.role_name)
        if role is None or role.role.role_id != session.role_id:
            return None
        view = self._entries.get(id(session))
        if view is not None and view.session is session and view.role is role:
            return view
        view = await _build_view(source, session, role)
        if len(self._entries) >= self._max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[id(session)] = view
        return view

    def __len__(self) -> int:
        return len(self._entries)


async def _build_view(
    source: PolicySource, session: SessionContext, role: RolePolicies
) -> _SessionView:
    principal = session_principal(session)
    keys = build_context(principal_context(principal))
    keys.update(build_context(session_context_keys(session, role.role.tags, source_ip=None)))
    policies = await session_policies(source, session)
    return _SessionView(
        session, role, principal, keys, None if policies is None else tuple(policies)
    )


# --- the decision -----------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _time_keys(second: int) -> tuple[str, str]:
    """``aws:CurrentTime`` and ``aws:EpochTime``; formatted once per second, not per request."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(second)


def _request_keys(facts: RequestFacts, context: ContextInput | None) -> Values:
    current, epoch = _time_keys(int(facts.now.timestamp()))
    keys: Values = {"aws:currenttime": current, "aws:epochtime": epoch}
    if facts.source_ip:
        keys["aws:sourceip"] = facts.source_ip
    if facts.secure_transport is not None:
        keys["aws:securetransport"] = "true" if facts.secure_transport else "false"
    if facts.region:
        keys["aws:requestedregion"] = facts.region
    if context:
        keys.update(build_context(context))
    return keys


async def decide(
    source: PolicySource,
    caller: VerifiedCaller,
    action: str,
    resource: str,
    facts: RequestFacts,
    *,
    context: ContextInput | None = None,
    resource_policy: Policy | None = None,
    views: SessionViews | None = None,
) -> Decision:
    """The decision for ``caller`` (see the module docstring); never raises for a denial.

    ``context`` holds the service's keys (``s3:prefix``, ``dynamodb:LeadingKeys``...); they are
    added last but cannot replace the principal's or the session's keys.
    """
    extra = _request_keys(facts, context)
    session = caller.session
    if session is None:
        principal = RootPrincipal(caller.account)
        keys = extra | build_context(principal_context(principal))
        request = AuthorizationRequest(principal, action, resource, keys, normalized=True)
        return evaluate(request, resource=resource_policy)
    view = await (views if views is not None else SessionViews()).view(source, session)
    if view is None:
        return Decision(
            False,
            DecisionKind.IMPLICIT_DENY,
            (),
            f"the role {session.role_arn} no longer exists (it was deleted or re-created)",
        )
    request = AuthorizationRequest(
        view.principal, action, resource, extra | view.keys, normalized=True
    )
    return evaluate(
        request,
        identity=view.role.identity,
        boundary=view.role.boundary,
        session=view.policies,
        resource=resource_policy,
    )


def denial(
    caller: VerifiedCaller,
    action: str,
    resource: str,
    decision: Decision,
    *,
    key_ring: KeyRing,
    rng: random.Random,
    now: datetime,
    context: ContextInput | None = None,
) -> AccessDenied:
    """``AccessDenied`` in AWS's words, carrying the sealed explanation of ``decision``."""
    explicit = decision.kind is DecisionKind.EXPLICIT_DENY
    explanation = explain_denial(
        check="policy",
        reason=decision.reason,
        principal={"arn": caller.arn, "id": caller.user_id},
        action=action,
        resource=resource,
        conditions=context,
        explicit_deny=explicit,
        matched_statements=[
            {"policy": ref.policy, "statementIndex": ref.statement_index, "sid": ref.sid}
            for ref in decision.statements
        ],
    )
    encoded = encode_authorization_message(explanation, key_ring=key_ring, rng=rng, now=now)
    message = _denied_sentence(caller.arn, action, resource, decision)
    return AccessDenied(message, encoded_message=encoded, explanation=explanation)


def _denied_sentence(arn: str, action: str, resource: str, decision: Decision | None) -> str:
    if decision is not None and decision.kind is DecisionKind.EXPLICIT_DENY:
        why = "with an explicit deny in a policy"
    else:
        why = f"because no policy allows the {action} action"
    return f"User: {arn} is not authorized to perform: {action} on resource: {resource} {why}"


async def authorize_session(
    iam: IamCache,
    session: SessionContext,
    action: str,
    resource: str,
    *,
    now: datetime,
    source_ip: str,
    context: ContextInput | None = None,
) -> Decision:
    """May this session perform ``action`` on ``resource`` (the STS handlers' entry point)."""
    caller = VerifiedCaller(
        "", session, session.assumed_role_arn, session.assumed_role_id, session.account_id
    )
    facts = RequestFacts(now=now, source_ip=source_ip or None)
    return await decide(iam, caller, action, resource, facts, context=context)

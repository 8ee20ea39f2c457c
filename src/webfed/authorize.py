"""The authorization decision for a request made with temporary credentials.

AWS builds a request context for every call (IAM User Guide, "Policy evaluation logic"): the
principal's keys, the session's tags and web identity keys, time and network keys, plus the
service's own keys. The role's current policies (from the per-node cache, so an administrator's
change reaches live sessions within about a second) are intersected with the boundary and the
session policies sealed in the token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from webfed.core.credentials import SessionContext
from webfed.core.entities import Tag
from webfed.core.policy import (
    AuthorizationRequest,
    Decision,
    DecisionKind,
    Policy,
    PolicyKind,
    RoleSessionPrincipal,
    evaluate,
    parse_policy,
)
from webfed.iam_cache import IamCache

__all__ = [
    "authorize_session",
    "principal_tags",
    "session_context_keys",
    "session_policies",
    "session_principal",
]

ContextInput = Mapping[str, str | Sequence[str]]


def session_principal(session: SessionContext) -> RoleSessionPrincipal:
    return RoleSessionPrincipal(
        account=session.account_id,
        role_arn=session.role_arn,
        role_id=session.role_id,
        session_name=session.session_name,
        session_arn=session.assumed_role_arn,
    )


def principal_tags(role_tags: Sequence[Tag], session: SessionContext) -> dict[str, str]:
    """Role tags, overridden case-insensitively by the session's tags (AWS's precedence)."""
    merged: dict[str, tuple[str, str]] = {
        tag.key.lower(): (tag.key, tag.value) for tag in role_tags
    }
    for key, value in session.session_tags:
        merged[key.lower()] = (key, value)
    return dict(merged.values())


def session_context_keys(
    session: SessionContext, role_tags: Sequence[Tag], *, source_ip: str
) -> dict[str, str | list[str]]:
    """The global keys a role session brings to every request it signs."""
    keys: dict[str, str | list[str]] = {
        "aws:TokenIssueTime": session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:SourceIp": source_ip,
        "aws:MultiFactorAuthPresent": "false",
    }
    for key, value in principal_tags(role_tags, session).items():
        keys[f"aws:PrincipalTag/{key}"] = value
    if session.source_identity is not None:
        keys["aws:SourceIdentity"] = session.source_identity
    identity = session.web_identity
    if identity is not None:
        prefix = identity.provider
        keys[f"{prefix}:aud"] = identity.aud
        keys[f"{prefix}:sub"] = identity.sub
        keys[f"{prefix}:amr"] = list(identity.amr)
        if identity.id is not None:
            keys[f"{prefix}:id"] = identity.id
        if identity.federated_provider is not None:
            keys["aws:FederatedProvider"] = identity.federated_provider
    return keys


async def session_policies(iam: IamCache, session: SessionContext) -> list[Policy] | None:
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
    """May this session perform ``action`` on ``resource``, and why (not)."""
    role_policies = await iam.role_policies(session.role_name)
    principal = session_principal(session)
    if role_policies is None or role_policies.role.role_id != session.role_id:
        return Decision(
            False,
            DecisionKind.IMPLICIT_DENY,
            (),
            f"the role {session.role_arn} no longer exists (it was deleted or re-created)",
        )
    keys: dict[str, str | Sequence[str]] = dict(
        session_context_keys(session, role_policies.role.tags, source_ip=source_ip)
    )
    keys.update(context or {})
    request = AuthorizationRequest.build(principal, action, resource, keys, now=now)
    return evaluate(
        request,
        identity=role_policies.identity,
        boundary=role_policies.boundary,
        session=await session_policies(iam, session),
    )

"""What ``AssumeRoleWithWebIdentity`` and ``AssumeRole`` share: the role, the session policies,
the duration rules, minting, and the response members.

AWS STS API reference (AssumeRole, AssumeRoleWithWebIdentity) and the IAM User Guide ("Session
policies", "Role chaining"): up to 10 managed session policies of the role's account; inline
plus managed plaintext at most 2,048 characters; the packed size of policies and tags at most
100 %; ``DurationSeconds`` no more than the role's ``MaxSessionDuration`` (it fails, it is not
clamped), and no more than one hour for a chained session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from webfed.api.context import CallContext
from webfed.core.credentials import SessionContext, TemporaryCredentials, mint_credentials
from webfed.core.entities import Role
from webfed.core.packed_policy import packed_policy_percent
from webfed.core.policy import Policy, PolicyKind, parse_policy
from webfed.errors import (
    InternalFailure,
    MalformedPolicyDocument,
    PackedPolicyTooLarge,
    ValidationError,
)
from webfed.runtime import Runtime

__all__ = [
    "DEFAULT_DURATION",
    "SessionPolicies",
    "assumed_role_user",
    "check_duration",
    "credentials_member",
    "load_role",
    "mint",
    "new_session",
    "packed_size",
    "read_session_policies",
    "require_runtime",
    "whole_seconds",
]

DEFAULT_DURATION = 3600
CHAINED_MAXIMUM = 3600
MAX_POLICY_ARNS = 10
MAX_SESSION_POLICY_PLAINTEXT = 2048
_ROLE_ARN = re.compile(r"arn:aws:iam::(?P<account>\d{12}):role(?P<rest>/[\x21-\x7e]+)")


def require_runtime(ctx: CallContext) -> Runtime:
    if ctx.runtime is None:
        raise InternalFailure("STS operations need a running server.")
    return ctx.runtime


def whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


async def load_role(ctx: CallContext, role_arn: str) -> Role | None:
    """The role a ``RoleArn`` names in this account, or ``None`` (the caller then denies)."""
    parts = _role_arn_parts(role_arn)
    if parts is None:
        raise ValidationError(f"{role_arn[:256]} is invalid: RoleArn must be an IAM role ARN.")
    account, name = parts
    if account != ctx.account_id:
        return None
    role = await require_runtime(ctx).iam.role(name)
    if role is None or role.arn != role_arn:
        return None
    return role


@lru_cache(maxsize=256)
def _role_arn_parts(role_arn: str) -> tuple[str, str] | None:
    """``(account, role name)`` of a role ARN, or ``None``: the same few ARNs arrive on call
    after call, so each is matched once."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        return None
    return match["account"], match["rest"].rsplit("/", 1)[1]


@dataclass(frozen=True, slots=True)
class SessionPolicies:
    inline: str | None
    arns: tuple[str, ...]
    parsed: tuple[Policy, ...]

    @property
    def present(self) -> bool:
        return self.inline is not None or bool(self.arns)


_NO_SESSION_POLICIES = SessionPolicies(None, (), ())


async def read_session_policies(ctx: CallContext, params: Mapping[str, Any]) -> SessionPolicies:
    inline: str | None = params.get("Policy")
    listed = params.get("PolicyArns")
    if inline is None and not listed:
        return _NO_SESSION_POLICIES  # the common call: nothing to parse, look up or count
    arns = tuple(str(item["arn"]) for item in listed or ())
    if len(arns) > MAX_POLICY_ARNS:
        raise ValidationError(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}"
        )
    parsed: list[Policy] = []
    if inline is not None:
        parsed.append(parse_policy(inline, PolicyKind.SESSION, name="session policy"))
    cache = require_runtime(ctx).iam
    for arn in arns:
        managed = await cache.managed_policy(arn)
        if managed is None:
            raise MalformedPolicyDocument(
                f"The managed session policy {arn[:256]} does not exist in account "
                f"{ctx.account_id}."
            )
        parsed.append(managed)
    plaintext = len(inline or "") + sum(len(arn) for arn in arns)
    if plaintext > MAX_SESSION_POLICY_PLAINTEXT:
        raise PackedPolicyTooLarge(
            f"The session policies' plaintext is {plaintext} characters; the limit for inline "
            f"and managed session policies together is {MAX_SESSION_POLICY_PLAINTEXT}."
        )
    return SessionPolicies(inline, arns, tuple(parsed))


def packed_size(policies: SessionPolicies, tags: Sequence[tuple[str, str]]) -> int | None:
    """``PackedPolicySize`` (``None`` when there are neither policies nor tags)."""
    if not policies.present and not tags:
        return None
    percent = packed_policy_percent(policies.inline, policies.arns, tags)
    if percent > 100:
        raise PackedPolicyTooLarge(
            f"Packed size of consumed session policies and tags exceeds {percent}% of allowed "
            "value."
        )
    return percent


def check_duration(requested: int | None, role: Role, *, chained: bool) -> int:
    duration = DEFAULT_DURATION if requested is None else requested
    if chained and duration > CHAINED_MAXIMUM:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining."
        )
    if duration > role.max_session_duration:
        raise ValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return duration


def new_session(
    ctx: CallContext,
    role: Role,
    params: Mapping[str, Any],
    policies: SessionPolicies,
    duration: int,
    **identity: Any,
) -> SessionContext:
    """The session both assume calls seal: the role, the name, the times, the session policies;
    ``identity`` carries what differs (tags, transitive keys, source identity, web identity,
    chaining)."""
    issued = whole_seconds(ctx.now)
    return SessionContext(
        account_id=ctx.account_id,
        role_arn=role.arn,
        role_id=role.role_id,
        role_name=role.name,
        session_name=params["RoleSessionName"],
        issued_at=issued,
        expires_at=issued + timedelta(seconds=duration),
        session_policy=policies.inline,
        session_policy_arns=policies.arns,
        **identity,
    )


def mint(ctx: CallContext, session: SessionContext) -> TemporaryCredentials:
    runtime = require_runtime(ctx)
    return mint_credentials(session, key_ring=runtime.key_ring, rng=runtime.rng)


def credentials_member(credentials: TemporaryCredentials) -> dict[str, object]:
    return {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "SessionToken": credentials.session_token,
        "Expiration": credentials.expiration,
    }


def assumed_role_user(session: SessionContext) -> dict[str, str]:
    return {"Arn": session.assumed_role_arn, "AssumedRoleId": session.assumed_role_id}

"""Denials that explain themselves.

AWS appends "Encoded authorization failure message: …" to a denial; only a principal allowed
``sts:DecodeAuthorizationMessage`` can read it. webfed does the same for every ``AccessDenied``
and every rejected web identity token: the message, sealed with the node's key ring, says which
check failed (signature, unknown ``kid``, issuer, audience, expiry, trust statement, condition key
and the values wanted and seen). Tokens and secrets are scrubbed from it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from webfed.api.context import CallContext
from webfed.core.authz_message import encode_authorization_message, explain_denial
from webfed.core.entities import Role
from webfed.core.policy import (
    AuthorizationRequest,
    Decision,
    Policy,
    PolicyKind,
    Principal,
    evaluate,
    parse_policy,
)
from webfed.core.policy.context import ContextValues, build_context
from webfed.core.policy.request import principal_context
from webfed.errors import AccessDenied, WebfedError

__all__ = ["attach_encoded_message", "require_trust", "trust_denied"]


def attach_encoded_message(
    ctx: CallContext, error: WebfedError, *, scrub: Collection[str] = ()
) -> WebfedError:
    """Seal ``error.explanation`` into ``error.encoded_message`` (no-op without either)."""
    runtime = ctx.runtime
    if runtime is None or error.explanation is None or error.encoded_message is not None:
        return error
    error.encoded_message = encode_authorization_message(
        error.explanation, key_ring=runtime.key_ring, rng=runtime.rng, now=ctx.now, scrub=scrub
    )
    return error


def trust_denied(
    ctx: CallContext,
    *,
    action: str,
    role_arn: str,
    decision: Decision | None,
    principal: Mapping[str, str],
    conditions: Mapping[str, str | Sequence[str]],
    reason: str | None = None,
    scrub: Collection[str] = (),
) -> AccessDenied:
    """``AccessDenied`` for an assume call the role's trust policy does not allow."""
    explanation = explain_denial(
        check="trust_policy",
        reason=reason or (decision.reason if decision is not None else "denied"),
        principal=principal,
        action=action,
        resource=role_arn,
        conditions=conditions,
        explicit_deny=decision is not None and decision.kind.value == "explicit_deny",
        matched_statements=[
            {"policy": ref.policy, "statementIndex": ref.statement_index, "sid": ref.sid or ""}
            for ref in (decision.statements if decision is not None else ())
        ],
    )
    error = AccessDenied(f"Not authorized to perform {action}", explanation=explanation)
    attach_encoded_message(ctx, error, scrub=scrub)
    return error


def require_trust(
    ctx: CallContext,
    role: Role,
    principal: Principal,
    actions: Sequence[str],
    keys: Mapping[str, str | Sequence[str]],
    *,
    described: Mapping[str, str],
    identity: Sequence[Policy] = (),
    boundary: Policy | None = None,
    session: Sequence[Policy] | None = None,
) -> None:
    """Each action must be allowed by the role's trust policy (and the caller's own policies,
    when given); the first that is not raises ``AccessDenied`` with an encoded explanation."""
    trust = _trust_policy(role.trust_policy, role.name)
    context = _request_context(principal, keys, ctx.now)
    for action in actions:
        request = AuthorizationRequest(principal, action, role.arn, context, normalized=True)
        decision = evaluate(
            request,
            identity=identity,
            boundary=boundary,
            session=session,
            resource=trust,
            resource_account=ctx.account_id,
        )
        if not decision.allowed:
            raise trust_denied(
                ctx,
                action=action,
                role_arn=role.arn,
                decision=decision,
                principal=described,
                conditions=keys,
            )


@lru_cache(maxsize=256)
def _trust_policy(document: str, role_name: str) -> Policy:
    """The role's compiled trust policy, named for explanations. ``parse_policy`` caches it
    too, but behind a name built and hashed at every call and an enum hashed in Python; this
    lookup hashes two strings whose hashes the role's own strings already carry."""
    return parse_policy(document, PolicyKind.TRUST, name=f"trust policy of {role_name}")


def _request_context(
    principal: Principal, keys: Mapping[str, str | Sequence[str]], now: datetime
) -> ContextValues:
    """What :meth:`AuthorizationRequest.build` makes of the principal's keys, the time keys and
    ``keys`` (later ones win), built once for all the actions of one call."""
    context = build_context(principal_context(principal))
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    context.update(_time_context(int(moment.timestamp())))
    return build_context(keys, into=context)


@lru_cache(maxsize=4)
def _time_context(epoch_seconds: int) -> dict[str, str]:
    """``aws:CurrentTime`` and ``aws:EpochTime`` (names lowercased) of one second: calls in the
    same second share them, so the time is formatted about once a second. Read-only: callers
    copy it into their own context."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return {
        "aws:currenttime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(epoch_seconds),
    }

"""``GetCallerIdentity`` and ``DecodeAuthorizationMessage``.

``GetCallerIdentity`` answers for any valid credentials, even when a policy denies it (AWS:
"No permissions are required to perform this operation"). ``DecodeAuthorizationMessage`` needs
``sts:DecodeAuthorizationMessage``: the administrator has it; a role session needs a policy that
allows it.
"""

from __future__ import annotations

import json

from webfed.api.context import CallContext, Params, Result
from webfed.api.sts.denials import attach_encoded_message
from webfed.api.sts.sessions import require_runtime
from webfed.authorize import authorize_session
from webfed.core.authz_message import decode_authorization_message, explain_denial
from webfed.errors import AccessDenied, MissingAuthenticationToken

__all__ = ["decode_message", "get_caller_identity"]

DECODE_ACTION = "sts:DecodeAuthorizationMessage"


async def get_caller_identity(ctx: CallContext, params: Params) -> Result:
    caller = ctx.caller
    if caller is None:  # the dispatcher never lets an unsigned call reach a SIGNED operation
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


async def decode_message(ctx: CallContext, params: Params) -> Result:
    runtime = require_runtime(ctx)
    caller = ctx.caller
    if caller is None:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    if caller.session is not None:
        decision = await authorize_session(
            runtime.iam, caller.session, DECODE_ACTION, "*", now=ctx.now, source_ip=ctx.source_ip
        )
        if not decision.allowed:
            error = AccessDenied(
                f"User: {caller.arn} is not authorized to perform: {DECODE_ACTION}",
                explanation=explain_denial(
                    check="identity_policy",
                    reason=decision.reason,
                    principal={"arn": caller.arn},
                    action=DECODE_ACTION,
                    resource="*",
                ),
            )
            raise attach_encoded_message(ctx, error)
    decoded = decode_authorization_message(params["EncodedMessage"], runtime.key_ring)
    return {"DecodedMessage": json.dumps(decoded, sort_keys=True)}

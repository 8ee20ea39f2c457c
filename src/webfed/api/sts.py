"""The STS operations (Query protocol, ``https://sts.amazonaws.com/doc/2011-06-15/``).

``GetCallerIdentity`` answers for any valid credentials, even when a policy denies it
(AWS: "No permissions are required to perform this operation").
"""

from __future__ import annotations

from webfed.api.context import Auth, CallContext, Operation, Params, Result
from webfed.errors import MissingAuthenticationToken

__all__ = ["OPERATIONS"]


async def get_caller_identity(ctx: CallContext, params: Params) -> Result:
    caller = ctx.caller
    if caller is None:  # the dispatcher never lets an unsigned call reach a SIGNED operation
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


OPERATIONS = {
    "GetCallerIdentity": Operation("GetCallerIdentity", get_caller_identity, Auth.SIGNED),
}

"""Identity inspection operations (administrator only).

Cognito Identity API reference: ``DescribeIdentity``, ``ListIdentities`` (``HideDisabled``
leaves out identities disabled by a merge), ``DeleteIdentities`` (1 to 60 ids; those not
deleted come back in ``UnprocessedIdentityIds``).
"""

from __future__ import annotations

from webfed.api.cognito_identity._inputs import decode_token, encode_token
from webfed.api.context import CallContext, Params, Result
from webfed.storage.identity_models import Identity

__all__ = ["delete_identities", "describe_identity", "list_identities"]

_LISTING = "identities"


def identity_shape(identity: Identity) -> Result:
    """The ``IdentityDescription`` structure: linked providers, not subjects."""
    return {
        "IdentityId": identity.identity_id,
        "Logins": list(identity.logins),
        "CreationDate": identity.create_date,
        "LastModifiedDate": identity.last_modified_date,
    }


async def describe_identity(ctx: CallContext, params: Params) -> Result:
    identity = await ctx.store.identities.get(ctx.account_id, str(params["IdentityId"]))
    return identity_shape(identity)


async def list_identities(ctx: CallContext, params: Params) -> Result:
    pool = await ctx.store.identity_pools.get(ctx.account_id, str(params["IdentityPoolId"]))
    kind = f"{_LISTING}:{pool.pool_id}"
    page = await ctx.store.identities.list(
        ctx.account_id,
        pool.pool_id,
        after=decode_token(kind, params.get("NextToken")),
        limit=int(params["MaxResults"]),
        hide_disabled=bool(params.get("HideDisabled", False)),
    )
    return {
        "IdentityPoolId": pool.pool_id,
        "Identities": [identity_shape(identity) for identity in page.identities],
        **encode_token(kind, page.next_after),
    }


async def delete_identities(ctx: CallContext, params: Params) -> Result:
    """Ids unknown in this account are reported as ``AccessDenied`` (not deleted)."""
    ids = [str(value) for value in params["IdentityIdsToDelete"]]
    missing = await ctx.store.identities.delete_many(ctx.account_id, ids)
    return {
        "UnprocessedIdentityIds": [
            {"IdentityId": identity_id, "ErrorCode": "AccessDenied"} for identity_id in missing
        ]
    }

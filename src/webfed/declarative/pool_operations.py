"""The Cognito Identity operations ``webfed apply`` and ``webfed export`` call.

They are the API's own handlers (``webfed.api.cognito_identity.OPERATIONS``), so every change
gets the API's checks, plus one the wire does not offer: :data:`CREATE_WITH_ID`,
``CreateIdentityPool`` with an id chosen by the caller. A file may fix a pool's id (an app
embeds it), and every new pool's id is known when the plan is made, so the requests after the
create (roles, principal tags) can name it. The id must be ``REGION:UUID`` in the configured
region, as AWS's pool ids are.
"""

from __future__ import annotations

import re

from webfed.api.cognito_identity import OPERATIONS
from webfed.api.cognito_identity._inputs import pool_config, tags_from
from webfed.api.cognito_identity.pools import pool_shape
from webfed.api.context import Auth, CallContext, Operation, OperationTable, Params, Result
from webfed.declarative.pool_wire import CREATE_WITH_ID
from webfed.errors import InvalidParameterException

__all__ = ["POOL_ID", "create_identity_pool_with_id", "pool_id_problem", "pool_operations"]

POOL_ID = re.compile(
    r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def pool_id_problem(pool_id: str, region: str) -> str | None:
    """Why ``pool_id`` cannot be the id of a new pool in ``region``; ``None`` when it can."""
    match = POOL_ID.fullmatch(pool_id)
    if match is None:
        return f"{pool_id!r} is not an identity pool id (REGION:UUID, the UUID in lower case)"
    if match["region"] != region:
        return f"{pool_id!r} is in region {match['region']}, not in this webfed's region {region}"
    return None


async def create_identity_pool_with_id(ctx: CallContext, params: Params) -> Result:
    """``CreateIdentityPool`` by the API's rules, the pool stored as ``IdentityPoolId``."""
    pool_id = str(params["IdentityPoolId"])
    problem = pool_id_problem(pool_id, ctx.region)
    if problem is not None:
        raise InvalidParameterException(f"IdentityPoolId {problem}.")
    config = await pool_config(ctx, params)
    tags = tags_from(params.get("IdentityPoolTags"), "IdentityPoolTags")
    pool = await ctx.store.identity_pools.create(
        ctx.account_id, pool_id=pool_id, config=config, tags=tags, now=ctx.now
    )
    return pool_shape(pool)


def pool_operations() -> OperationTable:
    """The API's Cognito Identity handlers and :data:`CREATE_WITH_ID`, all administrator-only."""
    create = Operation(CREATE_WITH_ID, create_identity_pool_with_id, Auth.ADMIN)
    return {**OPERATIONS, CREATE_WITH_ID: create}

"""Developer-authenticated identities (administrator only, signed).

Cognito Identity API reference ``GetOpenIdTokenForDeveloperIdentity``,
``LookupDeveloperIdentity``, ``MergeDeveloperIdentities``, ``UnlinkDeveloperIdentity`` and the
developer guide ("Developer-authenticated identities"): the app's own backend signs the user in,
then asks for a token for the user's *developer user identifier* under the pool's
``DeveloperProviderName``. Developer user identifiers are logins of that provider; an identity
may hold several (``LookupDeveloperIdentity`` lists them).

* ``GetOpenIdTokenForDeveloperIdentity``: the identifier's identity (created on first use), or,
  with ``IdentityId``, the identifier linked to that identity
  (``DeveloperUserAlreadyRegisteredException`` when it belongs to another one). Other logins in
  the map are verified and linked (merging as in ``GetId``). ``PrincipalTags`` travel in the
  token's ``https://aws.amazon.com/tags`` claim. ``TokenDuration`` 1 s..24 h, default 15 min.
* ``MergeDeveloperIdentities``: the source identifier's identity merged into the destination's
  (at most 20 linked logins between them).
"""

from __future__ import annotations

from webfed.api.cognito_identity._inputs import decode_token, encode_token
from webfed.api.cognito_identity.exchange import MAX_SESSION_TAGS
from webfed.api.cognito_identity.flows import identity_token
from webfed.api.cognito_identity.logins import verify_logins
from webfed.api.cognito_identity.resolution import (
    amr_for,
    claimed_identity,
    identity_for_logins,
    new_identity_id,
)
from webfed.api.context import CallContext, Params, Result
from webfed.errors import (
    DeveloperUserAlreadyRegistered,
    InvalidParameterException,
    LimitExceededException,
    ResourceConflict,
    ResourceNotFound,
)
from webfed.issuer.tokens import DEVELOPER_TOKEN_LIFETIME
from webfed.storage.identity_models import Identity, IdentityPool

__all__ = [
    "get_open_id_token_for_developer_identity",
    "lookup_developer_identity",
    "merge_developer_identities",
    "unlink_developer_identity",
]

MAX_MERGED_LOGINS = 20
_LOOKUP_PAGE = 60


async def _developer_pool(
    ctx: CallContext, pool_id: str, name: str | None = None
) -> tuple[IdentityPool, str]:
    pool = await ctx.store.identity_pools.get(ctx.account_id, pool_id)
    provider = pool.config.developer_provider_name
    if provider is None:
        raise InvalidParameterException(
            f"Identity pool {pool_id} has no DeveloperProviderName; set one with "
            "UpdateIdentityPool to use developer-authenticated identities."
        )
    if name is not None and name != provider:
        raise InvalidParameterException(
            f"DeveloperProviderName {name!r} is not the developer provider of identity pool "
            f"{pool_id} ({provider!r})."
        )
    return pool, provider


async def _in_pool(ctx: CallContext, pool: IdentityPool, identity_id: str) -> Identity:
    identity = await ctx.store.identities.get(ctx.account_id, identity_id)
    if identity.pool_id != pool.pool_id:
        raise ResourceNotFound(f"Identity '{identity_id}' not found in pool {pool.pool_id}.")
    return identity


async def _developer_identity(
    ctx: CallContext, pool: IdentityPool, provider: str, user: str, identity_id: str | None
) -> Identity:
    owner = await ctx.store.identities.find_by_login(pool.pool_id, provider, user)
    if identity_id is None:
        if owner is not None:
            return owner
        identity, _ = await ctx.store.identities.get_or_create_for_login(
            pool.account_id,
            pool.pool_id,
            provider,
            user,
            new_identity_id=_new_id(pool),
            now=ctx.now,
        )
        return identity
    target = await claimed_identity(ctx, pool, identity_id)
    if owner is not None and owner.identity_id != target.identity_id:
        raise DeveloperUserAlreadyRegistered(
            f"The developer user identifier is already linked to identity {owner.identity_id}, "
            f"not {target.identity_id}."
        )
    if owner is None:
        await ctx.store.identities.link(
            target.identity_id, provider, user, one_per_provider=False, now=ctx.now
        )
    return await claimed_identity(ctx, pool, target.identity_id)


def _new_id(pool: IdentityPool) -> str:
    return new_identity_id(pool.pool_id.split(":", 1)[0])


def _tags(params: Params) -> dict[str, str]:
    tags = dict(params.get("PrincipalTags") or {})
    if len(tags) > MAX_SESSION_TAGS:
        raise InvalidParameterException(
            f"PrincipalTags holds {len(tags)} tags; at most {MAX_SESSION_TAGS} are allowed."
        )
    return {str(key): str(value) for key, value in tags.items()}


async def get_open_id_token_for_developer_identity(ctx: CallContext, params: Params) -> Result:
    pool, provider = await _developer_pool(ctx, str(params["IdentityPoolId"]))
    logins: dict[str, str] = dict(params["Logins"])
    if provider not in logins:
        raise InvalidParameterException(
            f"Logins must map the pool's developer provider name {provider!r} to the developer "
            "user identifier."
        )
    user = logins.pop(provider)
    others = await verify_logins(ctx, pool, logins)
    identity = await _developer_identity(ctx, pool, provider, user, params.get("IdentityId"))
    if others:
        identity = await identity_for_logins(ctx, pool, others, identity, vouched=True)
    amr = ["authenticated", provider, f"{provider}:{pool.pool_id}:{user}"]
    amr.extend(entry for entry in amr_for(pool, others)[1:] if entry not in amr)
    duration = params.get("TokenDuration")
    seconds = int(DEVELOPER_TOKEN_LIFETIME.total_seconds()) if duration is None else int(duration)
    token = identity_token(ctx, pool, identity, amr, lifetime_seconds=seconds, tags=_tags(params))
    return {"IdentityId": identity.identity_id, "Token": token}


def _page(values: tuple[str, ...], after: str | None, limit: int) -> tuple[list[str], str | None]:
    remaining = [value for value in values if after is None or value > after]
    kept = remaining[:limit]
    return kept, kept[-1] if len(remaining) > limit else None


async def lookup_developer_identity(ctx: CallContext, params: Params) -> Result:
    pool, provider = await _developer_pool(ctx, str(params["IdentityPoolId"]))
    identity_id: str | None = params.get("IdentityId")
    user: str | None = params.get("DeveloperUserIdentifier")
    if identity_id is None and user is None:
        raise InvalidParameterException("Give IdentityId or DeveloperUserIdentifier (or both).")
    if user is not None:
        owner = await ctx.store.identities.find_by_login(pool.pool_id, provider, user)
        if owner is None:
            raise ResourceNotFound("No identity has that developer user identifier.")
        if identity_id is not None and identity_id != owner.identity_id:
            raise ResourceConflict(
                f"The developer user identifier belongs to identity {owner.identity_id}, not "
                f"{identity_id}."
            )
        identity_id = owner.identity_id
    assert identity_id is not None
    identity = await _in_pool(ctx, pool, identity_id)
    kind = f"developer-users:{identity.identity_id}"
    users, last = _page(
        await ctx.store.identities.logins_of(identity.identity_id, provider),
        decode_token(kind, params.get("NextToken")),
        int(params.get("MaxResults") or _LOOKUP_PAGE),
    )
    return {
        "IdentityId": identity.identity_id,
        "DeveloperUserIdentifierList": users,
        **encode_token(kind, last),
    }


async def _owner_of(
    ctx: CallContext, pool: IdentityPool, provider: str, user: str, member: str
) -> Identity:
    owner = await ctx.store.identities.find_by_login(pool.pool_id, provider, user)
    if owner is None:
        raise ResourceNotFound(f"{member}: no identity has that developer user identifier.")
    return owner


async def merge_developer_identities(ctx: CallContext, params: Params) -> Result:
    pool, provider = await _developer_pool(
        ctx, str(params["IdentityPoolId"]), str(params["DeveloperProviderName"])
    )
    source = await _owner_of(
        ctx, pool, provider, str(params["SourceUserIdentifier"]), "SourceUserIdentifier"
    )
    destination = await _owner_of(
        ctx, pool, provider, str(params["DestinationUserIdentifier"]), "DestinationUserIdentifier"
    )
    if source.identity_id == destination.identity_id:
        return {"IdentityId": destination.identity_id}
    # Both were loaded with every linked login's key: no query to count them.
    linked = len(source.login_keys) + len(destination.login_keys)
    if linked > MAX_MERGED_LOGINS:
        raise LimitExceededException(
            f"The two identities hold {linked} logins together; a merge allows at most "
            f"{MAX_MERGED_LOGINS}."
        )
    merged = await ctx.store.identities.merge(source.identity_id, destination.identity_id, ctx.now)
    return {"IdentityId": merged.identity_id}


async def unlink_developer_identity(ctx: CallContext, params: Params) -> Result:
    pool, provider = await _developer_pool(
        ctx, str(params["IdentityPoolId"]), str(params["DeveloperProviderName"])
    )
    identity = await _in_pool(ctx, pool, str(params["IdentityId"]))
    user = str(params["DeveloperUserIdentifier"])
    if not await ctx.store.identities.unlink(identity.identity_id, provider, user, ctx.now):
        raise ResourceNotFound(
            f"Identity {identity.identity_id} has no such developer user identifier."
        )
    return {}

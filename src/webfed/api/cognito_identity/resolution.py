"""Which identity a set of verified logins belongs to: finding, creating, linking, merging.

Cognito developer guide, "Identity pools authentication flow" (linking and merging):

* a login not linked to any identity is linked to the identity of the call (or, in ``GetId``
  when no login is linked yet, to a new identity);
* at most one login per public provider per identity (``ResourceConflictException``);
* a login already linked to *another* identity merges the two: one survives, the other is
  disabled, and the survivor's id is returned;
* a guest (unauthenticated) identity that signs in keeps its id.

Where AWS is silent webfed chooses (``docs/identity-pools.md``): the survivor of a merge is the
identity the call names when it is authenticated, else the oldest of the identities the logins
belong to, and a guest identity is always merged into an authenticated one, never the reverse.
An authenticated identity is reached only with at least one of its own logins: knowing its id
and holding some other valid login is "Logins don't match", so nobody can attach their login to
another player's identity. A disabled (merged) identity named by a call is replaced by its
survivor, whose logins must then match.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from webfed.api.cognito_identity._inputs import COGNITO_ISSUER, PUBLIC_PROVIDERS
from webfed.api.cognito_identity.logins import VerifiedLogin
from webfed.api.cognito_identity.pools import new_pool_id
from webfed.api.context import CallContext
from webfed.errors import NotAuthorized, ResourceConflict, ResourceNotFound
from webfed.storage.identity_models import Identity, IdentityPool
from webfed.storage.identity_schema import login_key

__all__ = [
    "LOGINS_DO_NOT_MATCH",
    "amr_for",
    "claimed_identity",
    "identity_for_logins",
    "new_guest",
    "new_identity_id",
]

LOGINS_DO_NOT_MATCH = (
    "Logins don't match. Please include at least one valid login for this identity or identity "
    "pool."
)
_RANDOM = secrets.SystemRandom()


def new_identity_id(region: str) -> str:
    """``REGION:UUID`` (version 4), the shape of every Cognito identity id (and pool id)."""
    return new_pool_id(region, _RANDOM)


def _pool_region(pool: IdentityPool) -> str:
    return pool.pool_id.split(":", 1)[0]


async def new_guest(ctx: CallContext, pool: IdentityPool) -> Identity:
    """A new unauthenticated identity (every login-less ``GetId`` makes one, as AWS does)."""
    return await ctx.store.identities.create_unauthenticated(
        pool.account_id, pool.pool_id, new_identity_id(_pool_region(pool)), ctx.now
    )


async def _enabled(ctx: CallContext, identity: Identity) -> Identity:
    """The identity itself, or the survivor it was merged into."""
    if identity.merged_into is None:
        return identity
    survivor = await ctx.store.identities.find(identity.merged_into)
    if survivor is None or survivor.disabled:
        raise ResourceNotFound(f"Identity '{identity.identity_id}' not found.")
    return survivor


async def claimed_identity(
    ctx: CallContext, pool: IdentityPool | None, identity_id: str
) -> Identity:
    """The identity a call names (its survivor if it was merged), which must be in ``pool``."""
    identity = await ctx.store.identities.find(identity_id)
    if identity is None or (pool is not None and identity.pool_id != pool.pool_id):
        raise ResourceNotFound(f"Identity '{identity_id}' not found.")
    return await _enabled(ctx, identity)


async def _owners(
    ctx: CallContext,
    pool: IdentityPool,
    logins: Sequence[VerifiedLogin],
    claimed: Identity | None,
) -> tuple[dict[str, Identity], list[VerifiedLogin]]:
    """The identities the logins already belong to (by id), and the logins that are free.

    A login of the claimed identity is recognised from the login keys loaded with it, so the
    usual call (an identity and its own login) reads nothing more."""
    owners: dict[str, Identity] = {}
    free: list[VerifiedLogin] = []
    for login in logins:
        if login.is_identity_token:
            if claimed is not None and login.subject == claimed.identity_id:
                owner = claimed
            else:
                owner = await claimed_identity(ctx, pool, login.subject)
        elif claimed is not None and claimed.has_login(login_key(login.provider, login.subject)):
            owner = claimed
        else:
            found = await ctx.store.identities.find_by_login(
                pool.pool_id, login.provider, login.subject
            )
            if found is None:
                free.append(login)
                continue
            owner = await _enabled(ctx, found)
        owners.setdefault(owner.identity_id, owner)
    return owners, free


def _survivor(claimed: Identity | None, owners: dict[str, Identity]) -> Identity:
    """The named identity if it is authenticated, else the oldest authenticated owner (a named
    guest is merged into it); ``owners`` is not empty."""
    if claimed is not None and claimed.logins:
        return claimed
    authenticated = [identity for identity in owners.values() if identity.logins]
    candidates = authenticated or list(owners.values())
    return min(candidates, key=lambda identity: (identity.create_date, identity.identity_id))


async def _link_free(ctx: CallContext, identity: Identity, free: Sequence[VerifiedLogin]) -> None:
    for login in free:
        await ctx.store.identities.link(
            identity.identity_id,
            login.provider,
            login.subject,
            one_per_provider=login.provider in PUBLIC_PROVIDERS,
            now=ctx.now,
        )


async def _create_for(
    ctx: CallContext, pool: IdentityPool, free: Sequence[VerifiedLogin]
) -> Identity:
    first = free[0]
    identity, _ = await ctx.store.identities.get_or_create_for_login(
        pool.account_id,
        pool.pool_id,
        first.provider,
        first.subject,
        new_identity_id=new_identity_id(_pool_region(pool)),
        now=ctx.now,
    )
    await _link_free(ctx, identity, free[1:])
    return identity


async def identity_for_logins(
    ctx: CallContext,
    pool: IdentityPool,
    logins: Sequence[VerifiedLogin],
    claimed: Identity | None,
    *,
    vouched: bool = False,
) -> Identity:
    """The identity the (non-empty) verified ``logins`` belong to, after linking and merging.

    ``claimed`` is the identity the call names (``GetCredentialsForIdentity``,
    ``GetOpenIdToken``), or ``None`` for ``GetId``, which creates an identity when no login is
    linked yet. ``vouched``: the caller (a developer backend, signed) already proved the claimed
    identity is the user's, so its own logins need not be among ``logins``.
    """
    owners, free = await _owners(ctx, pool, logins, claimed)
    if claimed is not None and claimed.logins and not vouched and claimed.identity_id not in owners:
        raise NotAuthorized(
            LOGINS_DO_NOT_MATCH,
            explanation={
                "check": "logins_match",
                "identity": claimed.identity_id,
                "linked_providers": list(claimed.logins),
                "presented_providers": [login.provider for login in logins],
            },
        )
    if not owners:
        if claimed is None:
            return await _create_for(ctx, pool, free)
        await _link_free(ctx, claimed, free)
        return await claimed_identity(ctx, pool, claimed.identity_id)
    survivor = _survivor(claimed, owners)
    if claimed is not None:
        owners.setdefault(claimed.identity_id, claimed)
    merged = [
        identity for identity in owners.values() if identity.identity_id != survivor.identity_id
    ]
    if not merged and not free:
        return survivor  # nothing written: the identity as read
    for identity in merged:
        await _merge(ctx, identity, survivor)
    await _link_free(ctx, survivor, free)
    return await claimed_identity(ctx, pool, survivor.identity_id)


async def _merge(ctx: CallContext, source: Identity, survivor: Identity) -> None:
    clash = sorted(set(source.logins) & set(survivor.logins) & PUBLIC_PROVIDERS)
    if clash:
        raise ResourceConflict(
            f"The logins belong to identities {source.identity_id} and {survivor.identity_id}, "
            f"which both have a {clash[0]} login; only one login per public provider is allowed, "
            "so they cannot be merged."
        )
    await ctx.store.identities.merge(source.identity_id, survivor.identity_id, ctx.now)


def amr_for(pool: IdentityPool, logins: Sequence[VerifiedLogin]) -> list[str]:
    """``amr`` of a token or session: ``unauthenticated``, or ``authenticated`` and, per login,
    the provider and ``provider:POOL_ID:SUBJECT`` (the form observed in Cognito's tokens)."""
    if not logins:
        return ["unauthenticated"]
    amr = ["authenticated"]
    for login in logins:
        if login.is_identity_token:
            entries = [entry for entry in login.token.amr[1:] if entry not in amr]
            amr.extend(entries or [COGNITO_ISSUER])
            continue
        for entry in (login.provider, f"{login.provider}:{pool.pool_id}:{login.subject}"):
            if entry not in amr:
                amr.append(entry)
    return amr

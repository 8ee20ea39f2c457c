"""The public (unsigned) identity-pool calls: ``GetId``, ``GetCredentialsForIdentity``,
``GetOpenIdToken`` and ``UnlinkIdentity``.

Cognito Identity API reference and developer guide ("Identity pools authentication flow"):

* ``GetId``: with no logins, a new guest identity (if the pool allows guests); with logins, the
  identity they belong to, created on first sign-in, linked and merged as
  :mod:`~webfed.api.cognito_identity.resolution` describes.
* ``GetCredentialsForIdentity`` (enhanced flow): the identity's logins verified again, the role
  chosen (:mod:`~webfed.api.cognito_identity.role_choice`), credentials minted
  (:mod:`~webfed.api.cognito_identity.exchange`). The output member is ``SecretKey``.
* ``GetOpenIdToken`` (basic flow, only when the pool has ``AllowClassicFlow``): a token of
  webfed's issuer for the identity, valid 10 minutes, for STS ``AssumeRoleWithWebIdentity``.
* ``UnlinkIdentity``: with a valid login of the identity, remove the logins of the named
  providers; an identity left without logins cannot be reached again.

A guest's own token (``amr`` unauthenticated) in ``Logins`` names its identity and
authenticates nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from webfed.api.cognito_identity._inputs import COGNITO_ISSUER
from webfed.api.cognito_identity.exchange import credentials_for_identity, principal_tags
from webfed.api.cognito_identity.logins import VerifiedLogin, verify_logins
from webfed.api.cognito_identity.resolution import (
    LOGINS_DO_NOT_MATCH,
    amr_for,
    claimed_identity,
    identity_for_logins,
    new_guest,
)
from webfed.api.cognito_identity.role_choice import choose_role
from webfed.api.context import CallContext, Params, Result
from webfed.api.sts.sessions import require_runtime
from webfed.core.oidc import JsonValue
from webfed.errors import InvalidParameterException, NotAuthorized, ResourceNotFound
from webfed.issuer.tokens import OPEN_ID_TOKEN_LIFETIME, mint_identity_token
from webfed.storage.identity_models import Identity, IdentityPool
from webfed.storage.identity_schema import login_key

__all__ = [
    "POOL_ARN_CLAIM",
    "TAGS_CLAIM",
    "get_credentials_for_identity",
    "get_id",
    "get_open_id_token",
    "identity_token",
    "require_pool",
    "unlink_identity",
]

POOL_ARN_CLAIM = "https://cognito-identity.amazonaws.com/identity-pool-arn"
TAGS_CLAIM = "https://aws.amazon.com/tags"
_GUESTS_OFF = "Unauthenticated access is not supported for this identity pool."


async def require_pool(ctx: CallContext, pool_id: str) -> IdentityPool:
    pool = await ctx.store.identity_pools.find(pool_id)
    if pool is None:
        raise ResourceNotFound(f"IdentityPool '{pool_id}' not found.")
    return pool


async def _pool_of(ctx: CallContext, identity: Identity, operation: str) -> IdentityPool:
    """The identity's pool, after the per-pool rate limit (``GetId`` gets it from the
    dispatcher, which sees the pool id; these calls carry only the identity id)."""
    require_runtime(ctx).rate_limits.admit_pool(operation, identity.pool_id)
    return await require_pool(ctx, identity.pool_id)


def _require_guests(pool: IdentityPool) -> None:
    if not pool.config.allow_unauthenticated:
        raise NotAuthorized(
            _GUESTS_OFF,
            explanation={"check": "allow_unauthenticated", "pool": pool.pool_id},
        )


def _is_guest_token(login: VerifiedLogin) -> bool:
    return login.is_identity_token and login.token.amr[:1] == ("unauthenticated",)


def _split(verified: Sequence[VerifiedLogin]) -> tuple[list[VerifiedLogin], str | None]:
    """The logins that authenticate, and the identity a guest token names (if one was given)."""
    guest = next((login.subject for login in verified if _is_guest_token(login)), None)
    return [login for login in verified if not _is_guest_token(login)], guest


async def _as_guest(ctx: CallContext, pool: IdentityPool, identity: Identity) -> Identity:
    if identity.logins:
        raise NotAuthorized(
            LOGINS_DO_NOT_MATCH,
            explanation={
                "check": "logins_match",
                "identity": identity.identity_id,
                "linked_providers": list(identity.logins),
                "presented_providers": [],
            },
        )
    _require_guests(pool)
    return identity


async def get_id(ctx: CallContext, params: Params) -> Result:
    pool = await require_pool(ctx, str(params["IdentityPoolId"]))
    account = params.get("AccountId")
    if account is not None and account != pool.account_id:
        raise ResourceNotFound(f"IdentityPool '{pool.pool_id}' not found.")
    logins, guest_id = _split(await verify_logins(ctx, pool, params.get("Logins")))
    if logins:
        identity = await identity_for_logins(ctx, pool, logins, None)
    elif guest_id is not None:
        identity = await _as_guest(ctx, pool, await claimed_identity(ctx, pool, guest_id))
    else:
        _require_guests(pool)
        identity = await new_guest(ctx, pool)
    return {"IdentityId": identity.identity_id}


async def _resolve(
    ctx: CallContext, params: Params, operation: str, *, classic: bool = False
) -> tuple[IdentityPool, Identity, list[VerifiedLogin]]:
    """The identity a call names, after its logins were verified, linked and merged
    (``classic``: refused first unless the pool allows the basic flow)."""
    identity = await claimed_identity(ctx, None, str(params["IdentityId"]))
    pool = await _pool_of(ctx, identity, operation)
    if classic and not pool.config.allow_classic_flow:
        raise InvalidParameterException(
            "Basic (classic) flow is not enabled, please use enhanced flow. (Identity pool "
            f"{pool.pool_id} has AllowClassicFlow false.)"
        )
    logins, _ = _split(await verify_logins(ctx, pool, params.get("Logins")))
    if logins:
        identity = await identity_for_logins(ctx, pool, logins, identity)
    else:
        identity = await _as_guest(ctx, pool, identity)
    return pool, identity, logins


async def get_credentials_for_identity(ctx: CallContext, params: Params) -> Result:
    pool, identity, logins = await _resolve(ctx, params, "GetCredentialsForIdentity")
    choice = choose_role(pool, logins, params.get("CustomRoleArn"))
    credentials = await credentials_for_identity(
        ctx, pool, identity, logins, choice, amr_for(pool, logins)
    )
    return {
        "IdentityId": identity.identity_id,
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "SecretKey": credentials.secret_access_key,
            "SessionToken": credentials.session_token,
            "Expiration": credentials.expiration,
        },
    }


def identity_token(
    ctx: CallContext,
    pool: IdentityPool,
    identity: Identity,
    amr: Sequence[str],
    *,
    lifetime_seconds: int,
    tags: dict[str, str],
) -> str:
    """A token of webfed's issuer for ``identity`` (``aud`` the pool, ``sub`` the identity);
    principal tags travel in the ``https://aws.amazon.com/tags`` claim STS reads."""
    extra: dict[str, JsonValue] = {POOL_ARN_CLAIM: pool.arn}
    if tags:
        extra[TAGS_CLAIM] = {"principal_tags": {key: (value,) for key, value in tags.items()}}
    runtime = require_runtime(ctx)
    return mint_identity_token(
        issuer=ctx.settings.effective_public_url,
        pool_id=pool.pool_id,
        identity_id=identity.identity_id,
        amr=amr,
        lifetime=timedelta(seconds=lifetime_seconds),
        now=ctx.now,
        key=runtime.issuer_keys.signing_key(ctx.now),
        extra_claims=extra,
    )


async def get_open_id_token(ctx: CallContext, params: Params) -> Result:
    pool, identity, logins = await _resolve(ctx, params, "GetOpenIdToken", classic=True)
    token = identity_token(
        ctx,
        pool,
        identity,
        amr_for(pool, logins),
        lifetime_seconds=int(OPEN_ID_TOKEN_LIFETIME.total_seconds()),
        tags=principal_tags(pool, logins),
    )
    return {"IdentityId": identity.identity_id, "Token": token}


async def unlink_identity(ctx: CallContext, params: Params) -> Result:
    identity = await claimed_identity(ctx, None, str(params["IdentityId"]))
    pool = await _pool_of(ctx, identity, "UnlinkIdentity")
    logins, _ = _split(await verify_logins(ctx, pool, params.get("Logins")))
    owned = [
        login
        for login in logins
        if (login.is_identity_token and login.subject == identity.identity_id)
        or identity.has_login(login_key(login.provider, login.subject))
    ]
    if not owned:
        raise NotAuthorized(
            LOGINS_DO_NOT_MATCH,
            explanation={"check": "logins_match", "identity": identity.identity_id},
        )
    for provider in params["LoginsToRemove"]:
        if provider in (COGNITO_ISSUER, pool.config.developer_provider_name):
            raise InvalidParameterException(
                f"LoginsToRemove: {provider!r} cannot be removed with UnlinkIdentity "
                "(developer user identifiers: UnlinkDeveloperIdentity)."
            )
        await ctx.store.identities.unlink(identity.identity_id, str(provider), None, ctx.now)
    return {}

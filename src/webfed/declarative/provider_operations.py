"""webfed's own operations for a provider's static key set, which ``webfed apply`` and
``webfed export`` call like IAM's handlers (:mod:`webfed.declarative.static_keys` names them).

They are administrator-only and never routed from the wire: IAM's OpenID Connect provider has
no key set member, and IAM's API stays AWS's. ``SetOpenIDConnectProviderStaticKeys`` checks the
set again (:func:`webfed.jwks.static.check_static_key_set`), so nothing unchecked is stored
whoever calls it, and bumps the IAM revision, so every node sees the new keys within the
revision poll (about a second), as with any IAM change.
"""

from __future__ import annotations

import json

from webfed.api.context import Auth, CallContext, Operation, OperationTable, Params, Result
from webfed.core.identifiers import parse_oidc_provider_arn
from webfed.declarative.static_keys import GET_STATIC_KEYS, SET_STATIC_KEYS
from webfed.errors import InvalidInput, NoSuchEntity
from webfed.jwks.static import StaticKeySetError, check_static_key_set

__all__ = ["get_static_keys", "set_static_keys", "static_key_operations"]


def _resource(ctx: CallContext, arn: str) -> str:
    account_id, resource = parse_oidc_provider_arn(arn)
    if account_id != ctx.account_id:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
    return resource


def _checked(text: object) -> str | None:
    """The canonical text of a key set given as JSON text; ``None`` removes the set."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidInput("StaticKeySet must be JWK Set JSON text.")
    try:
        return check_static_key_set(json.loads(text))
    except (ValueError, RecursionError) as error:
        reason = str(error) if isinstance(error, StaticKeySetError) else "not JSON"
        raise InvalidInput(f"The static key set is refused: {reason}.") from None


async def set_static_keys(ctx: CallContext, params: Params) -> Result:
    """Store the provider's static key set (``StaticKeySet``, JSON text), or remove it."""
    resource = _resource(ctx, str(params["OpenIDConnectProviderArn"]))
    static_jwks = _checked(params.get("StaticKeySet"))
    await ctx.store.iam.providers.set_static_keys(ctx.account_id, resource, static_jwks)
    return {}


async def get_static_keys(ctx: CallContext, params: Params) -> Result:
    """``{"StaticKeySet": text}``, or ``{}`` when the provider's keys are fetched."""
    resource = _resource(ctx, str(params["OpenIDConnectProviderArn"]))
    provider = await ctx.store.iam.providers.get(ctx.account_id, resource)
    return {} if provider.static_jwks is None else {"StaticKeySet": provider.static_jwks}


def static_key_operations() -> OperationTable:
    return {
        SET_STATIC_KEYS: Operation(SET_STATIC_KEYS, set_static_keys, Auth.ADMIN),
        GET_STATIC_KEYS: Operation(GET_STATIC_KEYS, get_static_keys, Auth.ADMIN),
    }

"""``AssumeRoleWithWebIdentity``: an identity provider's token in, role credentials out.

The order of the checks (AWS STS API reference and IAM User Guide, "OIDC federation"):
1. the token is read without trust (size and shape caps) to learn its issuer;
2. the issuer must be an IAM OIDC provider of the account (``InvalidIdentityToken``);
3. its keys come from the per-node cache (``IDPCommunicationError`` when they cannot be had);
4. the signature is verified, then the claims validated (``InvalidIdentityToken``,
   ``ExpiredTokenException``), see ``docs/oidc.md``;
5. the role's trust policy must allow ``sts:AssumeRoleWithWebIdentity`` for this provider with
   the token's condition keys, plus ``sts:TagSession`` when the token carries session tags and
   ``sts:SetSourceIdentity`` when it carries a source identity (``AccessDenied``); a role that does
   not exist is denied the same way, so callers learn nothing about which roles exist;
6. session policies and duration are checked, credentials minted and sealed.
Every rejection carries an encoded authorization message for the administrator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from webfed.api.context import CallContext, Params, Result
from webfed.api.sts.denials import attach_encoded_message, require_trust, trust_denied
from webfed.api.sts.sessions import (
    SessionPolicies,
    assumed_role_user,
    check_duration,
    credentials_member,
    load_role,
    mint,
    new_session,
    packed_size,
    read_session_policies,
    require_runtime,
)
from webfed.core.credentials import SessionContext, WebIdentity
from webfed.core.entities import OidcProvider, Role
from webfed.core.oidc import (
    COGNITO_PROVIDER_KEY,
    TrustedProvider,
    UnverifiedToken,
    ValidatedToken,
    issuer_matches,
    peek_token,
    provider_key,
    unknown_provider,
    validate_token,
    web_identity_condition_keys,
)
from webfed.core.policy import (
    WELL_KNOWN_PROVIDERS,
    WebIdentityPrincipal,
)
from webfed.errors import InvalidIdentityToken, ValidationError, WebfedError
from webfed.issuer.tokens import validate_identity_token
from webfed.jwks import KeySource

__all__ = ["assume_role_with_web_identity", "federated_principal", "trust_context"]

ACTION = "sts:AssumeRoleWithWebIdentity"
#: The name trust and permission policies use for webfed's own issuer (AWS's name for Cognito's).
COGNITO_IDENTITY = COGNITO_PROVIDER_KEY
#: Credentials from an identity pool's token last at most an hour (``GetOpenIdTokenForDeveloper
#: Identity``'s ``TokenDuration`` documentation).
IDENTITY_POOL_MAXIMUM = 3600
_OAUTH_PROVIDERS = frozenset({"www.amazon.com", "graph.facebook.com"})


def federated_principal(provider: OidcProvider) -> WebIdentityPrincipal:
    """The provider as trust policies name it: its well-known name if it has one, else its ARN."""
    key = provider_key(provider.url)
    if key in WELL_KNOWN_PROVIDERS:
        return WebIdentityPrincipal(key, aliases=(provider.arn,))
    return WebIdentityPrincipal(provider.arn)


@dataclass(frozen=True, slots=True)
class _Verified:
    """A verified token, the principal trust policies must name, and the condition-key prefix."""

    token: ValidatedToken
    principal: WebIdentityPrincipal
    prefix: str

    @property
    def from_identity_pool(self) -> bool:
        return self.prefix == COGNITO_IDENTITY


async def _identity_pool_token(ctx: CallContext, unverified: UnverifiedToken) -> _Verified:
    """A token of webfed's own issuer (identity pools' basic flow): its ``aud`` must be an
    identity pool of this account; the keys are the process's own (no IAM provider, no fetch)."""
    audience = unverified.claims.get("aud")
    pool = await ctx.store.identity_pools.find(audience) if isinstance(audience, str) else None
    if pool is None or pool.account_id != ctx.account_id:
        raise InvalidIdentityToken(
            "Incorrect token audience: it is not an identity pool of this account.",
            explanation={
                "check": "audience",
                "issuer": unverified.issuer,
                "seen": audience if isinstance(audience, str) else repr(audience)[:256],
                "token_fingerprint": unverified.fingerprint,
            },
        )
    validated = validate_identity_token(
        unverified,
        require_runtime(ctx).issuer_keys,
        issuer=unverified.issuer,
        pool_ids=(pool.pool_id,),
        now=int(ctx.now.timestamp()),
    )
    return _Verified(validated, WebIdentityPrincipal(COGNITO_IDENTITY), COGNITO_IDENTITY)


async def _validated_token(ctx: CallContext, token: str) -> _Verified:
    runtime = require_runtime(ctx)
    unverified = peek_token(token)
    issuer = unverified.issuer
    if issuer == ctx.settings.effective_public_url:
        return await _identity_pool_token(ctx, unverified)
    provider = await runtime.iam.provider(provider_key(issuer))
    if provider is None or not issuer_matches(issuer, provider.url):
        raise unknown_provider(issuer, fingerprint=unverified.fingerprint)
    keys = await runtime.jwks.keys_for(KeySource(provider.url), kid=unverified.kid)
    trusted = TrustedProvider(issuer, provider.client_ids)
    validated = validate_token(unverified, trusted, keys, now=int(ctx.now.timestamp()))
    if validated.issuer != provider.url:
        validated = replace(validated, issuer=provider.url)
    return _Verified(validated, federated_principal(provider), provider_key(issuer))


def trust_context(
    token: ValidatedToken, session_name: str, source_ip: str, prefix: str | None = None
) -> dict[str, str | list[str]]:
    """The condition keys of the assume call: the token's (named ``<prefix>:<claim>``, the
    issuer's URL without scheme by default), the session's, the request's."""
    keys = web_identity_condition_keys(token, prefix or provider_key(token.issuer))
    keys["sts:RoleSessionName"] = session_name
    keys["aws:SourceIp"] = source_ip
    tags = token.principal_tags
    for key, value in tags.items():
        keys[f"aws:RequestTag/{key}"] = value
    if tags:
        keys["aws:TagKeys"] = list(tags)
        keys["sts:TransitiveTagKeys"] = list(token.transitive_tag_keys)
    if token.source_identity is not None:
        keys["sts:SourceIdentity"] = token.source_identity
    return keys


def _actions(token: ValidatedToken) -> list[str]:
    actions = [ACTION]
    if token.principal_tags:
        actions.append("sts:TagSession")
    if token.source_identity is not None:
        actions.append("sts:SetSourceIdentity")
    return actions


def _authorize_trust(
    ctx: CallContext,
    role: Role | None,
    role_arn: str,
    principal: WebIdentityPrincipal,
    keys: Mapping[str, str | Sequence[str]],
    token: ValidatedToken,
) -> Role:
    described = {"federated": principal.provider, "subject": token.subject}
    if role is None:
        raise trust_denied(
            ctx,
            action=ACTION,
            role_arn=role_arn,
            decision=None,
            principal=described,
            conditions=keys,
            reason=f"the role {role_arn} does not exist in account {ctx.account_id}",
        )
    require_trust(ctx, role, principal, _actions(token), keys, described=described)
    return role


def _session(
    ctx: CallContext,
    role: Role,
    verified: _Verified,
    params: Params,
    policies: SessionPolicies,
    duration: int,
) -> SessionContext:
    token, principal = verified.token, verified.principal
    return new_session(
        ctx,
        role,
        params,
        policies,
        duration,
        session_tags=tuple(token.principal_tags.items()),
        transitive_tag_keys=token.transitive_tag_keys,
        source_identity=token.source_identity,
        web_identity=WebIdentity(
            provider=verified.prefix,
            aud=token.audience,
            sub=token.subject,
            amr=token.amr,
            federated_provider=principal.provider,
        ),
    )


async def assume_role_with_web_identity(ctx: CallContext, params: Params) -> Result:
    token_text: str = params["WebIdentityToken"]
    try:
        if params.get("ProviderId") in _OAUTH_PROVIDERS:
            raise InvalidIdentityToken(
                "OAuth 2.0 access tokens (ProviderId) are not supported by this webfed; "
                "use the provider's OpenID Connect ID token.",
                explanation={"check": "provider_id", "provider_id": params["ProviderId"]},
            )
        verified = await _validated_token(ctx, token_text)
        token = verified.token
        keys = trust_context(token, params["RoleSessionName"], ctx.source_ip, verified.prefix)
        role = _authorize_trust(
            ctx,
            await load_role(ctx, params["RoleArn"]),
            params["RoleArn"],
            verified.principal,
            keys,
            token,
        )
    except WebfedError as error:
        raise attach_encoded_message(ctx, error, scrub=(token_text,)) from None
    policies = await read_session_policies(ctx, params)
    duration = check_duration(params.get("DurationSeconds"), role, chained=False)
    if verified.from_identity_pool and duration > IDENTITY_POOL_MAXIMUM:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for credentials "
            "obtained with an identity pool's OpenID token."
        )
    session = _session(ctx, role, verified, params, policies, duration)
    packed = packed_size(policies, session.session_tags)
    credentials = mint(ctx, session)
    result: dict[str, Any] = {
        "Credentials": credentials_member(credentials),
        "SubjectFromWebIdentityToken": token.subject,
        "AssumedRoleUser": assumed_role_user(session),
        "Provider": token.issuer,
        "Audience": token.audience,
        "PackedPolicySize": packed,
        "SourceIdentity": token.source_identity,
    }
    return result

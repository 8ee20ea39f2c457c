"""The ``Logins`` map of the identity-pool flows: every token verified before anything else.

Cognito Identity developer guide ("Identity pools authentication flow", "OpenID Connect
providers"): each key names a provider of the pool, and each token must be valid, from that
provider, unexpired (5 minutes of skew), and for the application the pool registered. webfed
checks them with the same code as STS ``AssumeRoleWithWebIdentity`` (``webfed.core.oidc``: the
signature with the issuer's keys from the shared key cache, then the claims), so a token
refused by one is refused by the other.

Which keys are accepted, and where the keys and audiences come from:

* a public provider with OpenID Connect ID tokens (``accounts.google.com``,
  ``appleid.apple.com``): the issuer ``https://<key>`` (Google also signs ``iss`` without the
  scheme), the audience the pool's ``SupportedLoginProviders`` value;
* an IAM OIDC provider listed in ``OpenIdConnectProviderARNs``, keyed by its URL without the
  scheme: the token's ``iss`` must be that URL, the audience one of the provider's client ids;
* a user pool of ``CognitoIdentityProviders`` (``cognito-idp.REGION.amazonaws.com/POOL``): the
  issuer ``https://<key>``, the audience one of that user pool's client ids;
* ``cognito-identity.amazonaws.com``: a token webfed minted for this pool (developer identities,
  or ``GetOpenIdToken``), verified with webfed's own keys; it names an identity directly.

``www.amazon.com`` and ``graph.facebook.com`` hand out OAuth access tokens, which only a call to
the provider can check; webfed makes no such call and refuses them with a message saying so
(as its STS refuses ``ProviderId``). The developer provider name is refused here: developer
user identifiers go through the signed ``GetOpenIdTokenForDeveloperIdentity``.

A failure is ``NotAuthorizedException`` ("Invalid login token." and the reason), or
``ExternalServiceException`` when the provider's keys cannot be had, with an encoded explanation
for the administrator as STS gives; the token is never in either.

A token verified in this process within the last second, against the same pool and provider,
is not verified again (:mod:`~webfed.api.cognito_identity.verified_memory`):
``GetCredentialsForIdentity`` follows ``GetId`` with the same ``Logins``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webfed.api.cognito_identity._inputs import COGNITO_ISSUER, provider_keys
from webfed.api.cognito_identity.verified_memory import VerifiedMemory
from webfed.api.context import CallContext
from webfed.api.sts.denials import attach_encoded_message
from webfed.api.sts.sessions import require_runtime
from webfed.core.entities import OidcProvider
from webfed.core.oidc import (
    JsonValue,
    TrustedProvider,
    ValidatedToken,
    issuer_matches,
    peek_token,
    validate_token,
)
from webfed.errors import (
    ExternalServiceException,
    IDPCommunicationError,
    NotAuthorized,
    WebfedError,
)
from webfed.issuer.tokens import validate_identity_token
from webfed.jwks import KeySource
from webfed.storage.identity_models import IdentityPool

__all__ = [
    "OAUTH_PROVIDERS",
    "OPENID_PUBLIC_PROVIDERS",
    "VerifiedLogin",
    "invalid_login",
    "verify_logins",
]

OPENID_PUBLIC_PROVIDERS = frozenset({"accounts.google.com", "appleid.apple.com"})
OAUTH_PROVIDERS = frozenset({"www.amazon.com", "graph.facebook.com"})
_LEGACY_PROVIDERS = frozenset({"api.twitter.com", "www.digits.com"})
#: This process's tokens verified in the last second (GetId, then GetCredentialsForIdentity).
_VERIFIED = VerifiedMemory()


@dataclass(frozen=True, slots=True)
class VerifiedLogin:
    """One entry of ``Logins`` after its token passed every check.

    ``provider`` is the ``Logins`` key, ``subject`` the user's id at that provider (for
    ``cognito-identity.amazonaws.com``, the identity id the token was minted for).
    """

    provider: str
    subject: str
    token: ValidatedToken

    @property
    def is_identity_token(self) -> bool:
        """A token of webfed's own issuer: it names an identity rather than a login."""
        return self.provider == COGNITO_ISSUER

    @property
    def claims(self) -> Mapping[str, JsonValue]:
        return self.token.claims


def invalid_login(
    ctx: CallContext, reason: str, *, explanation: dict[str, object]
) -> NotAuthorized:
    """``NotAuthorizedException`` for a login that cannot be used, explained to the admin."""
    error = NotAuthorized(f"Invalid login token. {reason}", explanation=explanation)
    attach_encoded_message(ctx, error)
    return error


def _unsupported(ctx: CallContext, pool: IdentityPool, key: str) -> NotAuthorized:
    known = sorted(provider_keys(pool.config) | {COGNITO_ISSUER})
    if key in OAUTH_PROVIDERS:
        reason = (
            f"{key} issues OAuth 2.0 access tokens, which webfed cannot verify without calling "
            "the provider; sign players in with an OpenID Connect provider instead."
        )
    elif key in _LEGACY_PROVIDERS:
        reason = f"{key} logins are not supported by webfed."
    elif key == pool.config.developer_provider_name:
        reason = (
            f"{key} is the pool's developer provider: get a token for the developer user "
            "identifier with GetOpenIdTokenForDeveloperIdentity (signed, from your backend) "
            f"and pass it under {COGNITO_ISSUER}."
        )
    else:
        reason = (
            f"Token is not from a supported provider of this identity pool: {key[:128]!r} is not "
            f"one of {', '.join(known)}."
        )
    return invalid_login(
        ctx,
        reason,
        explanation={"check": "login_provider", "provider": key[:128], "configured": known},
    )


def _user_pool_clients(pool: IdentityPool, key: str) -> tuple[str, ...]:
    return tuple(
        provider.client_id
        for provider in pool.config.cognito_identity_providers
        if provider.provider_name == key
    )


async def _trusted(
    ctx: CallContext, pool: IdentityPool, key: str, issuer: str
) -> tuple[TrustedProvider, KeySource]:
    """Who must have issued a token for ``key``, for which audiences, and where its keys are."""
    config = pool.config
    if key in config.supported_login_providers and key in OPENID_PUBLIC_PROVIDERS:
        client_ids = (config.supported_login_providers[key],)
        url = f"https://{key}"
        accepted = issuer if issuer_matches(issuer, url) else url
        return TrustedProvider(accepted, client_ids), KeySource(url)
    if key in _oidc_resources(pool):
        provider = await require_runtime(ctx).iam.provider(key)
        if provider is None:
            raise invalid_login(
                ctx,
                f"The identity pool lists the OpenID Connect provider {key}, which IAM no "
                "longer has.",
                explanation={"check": "login_provider", "provider": key, "missing": "iam"},
            )
        return TrustedProvider(provider.url, provider.client_ids), KeySource(provider.url)
    clients = _user_pool_clients(pool, key)
    if clients:
        url = f"https://{key}"
        return TrustedProvider(url, clients), KeySource(url)
    raise _unsupported(ctx, pool, key)


def _oidc_resources(pool: IdentityPool) -> frozenset[str]:
    return frozenset(
        arn.split(":oidc-provider/", 1)[1] for arn in pool.config.open_id_connect_provider_arns
    )


async def _verify_external(
    ctx: CallContext, pool: IdentityPool, key: str, token_text: str
) -> ValidatedToken:
    unverified = peek_token(token_text)
    trusted, source = await _trusted(ctx, pool, key, unverified.issuer)
    if unverified.issuer != trusted.url:
        raise invalid_login(
            ctx,
            f"The token's issuer does not match the {key} login: its iss is "
            f"{unverified.issuer[:256]!r}, expected {trusted.url!r}.",
            explanation={
                "check": "issuer",
                "provider": key,
                "expected": trusted.url,
                "seen": unverified.issuer[:256],
                "token_fingerprint": unverified.fingerprint,
            },
        )
    keys = await require_runtime(ctx).jwks.keys_for(source, kid=unverified.kid)
    return validate_token(unverified, trusted, keys, now=int(ctx.now.timestamp()))


def _verify_own(ctx: CallContext, pool: IdentityPool, token_text: str) -> ValidatedToken:
    runtime = require_runtime(ctx)
    unverified = peek_token(token_text)
    return validate_identity_token(
        unverified,
        runtime.issuer_keys,
        issuer=ctx.settings.effective_public_url,
        pool_ids=(pool.pool_id,),
        now=int(ctx.now.timestamp()),
    )


async def _anchor(ctx: CallContext, pool: IdentityPool, key: str) -> OidcProvider | None:
    """The IAM provider a token of ``key`` is checked against, if ``key`` names one."""
    if key in _oidc_resources(pool):
        return await require_runtime(ctx).iam.provider(key)
    return None


async def _verify_fully(
    ctx: CallContext, pool: IdentityPool, key: str, token_text: str
) -> ValidatedToken:
    if key == COGNITO_ISSUER:
        return _verify_own(ctx, pool, token_text)
    if key in provider_keys(pool.config) and key != pool.config.developer_provider_name:
        return await _verify_external(ctx, pool, key, token_text)
    raise _unsupported(ctx, pool, key)


async def _verify_one(
    ctx: CallContext, pool: IdentityPool, key: str, token_text: str
) -> VerifiedLogin:
    """One login, verified fully or recalled from this process's memory of the last second
    (:mod:`~webfed.api.cognito_identity.verified_memory`)."""
    try:
        anchor = await _anchor(ctx, pool, key)
        token = _VERIFIED.recall(pool, key, token_text, anchor, int(ctx.now.timestamp()))
        if token is None:
            token = await _verify_fully(ctx, pool, key, token_text)
            _VERIFIED.remember(pool, key, token_text, anchor, token)
    except NotAuthorized:
        raise
    except IDPCommunicationError as error:
        failure = ExternalServiceException(
            f"The {key} identity provider could not be reached to verify the login token.",
            explanation=error.explanation,
        )
        raise attach_encoded_message(ctx, failure, scrub=(token_text,)) from None
    except WebfedError as error:
        explanation = dict(error.explanation or {})
        explanation.setdefault("provider", key[:128])
        refused = NotAuthorized(f"Invalid login token. {error.message}", explanation=explanation)
        raise attach_encoded_message(ctx, refused, scrub=(token_text,)) from None
    return VerifiedLogin(key, token.subject, token)


async def verify_logins(
    ctx: CallContext, pool: IdentityPool, logins: Mapping[str, str] | None
) -> tuple[VerifiedLogin, ...]:
    """Every login verified, in the order given; any failure fails the whole call."""
    return tuple(
        [await _verify_one(ctx, pool, key, token) for key, token in (logins or {}).items()]
    )

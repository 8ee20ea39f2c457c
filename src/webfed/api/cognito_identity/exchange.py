"""The enhanced flow's exchange: an identity and its logins in, role credentials out.

``GetCredentialsForIdentity`` is "functionally equivalent to GetOpenIdToken followed by
AssumeRoleWithWebIdentity" (Cognito Identity API reference). webfed does that exchange in
process: the chosen role's trust policy is evaluated for the principal
``cognito-identity.amazonaws.com`` with the condition keys a Cognito token would give STS
(``cognito-identity.amazonaws.com:aud`` = pool id, ``:sub`` = identity id, ``:amr``), and the
session is sealed with that web identity, so permission policies can use
``${cognito-identity.amazonaws.com:sub}``. What differs from the STS call:

* the session name is ``CognitoIdentityCredentials`` and the lifetime one hour (setting
  ``identity_pool_credentials_seconds``);
* guests get the scope-down session policy below (developer guide, "IAM roles": the enhanced
  flow limits unauthenticated identities to a list of services);
* principal tags come from the pool's attribute maps (``SetPrincipalTagAttributeMap``) and from
  the ``https://aws.amazon.com/tags`` claim of a developer token, and need ``sts:TagSession``;
* a role that is missing or whose trust policy refuses is the pool's misconfiguration:
  ``InvalidIdentityPoolConfigurationException``, whose message says which role and which check
  (AWS's one generic sentence is a top complaint), with the encoded explanation for the admin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from webfed.api.cognito_identity._inputs import COGNITO_ISSUER
from webfed.api.cognito_identity.logins import VerifiedLogin
from webfed.api.cognito_identity.role_choice import RoleChoice
from webfed.api.context import CallContext
from webfed.api.sts.denials import attach_encoded_message, require_trust
from webfed.api.sts.sessions import (
    SessionPolicies,
    load_role,
    mint,
    new_session,
    packed_size,
)
from webfed.core.credentials import TemporaryCredentials, WebIdentity
from webfed.core.entities import Role
from webfed.core.oidc import JsonValue
from webfed.core.policy import PolicyKind, WebIdentityPrincipal, parse_policy
from webfed.errors import AccessDenied, InvalidIdentityPoolConfiguration
from webfed.storage.identity_models import Identity, IdentityPool

__all__ = [
    "GUEST_SCOPE_DOWN_POLICY",
    "SESSION_NAME",
    "credentials_for_identity",
    "principal_tags",
]

SESSION_NAME = "CognitoIdentityCredentials"
ACTION = "sts:AssumeRoleWithWebIdentity"
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_SESSION_TAGS = 50

#: The services the developer guide lists for unauthenticated identities in the enhanced flow,
#: plus ``rum:PutRumEvents`` (the managed policy ``AmazonCognitoUnauthenticatedIdentities``).
#: A session policy only narrows: the guest role's own policies still decide within this list.
_GUEST_ACTIONS = (
    "firehose:*",
    "kinesisanalytics:*",
    "sqs:*",
    "sumerian:View*",
    "mobileanalytics:*",
    "ses:*",
    "lambda:*",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "dynamodb:*",
    "sdb:*",
    "appsync:*",
    "geo:*",
    "sns:*",
    "gamelift:*",
    "iot:*",
    "codewhisperer:*",
    "comprehend:*",
    "lex:*",
    "machinelearning:*",
    "personalize:*",
    "polly:*",
    "rekognition:*",
    "sagemaker:InvokeEndpoint",
    "textract:DetectDocumentText",
    "textract:AnalyzeDocument",
    "transcribe:*",
    "translate:*",
    "cloudwatch:*",
    "logs:*",
    "execute-api:*",
    "cognito-identity:*",
    "cognito-idp:*",
    "cognito-sync:*",
    "s3:*",
    "rum:PutRumEvents",
)
GUEST_SCOPE_DOWN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CognitoGuestScopeDown",
                "Effect": "Allow",
                "Action": list(_GUEST_ACTIONS),
                "Resource": "*",
            }
        ],
    },
    separators=(",", ":"),
)
_GUEST_POLICY = parse_policy(GUEST_SCOPE_DOWN_POLICY, PolicyKind.SESSION, name="session policy")
_GUEST_POLICIES = SessionPolicies(GUEST_SCOPE_DOWN_POLICY, (), (_GUEST_POLICY,))
_NO_POLICIES = SessionPolicies(None, (), ())
# A guest's packed size is always the same (the scope-down policy and no tags: guests have no
# logins to map tags from), so it is checked once, here, rather than compressed on every call.
packed_size(_GUEST_POLICIES, ())

#: ``UseDefaults`` maps (developer guide, "Default provider mappings"): tag key -> claim.
_USER_POOL_DEFAULTS = {"client": "aud", "username": "sub"}
_OTHER_DEFAULTS = {"aud": "aud", "sub": "sub"}


def _misconfigured(
    pool: IdentityPool, role_arn: str, detail: str, *, explanation: Mapping[str, object]
) -> InvalidIdentityPoolConfiguration:
    return InvalidIdentityPoolConfiguration(
        f"Invalid identity pool configuration. Check assigned IAM roles for this pool. {detail}",
        explanation={"pool": pool.pool_id, "role": role_arn, **explanation},
    )


def _tag_value(value: JsonValue | None) -> str | None:
    if isinstance(value, str):
        return value[:MAX_TAG_VALUE] if value else None
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return _tag_value(value[0])
    return None


def _mapped_tags(pool: IdentityPool, login: VerifiedLogin) -> dict[str, str]:
    attribute_map = pool.principal_tag_maps.get(login.provider)
    if attribute_map is None:
        return {}
    if attribute_map.use_defaults:
        is_user_pool = login.provider.startswith("cognito-idp.")
        wanted: Mapping[str, str] = _USER_POOL_DEFAULTS if is_user_pool else _OTHER_DEFAULTS
    else:
        wanted = attribute_map.principal_tags
    tags: dict[str, str] = {}
    for key, claim in wanted.items():
        value = login.token.audience if claim == "aud" else _tag_value(login.claims.get(claim))
        if value is not None and len(key) <= MAX_TAG_KEY:
            tags[key] = value
    return tags


def principal_tags(pool: IdentityPool, logins: Sequence[VerifiedLogin]) -> dict[str, str]:
    """Session tags for the logins: attribute maps per provider, a developer token's tags; the
    first login to name a key wins (request order)."""
    tags: dict[str, str] = {}
    for login in logins:
        found = dict(login.token.principal_tags) if login.is_identity_token else {}
        found.update(_mapped_tags(pool, login))
        for key, value in found.items():
            tags.setdefault(key, value)
    return dict(list(tags.items())[:MAX_SESSION_TAGS])


def _trust_keys(
    ctx: CallContext,
    pool: IdentityPool,
    identity: Identity,
    amr: Sequence[str],
    tags: Mapping[str, str],
) -> dict[str, str | list[str]]:
    keys: dict[str, str | list[str]] = {
        f"{COGNITO_ISSUER}:aud": pool.pool_id,
        f"{COGNITO_ISSUER}:sub": identity.identity_id,
        f"{COGNITO_ISSUER}:amr": list(amr),
        "aws:FederatedProvider": COGNITO_ISSUER,
        "sts:RoleSessionName": SESSION_NAME,
        "aws:SourceIp": ctx.source_ip,
    }
    for key, value in tags.items():
        keys[f"aws:RequestTag/{key}"] = value
    if tags:
        keys["aws:TagKeys"] = list(tags)
    return keys


async def _trusted_role(
    ctx: CallContext,
    pool: IdentityPool,
    choice: RoleChoice,
    keys: Mapping[str, str | Sequence[str]],
    tagged: bool,
) -> Role:
    role = await load_role(ctx, choice.role_arn)
    if role is None:
        raise attach_encoded_message(
            ctx,
            _misconfigured(
                pool,
                choice.role_arn,
                f"The role {choice.role_arn} ({choice.reason}) does not exist.",
                explanation={"check": "role_exists"},
            ),
        )
    actions = [ACTION, "sts:TagSession"] if tagged else [ACTION]
    try:
        require_trust(
            ctx,
            role,
            WebIdentityPrincipal(COGNITO_ISSUER),
            actions,
            keys,
            described={"federated": COGNITO_ISSUER, "subject": str(keys[f"{COGNITO_ISSUER}:sub"])},
        )
    except AccessDenied as denied:
        explained = dict(denied.explanation or {})
        context = explained.get("context")
        action = str(context.get("action", ACTION)) if isinstance(context, dict) else ACTION
        error = _misconfigured(
            pool,
            role.arn,
            f"The trust policy of role {role.arn} ({choice.reason}) does not allow {action} "
            f"for {COGNITO_ISSUER} with this pool's aud {pool.pool_id} and amr "
            f"{list(keys[f'{COGNITO_ISSUER}:amr'])[:1]}.",
            explanation=explained,
        )
        raise attach_encoded_message(ctx, error) from None
    return role


async def credentials_for_identity(
    ctx: CallContext,
    pool: IdentityPool,
    identity: Identity,
    logins: Sequence[VerifiedLogin],
    choice: RoleChoice,
    amr: Sequence[str],
) -> TemporaryCredentials:
    """Credentials for ``identity`` in the role ``choice`` names, sealed with its web identity."""
    tags = principal_tags(pool, logins)
    keys = _trust_keys(ctx, pool, identity, amr, tags)
    role = await _trusted_role(ctx, pool, choice, keys, bool(tags))
    guest = not logins
    policies = _GUEST_POLICIES if guest else _NO_POLICIES
    session = new_session(
        ctx,
        role,
        {"RoleSessionName": SESSION_NAME},
        policies,
        ctx.settings.identity_pool_credentials_seconds,
        session_tags=tuple(tags.items()),
        web_identity=WebIdentity(
            provider=COGNITO_ISSUER,
            aud=pool.pool_id,
            sub=identity.identity_id,
            amr=tuple(amr),
            federated_provider=COGNITO_ISSUER,
        ),
    )
    if not guest:
        packed_size(policies, session.session_tags)
    return mint(ctx, session)

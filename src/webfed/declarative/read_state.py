"""Reading the account's current IAM state through the List and Get operations.

The outputs follow IAM's output shapes (botocore ``iam/2010-05-08``). IAM returns policy
documents URL-encoded (RFC 3986); they are decoded here, numbers kept as written (any length).
``GetOpenIDConnectProvider`` returns the URL without its scheme, as IAM does; ``https://`` is
assumed then, since IAM accepts no other. Identity pools are read through the Cognito Identity
operations (``ListIdentityPools``, ``DescribeIdentityPool``, ``GetIdentityPoolRoles`` and, for
each provider of a pool, ``GetPrincipalTagAttributeMap``) when the client offers them; a
provider's static key set through webfed's own ``GetOpenIDConnectProviderStaticKeys``, likewise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from webfed.declarative.iam_client import IamClient
from webfed.declarative.model import (
    DEFAULT_MAX_SESSION_DURATION,
    IdentityPool,
    InlinePolicy,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    State,
    Tags,
)
from webfed.declarative.pool_wire import pool_from_api, provider_names
from webfed.declarative.static_keys import GET_STATIC_KEYS

__all__ = ["decode_document", "read_state"]


async def read_state(client: IamClient) -> State:
    """Every OpenID Connect provider, customer managed policy and role of the account."""
    return State(
        account_id=client.account_id,
        providers=tuple(await _providers(client)),
        policies=tuple(await _policies(client)),
        roles=tuple(await _roles(client)),
        identity_pools=tuple(await _identity_pools(client)),
    )


def decode_document(text: str) -> PolicyDocument:
    """A document as IAM returns it: URL-encoded JSON, or plain JSON.

    Never raises: a document this reader cannot parse is kept opaque (exported as its text,
    and replaced by whatever the file declares), so one odd entity cannot stop an export.
    """
    plain = text if text.lstrip().startswith("{") else unquote(text)
    try:
        return PolicyDocument.from_text(plain)
    except ValueError:
        return PolicyDocument.opaque(plain)


def _tags(items: list[dict[str, Any]] | None) -> Tags:
    return Tags.of({str(tag["Key"]): str(tag.get("Value", "")) for tag in items or []})


async def _providers(client: IamClient) -> list[Provider]:
    listed = await client.call("ListOpenIDConnectProviders", {})
    providers = []
    for entry in listed.get("OpenIDConnectProviderList") or []:
        arn = entry["Arn"]
        found = await client.call("GetOpenIDConnectProvider", {"OpenIDConnectProviderArn": arn})
        url = str(found["Url"])
        providers.append(
            Provider(
                url=url if "://" in url else f"https://{url}",
                client_ids=tuple(found.get("ClientIDList") or ()),
                thumbprints=tuple(found.get("ThumbprintList") or ()),
                tags=_tags(found.get("Tags")),
                static_keys=await _static_keys(client, arn),
            )
        )
    return providers


async def _static_keys(client: IamClient, arn: str) -> str | None:
    if not client.supports(GET_STATIC_KEYS):
        return None
    found = await client.call(GET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn})
    keys = found.get("StaticKeySet")
    return None if keys is None else str(keys)


async def _policies(client: IamClient) -> list[ManagedPolicy]:
    listed = await client.paged("ListPolicies", {"Scope": "Local"}, "Policies")
    return [await _policy(client, entry["Arn"]) for entry in listed]


async def _policy(client: IamClient, arn: str) -> ManagedPolicy:
    policy = (await client.call("GetPolicy", {"PolicyArn": arn}))["Policy"]
    default = str(policy["DefaultVersionId"])
    version = await client.call("GetPolicyVersion", {"PolicyArn": arn, "VersionId": default})
    versions = await client.paged("ListPolicyVersions", {"PolicyArn": arn}, "Versions")
    ordered = sorted((str(v["VersionId"]) for v in versions), key=_version_number)
    return ManagedPolicy(
        name=str(policy["PolicyName"]),
        document=decode_document(str(version["PolicyVersion"]["Document"])),
        path=str(policy.get("Path") or "/"),
        description=str(policy.get("Description") or ""),
        tags=_tags(policy.get("Tags")),
        default_version_id=default,
        version_ids=tuple(ordered),
    )


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


async def _roles(client: IamClient) -> list[Role]:
    listed = await client.paged("ListRoles", {}, "Roles")
    return [await _role(client, str(entry["RoleName"])) for entry in listed]


async def _role(client: IamClient, name: str) -> Role:
    role = (await client.call("GetRole", {"RoleName": name}))["Role"]
    boundary = role.get("PermissionsBoundary") or {}
    return Role(
        name=str(role["RoleName"]),
        trust_policy=decode_document(str(role["AssumeRolePolicyDocument"])),
        path=str(role.get("Path") or "/"),
        description=str(role.get("Description") or ""),
        max_session_duration=int(role.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_DURATION),
        inline_policies=tuple(await _inline_policies(client, name)),
        managed_policies=tuple(await _attached(client, name)),
        permissions_boundary=boundary.get("PermissionsBoundaryArn"),
        tags=_tags(role.get("Tags")),
    )


async def _inline_policies(client: IamClient, role_name: str) -> list[InlinePolicy]:
    names = await client.paged("ListRolePolicies", {"RoleName": role_name}, "PolicyNames")
    policies = []
    for name in names:
        params = {"RoleName": role_name, "PolicyName": name}
        found = await client.call("GetRolePolicy", params)
        policies.append(InlinePolicy(str(name), decode_document(str(found["PolicyDocument"]))))
    return policies


async def _attached(client: IamClient, role_name: str) -> list[str]:
    params = {"RoleName": role_name}
    attached = await client.paged("ListAttachedRolePolicies", params, "AttachedPolicies")
    return [str(entry["PolicyArn"]) for entry in attached]


_MAX_POOLS_PER_PAGE = 60


async def _identity_pools(client: IamClient) -> list[IdentityPool]:
    if not client.supports("ListIdentityPools"):
        return []
    pools = []
    request: dict[str, Any] = {"MaxResults": _MAX_POOLS_PER_PAGE}
    while True:
        page = await client.call("ListIdentityPools", request)
        for entry in page.get("IdentityPools") or []:
            pools.append(await _identity_pool(client, str(entry["IdentityPoolId"])))
        token = page.get("NextToken")
        if not token:
            return pools
        request["NextToken"] = token


async def _identity_pool(client: IamClient, pool_id: str) -> IdentityPool:
    params = {"IdentityPoolId": pool_id}
    described = await client.call("DescribeIdentityPool", params)
    roles = await client.call("GetIdentityPoolRoles", params)
    bare = pool_from_api(described, roles, {})
    maps = {}
    for provider in sorted(provider_names(bare)):
        request = {**params, "IdentityProviderName": provider}
        maps[provider] = await client.call("GetPrincipalTagAttributeMap", request)
    return pool_from_api(described, roles, maps)

"""Carrying out a plan: each change becomes one or two IAM or Cognito Identity calls, made in
plan order.

:func:`calls_for` is pure (a change to its IAM requests, with IAM's member names), so the
operations a plan needs can be checked before the first call. :func:`execute` stops at the first
failure and says which changes were made before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webfed.declarative.changes import (
    AddClientId,
    AttachPolicy,
    Change,
    CreateIdentityPool,
    CreatePolicy,
    CreatePolicyVersion,
    CreateProvider,
    CreateRole,
    DeleteBoundary,
    DeleteIdentityPool,
    DeleteInlinePolicy,
    DeletePolicy,
    DeletePolicyVersion,
    DeleteProvider,
    DeleteRole,
    DetachPolicy,
    PutBoundary,
    PutInlinePolicy,
    RemoveClientId,
    SetIdentityPoolRoles,
    SetPrincipalTags,
    SetStaticKeys,
    SetThumbprints,
    TagIdentityPool,
    TagPolicy,
    TagProvider,
    TagRole,
    UntagIdentityPool,
    UntagPolicy,
    UntagProvider,
    UntagRole,
    UpdateIdentityPool,
    UpdateRole,
    UpdateTrustPolicy,
)
from webfed.declarative.iam_client import IamClient
from webfed.declarative.model import ManagedPolicy, Provider, Role, Tags
from webfed.declarative.pool_wire import (
    CREATE_WITH_ID,
    create_params,
    principal_tag_params,
    roles_params,
    update_params,
)
from webfed.declarative.static_keys import SET_STATIC_KEYS
from webfed.errors import WebfedError

__all__ = ["Call", "Outcome", "calls_for", "execute", "missing_operations"]

Call = tuple[str, dict[str, Any]]
_ARN = "OpenIDConnectProviderArn"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What :func:`execute` did: the changes made, and the error that stopped it, if any."""

    applied: tuple[Change, ...]
    failed: Change | None = None
    error: WebfedError | None = None


def missing_operations(changes: Sequence[Change], client: IamClient) -> list[str]:
    """IAM operations the plan needs that the handler table does not offer."""
    needed = {name for change in changes for name, _ in calls_for(change)}
    return sorted(name for name in needed if not client.supports(name))


async def execute(changes: Sequence[Change], client: IamClient) -> Outcome:
    applied: list[Change] = []
    for change in changes:
        try:
            for operation, params in calls_for(change):
                await client.call(operation, params)
        except WebfedError as error:
            return Outcome(tuple(applied), change, error)
        applied.append(change)
    return Outcome(tuple(applied))


def _tag_list(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items]


def calls_for(change: Change) -> list[Call]:
    """The IAM requests that make one change."""
    match change:
        case CreateProvider(provider):
            return [("CreateOpenIDConnectProvider", _provider_params(provider))]
        case SetStaticKeys(arn, static_keys):
            return [(SET_STATIC_KEYS, {_ARN: arn, "StaticKeySet": static_keys})]
        case AddClientId(arn, client_id):
            return [("AddClientIDToOpenIDConnectProvider", {_ARN: arn, "ClientID": client_id})]
        case RemoveClientId(arn, client_id):
            params = {_ARN: arn, "ClientID": client_id}
            return [("RemoveClientIDFromOpenIDConnectProvider", params)]
        case SetThumbprints(arn, thumbprints):
            update: dict[str, Any] = {_ARN: arn, "ThumbprintList": list(thumbprints)}
            return [("UpdateOpenIDConnectProviderThumbprint", update)]
        case TagProvider(arn, tags):
            return [("TagOpenIDConnectProvider", {_ARN: arn, "Tags": _tag_list(tags)})]
        case UntagProvider(arn, keys):
            return [("UntagOpenIDConnectProvider", {_ARN: arn, "TagKeys": list(keys)})]
        case DeleteProvider(arn):
            return [("DeleteOpenIDConnectProvider", {_ARN: arn})]
    return _policy_calls(change)


def _policy_calls(change: Change) -> list[Call]:
    match change:
        case CreatePolicy(policy):
            return [("CreatePolicy", _policy_params(policy))]
        case CreatePolicyVersion(arn, document, delete_version_id):
            create = {"PolicyArn": arn, "PolicyDocument": document.text, "SetAsDefault": True}
            calls: list[Call] = [("CreatePolicyVersion", create)]
            if delete_version_id is not None:
                delete = {"PolicyArn": arn, "VersionId": delete_version_id}
                calls.insert(0, ("DeletePolicyVersion", delete))
            return calls
        case TagPolicy(arn, tags):
            return [("TagPolicy", {"PolicyArn": arn, "Tags": _tag_list(tags)})]
        case UntagPolicy(arn, keys):
            return [("UntagPolicy", {"PolicyArn": arn, "TagKeys": list(keys)})]
        case DeletePolicyVersion(arn, version_id):
            return [("DeletePolicyVersion", {"PolicyArn": arn, "VersionId": version_id})]
        case DeletePolicy(arn):
            return [("DeletePolicy", {"PolicyArn": arn})]
    return _role_calls(change)


def _role_calls(change: Change) -> list[Call]:
    match change:
        case CreateRole(role):
            return [("CreateRole", _role_params(role))]
        case UpdateTrustPolicy(name, document):
            return [("UpdateAssumeRolePolicy", {"RoleName": name, "PolicyDocument": document.text})]
        case UpdateRole(name, description, duration):
            params = {"RoleName": name, "Description": description, "MaxSessionDuration": duration}
            return [("UpdateRole", params)]
        case PutInlinePolicy(role_name, policy_name, document, _):
            params = {"RoleName": role_name, "PolicyName": policy_name}
            return [("PutRolePolicy", {**params, "PolicyDocument": document.text})]
        case DeleteInlinePolicy(role_name, policy_name):
            return [("DeleteRolePolicy", {"RoleName": role_name, "PolicyName": policy_name})]
    return _role_part_calls(change)


def _role_part_calls(change: Change) -> list[Call]:
    match change:
        case AttachPolicy(role_name, arn):
            return [("AttachRolePolicy", {"RoleName": role_name, "PolicyArn": arn})]
        case DetachPolicy(role_name, arn):
            return [("DetachRolePolicy", {"RoleName": role_name, "PolicyArn": arn})]
        case PutBoundary(role_name, arn):
            params = {"RoleName": role_name, "PermissionsBoundary": arn}
            return [("PutRolePermissionsBoundary", params)]
        case DeleteBoundary(role_name):
            return [("DeleteRolePermissionsBoundary", {"RoleName": role_name})]
        case TagRole(role_name, tags):
            return [("TagRole", {"RoleName": role_name, "Tags": _tag_list(tags)})]
        case UntagRole(role_name, keys):
            return [("UntagRole", {"RoleName": role_name, "TagKeys": list(keys)})]
        case DeleteRole(role_name):
            return [("DeleteRole", {"RoleName": role_name})]
    return _pool_calls(change)


def _pool_calls(change: Change) -> list[Call]:
    match change:
        case CreateIdentityPool(pool):
            return [(CREATE_WITH_ID, create_params(pool))]
        case UpdateIdentityPool(pool):
            return [("UpdateIdentityPool", update_params(pool))]
        case SetIdentityPoolRoles(pool):
            return [("SetIdentityPoolRoles", roles_params(pool))]
        case SetPrincipalTags(pool_id, provider, tags):
            params = principal_tag_params(pool_id, provider, tags)
            return [("SetPrincipalTagAttributeMap", params)]
        case TagIdentityPool(arn, tags):
            return [("TagResource", {"ResourceArn": arn, "Tags": tags.as_dict()})]
        case UntagIdentityPool(arn, keys):
            return [("UntagResource", {"ResourceArn": arn, "TagKeys": list(keys)})]
        case DeleteIdentityPool(pool_id):
            return [("DeleteIdentityPool", {"IdentityPoolId": pool_id})]
    raise AssertionError(f"no call for {change!r}")


def _provider_params(provider: Provider) -> dict[str, Any]:
    params: dict[str, Any] = {"Url": provider.url, "ClientIDList": list(provider.client_ids)}
    if provider.thumbprints:
        params["ThumbprintList"] = list(provider.thumbprints)
    if provider.tags.items:
        params["Tags"] = _tag_list(provider.tags)
    return params


def _policy_params(policy: ManagedPolicy) -> dict[str, Any]:
    params: dict[str, Any] = {
        "PolicyName": policy.name,
        "Path": policy.path,
        "PolicyDocument": policy.document.text,
    }
    if policy.description:
        params["Description"] = policy.description
    if policy.tags.items:
        params["Tags"] = _tag_list(policy.tags)
    return params


def _role_params(role: Role) -> dict[str, Any]:
    params: dict[str, Any] = {
        "RoleName": role.name,
        "Path": role.path,
        "AssumeRolePolicyDocument": role.trust_policy.text,
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description:
        params["Description"] = role.description
    if role.permissions_boundary is not None:
        params["PermissionsBoundary"] = role.permissions_boundary
    if role.tags.items:
        params["Tags"] = _tag_list(role.tags)
    return params

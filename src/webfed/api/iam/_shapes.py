"""Entities to IAM output members (botocore's ``iam`` 2010-05-08 output shapes).

Members whose value is absent are left out, as IAM leaves them out. Listing operations return
the subset of attributes IAM documents for them ("IAM resource-listing operations return a
subset of the available attributes"): no tags, no boundary, no last-used for roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from webfed.api.iam._documents import encode_document
from webfed.core.entities import ManagedPolicy, Page, PolicyVersion, Role, Tag

__all__ = ["page_members", "policy_shape", "role_shape", "tags_shape", "version_shape"]

Shape = dict[str, Any]


def tags_shape(tags: Iterable[Tag]) -> list[dict[str, str]]:
    return [{"Key": tag.key, "Value": tag.value} for tag in tags]


def page_members(page: Page[Any]) -> Shape:
    """``IsTruncated`` and, when truncated, ``Marker``."""
    members: Shape = {"IsTruncated": page.is_truncated}
    if page.marker is not None:
        members["Marker"] = page.marker
    return members


def role_shape(role: Role, *, full: bool = True) -> Shape:
    shape: Shape = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.create_date,
        "AssumeRolePolicyDocument": encode_document(role.trust_policy),
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description is not None:
        shape["Description"] = role.description
    if full:
        if role.permissions_boundary_arn is not None:
            # The model's enum says "PermissionsBoundaryPolicy"; IAM actually answers "Policy"
            # (the AWS CLI's get-role/get-user examples show it), and clients compare to that.
            shape["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": role.permissions_boundary_arn,
            }
        if role.tags:
            shape["Tags"] = tags_shape(role.tags)
        shape["RoleLastUsed"] = {}
    return shape


def policy_shape(policy: ManagedPolicy, *, full: bool = True) -> Shape:
    shape: Shape = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": policy.permissions_boundary_usage_count,
        "IsAttachable": True,
        "CreateDate": policy.create_date,
        "UpdateDate": policy.update_date,
    }
    if policy.description is not None and full:
        shape["Description"] = policy.description
    if policy.tags and full:
        shape["Tags"] = tags_shape(policy.tags)
    return shape


def version_shape(version: PolicyVersion, *, with_document: bool = True) -> Shape:
    shape: Shape = {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.is_default,
        "CreateDate": version.create_date,
    }
    if with_document:
        shape["Document"] = encode_document(version.document)
    return shape

"""The IAM control plane: one handler per IAM Query API operation webfed serves.

Every operation needs administrator credentials (:attr:`Auth.ADMIN`). Parameters arrive
decoded and checked against botocore's IAM model by the protocol layer; handlers apply IAM's
semantic rules and return members named as in the model's output shapes. See ``docs/iam.md``.
"""

from __future__ import annotations

from webfed.api.context import Auth, Handler, Operation
from webfed.api.iam import policies, providers, roles, simulate

__all__ = ["OPERATIONS"]

_HANDLERS: dict[str, Handler] = {
    "CreateOpenIDConnectProvider": providers.create_provider,
    "GetOpenIDConnectProvider": providers.get_provider,
    "ListOpenIDConnectProviders": providers.list_providers,
    "DeleteOpenIDConnectProvider": providers.delete_provider,
    "AddClientIDToOpenIDConnectProvider": providers.add_client_id,
    "RemoveClientIDFromOpenIDConnectProvider": providers.remove_client_id,
    "UpdateOpenIDConnectProviderThumbprint": providers.update_thumbprint,
    "TagOpenIDConnectProvider": providers.tag_provider,
    "UntagOpenIDConnectProvider": providers.untag_provider,
    "ListOpenIDConnectProviderTags": providers.list_provider_tags,
    "CreateRole": roles.create_role,
    "GetRole": roles.get_role,
    "UpdateRole": roles.update_role,
    "UpdateRoleDescription": roles.update_role_description,
    "DeleteRole": roles.delete_role,
    "ListRoles": roles.list_roles,
    "UpdateAssumeRolePolicy": roles.update_assume_role_policy,
    "PutRolePolicy": roles.put_role_policy,
    "GetRolePolicy": roles.get_role_policy,
    "ListRolePolicies": roles.list_role_policies,
    "DeleteRolePolicy": roles.delete_role_policy,
    "PutRolePermissionsBoundary": roles.put_role_boundary,
    "DeleteRolePermissionsBoundary": roles.delete_role_boundary,
    "TagRole": roles.tag_role,
    "UntagRole": roles.untag_role,
    "ListRoleTags": roles.list_role_tags,
    "CreatePolicy": policies.create_policy,
    "GetPolicy": policies.get_policy,
    "DeletePolicy": policies.delete_policy,
    "ListPolicies": policies.list_policies,
    "CreatePolicyVersion": policies.create_policy_version,
    "GetPolicyVersion": policies.get_policy_version,
    "ListPolicyVersions": policies.list_policy_versions,
    "DeletePolicyVersion": policies.delete_policy_version,
    "SetDefaultPolicyVersion": policies.set_default_policy_version,
    "AttachRolePolicy": policies.attach_role_policy,
    "DetachRolePolicy": policies.detach_role_policy,
    "ListAttachedRolePolicies": policies.list_attached_role_policies,
    "SimulatePrincipalPolicy": simulate.simulate_principal_policy,
    "SimulateCustomPolicy": simulate.simulate_custom_policy,
}

OPERATIONS: dict[str, Operation] = {
    name: Operation(name, handler, Auth.ADMIN) for name, handler in _HANDLERS.items()
}

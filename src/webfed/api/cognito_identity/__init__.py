"""Cognito Identity (identity pools), AWS JSON 1.1, ``AWSCognitoIdentityService.<Operation>``.

The four public calls (``GetId``, ``GetCredentialsForIdentity``, ``GetOpenIdToken``,
``UnlinkIdentity``) are unsigned; every other operation needs the administrator's credentials.
Parameters arrive decoded and checked against botocore's ``cognito-identity`` model. See
``docs/identity-pools.md``.
"""

from __future__ import annotations

from webfed.api.cognito_identity import developer, flows, identities, pools
from webfed.api.context import Auth, Handler, Operation

__all__ = ["OPERATIONS"]

_HANDLERS: dict[str, Handler] = {
    "CreateIdentityPool": pools.create_identity_pool,
    "UpdateIdentityPool": pools.update_identity_pool,
    "DescribeIdentityPool": pools.describe_identity_pool,
    "DeleteIdentityPool": pools.delete_identity_pool,
    "ListIdentityPools": pools.list_identity_pools,
    "SetIdentityPoolRoles": pools.set_identity_pool_roles,
    "GetIdentityPoolRoles": pools.get_identity_pool_roles,
    "SetPrincipalTagAttributeMap": pools.set_principal_tag_attribute_map,
    "GetPrincipalTagAttributeMap": pools.get_principal_tag_attribute_map,
    "TagResource": pools.tag_resource,
    "UntagResource": pools.untag_resource,
    "ListTagsForResource": pools.list_tags_for_resource,
    "DescribeIdentity": identities.describe_identity,
    "ListIdentities": identities.list_identities,
    "DeleteIdentities": identities.delete_identities,
    "GetOpenIdTokenForDeveloperIdentity": developer.get_open_id_token_for_developer_identity,
    "LookupDeveloperIdentity": developer.lookup_developer_identity,
    "MergeDeveloperIdentities": developer.merge_developer_identities,
    "UnlinkDeveloperIdentity": developer.unlink_developer_identity,
}
_PUBLIC: dict[str, Handler] = {
    "GetId": flows.get_id,
    "GetCredentialsForIdentity": flows.get_credentials_for_identity,
    "GetOpenIdToken": flows.get_open_id_token,
    "UnlinkIdentity": flows.unlink_identity,
}

OPERATIONS: dict[str, Operation] = {
    **{name: Operation(name, handler, Auth.ADMIN) for name, handler in _HANDLERS.items()},
    **{name: Operation(name, handler, Auth.NONE) for name, handler in _PUBLIC.items()},
}

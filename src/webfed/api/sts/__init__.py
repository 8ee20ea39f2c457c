"""The STS operations (Query protocol, ``https://sts.amazonaws.com/doc/2011-06-15/``)."""

from __future__ import annotations

from webfed.api.context import Auth, Operation
from webfed.api.sts.assume_role import assume_role
from webfed.api.sts.identity import decode_message, get_caller_identity
from webfed.api.sts.web_identity import assume_role_with_web_identity

__all__ = ["OPERATIONS"]

OPERATIONS = {
    operation.name: operation
    for operation in (
        Operation("AssumeRoleWithWebIdentity", assume_role_with_web_identity, Auth.NONE),
        Operation("AssumeRole", assume_role, Auth.SIGNED),
        Operation("GetCallerIdentity", get_caller_identity, Auth.SIGNED),
        Operation("DecodeAuthorizationMessage", decode_message, Auth.SIGNED),
    )
}

"""Shared builders for the policy tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from webfed.core.policy import (
    AuthorizationRequest,
    Policy,
    PolicyKind,
    Principal,
    RoleSessionPrincipal,
    parse_policy,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/game-players"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/game-players/alice"


def session_principal(account: str = ACCOUNT, name: str = "alice") -> RoleSessionPrincipal:
    return RoleSessionPrincipal(
        account=account,
        role_arn=f"arn:aws:iam::{account}:role/game-players",
        role_id="AROADBQP57FF2AEXAMPLE",
        session_name=name,
        session_arn=f"arn:aws:sts::{account}:assumed-role/game-players/{name}",
    )


def make_policy(
    *statements: Mapping[str, object],
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str = "policy",
    version: str | None = "2012-10-17",
) -> Policy:
    body: dict[str, object] = {} if version is None else {"Version": version}
    body["Statement"] = list(statements)
    return parse_policy(json.dumps(body), kind, name=name)


def allow(action: object = "*", resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object = "*", resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def make_request(
    action: str,
    resource: str,
    context: Mapping[str, str | Sequence[str]] | None = None,
    principal: Principal | None = None,
) -> AuthorizationRequest:
    return AuthorizationRequest.build(principal or session_principal(), action, resource, context)

"""Small builders shared by the storage tests."""

from __future__ import annotations

import random

from tests.unit.storage.conftest import DOCUMENT, NOW, TRUST
from webfed.core.entities import ManagedPolicy, Role, Tag
from webfed.core.identifiers import new_policy_id, new_role_id
from webfed.storage import Store

_RNG = random.Random(7)


async def make_role(
    store: Store, account: str, name: str = "Role", *, tags: tuple[Tag, ...] = (), **extra: object
) -> Role:
    fields: dict[str, object] = {
        "role_id": new_role_id(random.Random()),
        "name": name,
        "path": "/",
        "trust_policy": TRUST,
        "description": None,
        "max_session_duration": 3600,
        "permissions_boundary_arn": None,
        "tags": tags,
        "now": NOW,
    } | extra
    return await store.iam.roles.create(account, **fields)  # type: ignore[arg-type]


async def make_policy(
    store: Store, account: str, name: str = "Policy", *, path: str = "/"
) -> ManagedPolicy:
    return await store.iam.policies.create(
        account,
        policy_id=new_policy_id(random.Random()),
        name=name,
        path=path,
        description=None,
        document=DOCUMENT,
        tags=(),
        now=NOW,
    )

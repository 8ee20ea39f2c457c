"""The embeddable ``Authorizer`` (ASGI middleware, decision endpoints, gateways) enforces the
revocation rules it is given, and ``from_runtime`` shares the server's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.authorize.helpers import ACCOUNT, ADMIN, NOW, Clock, mint, ring, sign_with
from webfed.authorizer import Authorizer
from webfed.core.credentials import SessionTokenCache
from webfed.core.sigv4 import STANDARD_RULES
from webfed.errors import InvalidClientTokenId
from webfed.revocation import RevocationKind, RevocationRule, RevocationSet


class _NoPolicies:
    async def role_policies(self, name: str) -> None:
        return None

    async def managed_policy(self, arn: str) -> None:
        return None


def _revoking(access_key_id: str) -> RevocationSet:
    rule = RevocationRule(1, ACCOUNT, RevocationKind.ACCESS_KEY, access_key_id, NOW, NOW)
    return RevocationSet([rule])


async def test_the_authorizer_refuses_a_revoked_session() -> None:
    credentials = mint()
    current = ring()
    rules = RevocationSet()
    authorizer = Authorizer(
        policies=_NoPolicies(),
        key_ring=lambda: current,
        account_id=ACCOUNT,
        region="us-east-1",
        clock=Clock(),
        revocations=lambda: rules,
    )
    request = sign_with(credentials)
    assert authorizer.verifier.verify(request, rules=STANDARD_RULES).session is not None
    rules = _revoking(credentials.access_key_id)
    with pytest.raises(InvalidClientTokenId):
        await authorizer.check(request, action="s3:GetObject", resource="arn:aws:s3:::b/k")


def test_from_runtime_uses_the_servers_rules() -> None:
    credentials = mint()
    current = ring()
    holder = SimpleNamespace(current=_revoking(credentials.access_key_id))
    runtime: Any = SimpleNamespace(
        iam=_NoPolicies(),
        key_ring=current,
        settings=SimpleNamespace(account_id=ACCOUNT, region="us-east-1"),
        rng=None,
        admin=ADMIN,
        sessions=SessionTokenCache(),
        revocations=SimpleNamespace(get=lambda: holder.current),
        clock=Clock(),
    )
    authorizer = Authorizer.from_runtime(runtime)
    with pytest.raises(InvalidClientTokenId):
        authorizer.verifier.verify(sign_with(credentials), rules=STANDARD_RULES)
    holder.current = RevocationSet()
    assert authorizer.verifier.verify(sign_with(credentials), rules=STANDARD_RULES).session

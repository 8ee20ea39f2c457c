"""The identity-pool flows' one-second memory of verified login tokens: recalled only for the same
pool object, the same IAM provider object, within the second and before the token expires."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from webfed.api.cognito_identity.verified_memory import MEMORY_SECONDS, VerifiedMemory
from webfed.core.oidc import CLOCK_SKEW_SECONDS, ValidatedToken
from webfed.core.oidc.session_claims import SessionClaims
from webfed.storage.identity_models import IdentityPool, IdentityPoolConfig, frozen_map

NOW = datetime(2026, 11, 26, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
EXPIRES = EPOCH + 600
KEY = "issuer.example/players"
TOKEN = "header.payload.signature"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pool() -> IdentityPool:
    return IdentityPool(
        pool_id="us-east-1:00000000-0000-4000-8000-000000000001",
        account_id="000000000000",
        arn="arn:aws:cognito-identity:us-east-1:000000000000:identitypool/x",
        config=IdentityPoolConfig(name="game", allow_unauthenticated=False),
        roles=frozen_map(),
        role_mappings=MappingProxyType({}),
        tags=frozen_map(),
        create_date=NOW,
        update_date=NOW,
    )


def _token() -> ValidatedToken:
    return ValidatedToken(
        issuer=f"https://{KEY}",
        subject="player-1",
        audience="app",
        audiences=("app",),
        authorized_party=None,
        amr=(),
        issued_at=EPOCH,
        expires_at=EXPIRES,
        not_before=None,
        claims=MappingProxyType({"sub": "player-1"}),
        session=SessionClaims(MappingProxyType({}), (), None),
        key_id="k1",
        algorithm="RS256",
        fingerprint="0" * 16,
    )


@pytest.fixture
def remembered() -> tuple[VerifiedMemory, Clock, IdentityPool, object, ValidatedToken]:
    clock = Clock()
    memory = VerifiedMemory(clock)
    pool, provider, token = _pool(), object(), _token()
    memory.remember(pool, KEY, TOKEN, provider, token)
    return memory, clock, pool, provider, token


def test_recalled_within_the_second(
    remembered: tuple[VerifiedMemory, Clock, IdentityPool, object, ValidatedToken],
) -> None:
    memory, clock, pool, provider, token = remembered
    clock.now += MEMORY_SECONDS * 0.9
    assert memory.recall(pool, KEY, TOKEN, provider, EPOCH) is token


@pytest.mark.parametrize(
    "change",
    ["second_passed", "pool_reread", "provider_replaced", "other_token", "other_key", "expired"],
)
def test_not_recalled_when_anything_it_depended_on_moved(
    remembered: tuple[VerifiedMemory, Clock, IdentityPool, object, ValidatedToken], change: str
) -> None:
    memory, clock, pool, provider, _ = remembered
    key, text, now = KEY, TOKEN, EPOCH
    if change == "second_passed":
        clock.now += MEMORY_SECONDS
    elif change == "pool_reread":  # equal content, but a new object: the pool was read again
        pool = dataclasses.replace(pool)
    elif change == "provider_replaced":  # the IAM cache reloaded after a revision moved
        provider = object()
    elif change == "other_token":
        text = TOKEN + "x"
    elif change == "other_key":
        key = "other.example"
    else:
        now = EXPIRES + CLOCK_SKEW_SECONDS
    assert memory.recall(pool, key, text, provider, now) is None


def test_a_provider_that_disappeared_is_not_recalled(
    remembered: tuple[VerifiedMemory, Clock, IdentityPool, object, ValidatedToken],
) -> None:
    memory, _, pool, _, _ = remembered
    assert memory.recall(pool, KEY, TOKEN, None, EPOCH) is None


def test_memory_stays_bounded() -> None:
    clock = Clock()
    memory = VerifiedMemory(clock)
    pool, token = _pool(), _token()
    for number in range(25_000):
        memory.remember(pool, KEY, f"token-{number}", None, token)
    assert len(memory._entries) <= 10_000
    assert memory.recall(pool, KEY, "token-24999", None, EPOCH) is token


def test_expired_entries_are_dropped_as_new_ones_arrive() -> None:
    """A steady stream of new tokens keeps about one second's worth, not the bound's worth."""
    clock = Clock()
    memory = VerifiedMemory(clock)
    pool, token = _pool(), _token()
    for number in range(3_000):
        clock.now += 0.01  # 100 new tokens a second
        memory.remember(pool, KEY, f"token-{number}", None, token)
        assert len(memory) <= MEMORY_SECONDS / 0.01 + 1
    assert memory.recall(pool, KEY, "token-2999", None, EPOCH) is token
    assert memory.recall(pool, KEY, "token-0", None, EPOCH) is None


def test_remembering_again_renews_the_entry_and_keeps_expiry_order() -> None:
    clock = Clock()
    memory = VerifiedMemory(clock)
    pool, token = _pool(), _token()
    memory.remember(pool, KEY, "first", None, token)
    clock.now += MEMORY_SECONDS * 0.6
    memory.remember(pool, KEY, "second", None, token)
    clock.now += MEMORY_SECONDS * 0.3
    memory.remember(pool, KEY, "first", None, token)  # renewed: now the youngest
    clock.now += MEMORY_SECONDS * 0.8
    memory.remember(pool, KEY, "third", None, token)  # "second" has expired; "first" has not
    assert memory.recall(pool, KEY, "first", None, EPOCH) is token
    assert memory.recall(pool, KEY, "second", None, EPOCH) is None
    assert len(memory) == 2

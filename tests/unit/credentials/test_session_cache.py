"""``SessionTokenCache``: repeats are served from memory, and nothing unsafe is remembered."""

from __future__ import annotations

import random

import pytest

from tests.unit.credentials.conftest import FIXED_KEY, NOW, full_session, minimal_session
from webfed.core.credentials import SessionTokenCache, mint_credentials
from webfed.core.keys import KeyRing, new_sealing_key
from webfed.errors import InvalidClientTokenId


def test_a_repeat_is_served_from_memory(ring: KeyRing, rng: random.Random) -> None:
    cache = SessionTokenCache()
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    first = cache.unseal(minted.session_token, minted.access_key_id, ring)
    second = cache.unseal(minted.session_token, minted.access_key_id, ring)
    assert second is first
    assert first.session == full_session()
    assert len(cache) == 1


def test_another_access_key_id_is_still_refused(ring: KeyRing, rng: random.Random) -> None:
    cache = SessionTokenCache()
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    cache.unseal(minted.session_token, minted.access_key_id, ring)
    with pytest.raises(InvalidClientTokenId):
        cache.unseal(minted.session_token, "ASIAAAAAAAAAAAAAAAAA", ring)


def test_failures_are_not_remembered(ring: KeyRing) -> None:
    cache = SessionTokenCache()
    for _ in range(3):
        with pytest.raises(InvalidClientTokenId):
            cache.unseal("not-a-token-at-all-but-long-enough", "ASIAAAAAAAAAAAAAAAAA", ring)
    assert len(cache) == 0


def test_a_new_ring_empties_the_cache(ring: KeyRing, rng: random.Random) -> None:
    cache = SessionTokenCache()
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    cache.unseal(minted.session_token, minted.access_key_id, ring)
    without_old_key = KeyRing([new_sealing_key(rng, NOW)], NOW)
    with pytest.raises(InvalidClientTokenId):
        cache.unseal(minted.session_token, minted.access_key_id, without_old_key)
    assert len(cache) == 0


def test_least_recently_used_entries_go_first(ring: KeyRing, rng: random.Random) -> None:
    cache = SessionTokenCache(max_entries=2)
    tokens = [mint_credentials(minimal_session(), key_ring=ring, rng=rng) for _ in range(3)]
    first, second, third = ((t.session_token, t.access_key_id) for t in tokens)
    kept = cache.unseal(*first, ring)
    cache.unseal(*second, ring)
    assert cache.unseal(*first, ring) is kept  # touch: now ``second`` is the oldest
    cache.unseal(*third, ring)
    assert len(cache) == 2
    assert cache.unseal(*first, ring) is kept


def test_repr_holds_no_tokens(rng: random.Random) -> None:
    ring = KeyRing([FIXED_KEY], NOW)
    cache = SessionTokenCache()
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    unsealed = cache.unseal(minted.session_token, minted.access_key_id, ring)
    assert repr(cache) == "SessionTokenCache(entries=1, max_entries=4096)"
    assert unsealed.secret_access_key not in repr(cache)

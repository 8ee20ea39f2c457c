"""A fake monotonic clock, a cache factory, and the test issuer fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.support.fixtures import fresh_oidc_issuer, oidc_issuer, oidc_issuer_server
from webfed.jwks import IssuerKeyCache, JwksSettings, parse_networks

__all__ = ["LOOPBACK", "FakeClock", "fresh_oidc_issuer", "oidc_issuer", "oidc_issuer_server"]

# The test issuers listen on 127.0.0.1 (and ``localhost``): the address guard must allow it.
LOOPBACK = parse_networks("127.0.0.0/8")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


CacheFactory = Callable[..., IssuerKeyCache]


@pytest.fixture
async def make_cache(clock: FakeClock) -> AsyncIterator[CacheFactory]:
    """Build caches over the real network (or a given transport); all closed afterwards."""
    caches: list[IssuerKeyCache] = []

    def build(transport: httpx.AsyncBaseTransport | None = None, **settings: Any) -> IssuerKeyCache:
        settings.setdefault("allow_http", True)
        settings.setdefault("total_timeout", 3.0)
        settings.setdefault("allowed_networks", LOOPBACK)
        cache = IssuerKeyCache(JwksSettings(**settings), transport=transport, clock=clock)
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        await cache.aclose()

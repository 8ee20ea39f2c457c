"""A slow identity provider: fetches never pile up and every caller finishes within the bound.

One refresh per issuer is in flight at a time (single flight), and at most
``max_fetches_per_host`` requests go to one host at a time, over all its issuers. A request
waiting for its turn waits inside its own total timeout, so a hung provider costs each caller
at most ``total_timeout`` per document."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.tokens import generate_signing_key, jwks_document
from tests.unit.jwks._servers import DocumentServer, serving
from tests.unit.jwks.conftest import CacheFactory
from webfed.errors import IDPCommunicationError
from webfed.jwks import KeySource
from webfed.jwks.fetch import HostSlots

KEYS = jwks_document(generate_signing_key("RS256", kid="k1"))


def _tenants(server: DocumentServer, count: int) -> list[str]:
    """``count`` issuers on one host (as multi-tenant providers host them), each with keys."""
    issuers = []
    for index in range(count):
        issuer = f"http://{server.origin}/t{index}"
        server.routes[f"/t{index}/.well-known/openid-configuration"] = {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/jwks",
        }
        server.routes[f"/t{index}/jwks"] = KEYS
        issuers.append(issuer)
    return issuers


async def _outcomes(
    cache_calls: list[asyncio.Future[object]] | list[object],
) -> list[object]:
    return list(await asyncio.gather(*cache_calls, return_exceptions=True))  # type: ignore[arg-type]


async def test_slow_provider_many_issuers_at_most_the_cap_in_flight(
    make_cache: CacheFactory,
) -> None:
    """6 issuers on one slow host, 5 concurrent validations each: 2 requests in flight at most,
    one discovery and one JWKS per issuer, and everybody gets keys."""
    async with serving(DocumentServer(delay=0.15)) as server:
        issuers = _tenants(server, 6)
        cache = make_cache(max_fetches_per_host=2, total_timeout=3.0)
        started = time.monotonic()
        results = await _outcomes(
            [cache.keys_for(KeySource(issuer), kid="k1") for issuer in issuers for _ in range(5)]
        )
        elapsed = time.monotonic() - started
    assert all(not isinstance(result, BaseException) for result in results), results
    assert server.peak <= 2
    assert len(server.requests) == 12
    assert cache.counters.fetches == 6
    # 12 requests of 0.15 s, two at a time: about 0.9 s; far below 6 x 2 x 3 s of timeouts.
    assert elapsed < 3.0


async def test_hung_provider_every_caller_fails_within_the_timeout(
    make_cache: CacheFactory,
) -> None:
    """The host never answers: 4 issuers x 10 callers all get IDPCommunicationError within
    about one total timeout (waiting for a slot counts against it), with 2 requests in flight."""
    async with serving(DocumentServer(delay=60.0)) as server:
        issuers = _tenants(server, 4)
        cache = make_cache(max_fetches_per_host=2, total_timeout=0.5)
        started = time.monotonic()
        results = await _outcomes(
            [cache.keys_for(KeySource(issuer)) for issuer in issuers for _ in range(10)]
        )
        elapsed = time.monotonic() - started
        peak = server.peak
    assert all(isinstance(result, IDPCommunicationError) for result in results), results
    assert peak <= 2
    assert elapsed < 1.5
    assert cache.counters.fetches == 4  # one per issuer: the other 36 callers shared them


async def test_one_issuer_many_callers_one_fetch(make_cache: CacheFactory) -> None:
    async with serving(DocumentServer(delay=0.2)) as server:
        (issuer,) = _tenants(server, 1)
        cache = make_cache(max_fetches_per_host=2)
        results = await _outcomes([cache.keys_for(KeySource(issuer)) for _ in range(50)])
    assert all(not isinstance(result, BaseException) for result in results)
    assert server.peak == 1
    assert [path for path, _ in server.requests] == [
        "/t0/.well-known/openid-configuration",
        "/t0/jwks",
    ]


async def test_failed_refresh_is_not_retried_at_once(make_cache: CacheFactory) -> None:
    """After the hung fetch times out, callers within ``retry_after_failure`` fail at once
    instead of queueing another slow fetch."""
    async with serving(DocumentServer(delay=60.0)) as server:
        (issuer,) = _tenants(server, 1)
        cache = make_cache(total_timeout=0.3)
        with pytest.raises(IDPCommunicationError):
            await cache.keys_for(KeySource(issuer))
        started = time.monotonic()
        with pytest.raises(IDPCommunicationError) as failure:
            await cache.keys_for(KeySource(issuer))
        assert time.monotonic() - started < 0.05
        assert len(server.requests) == 1
    assert failure.value.explanation is not None
    assert "not retrying yet" in str(failure.value.explanation["reason"])


async def test_host_slots_forget_idle_hosts() -> None:
    slots = HostSlots(2)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def hold(host: str) -> None:
        async with slots.hold(host):
            entered.set()
            await release.wait()

    tasks = [asyncio.create_task(hold("a:1")) for _ in range(3)]
    await entered.wait()
    await asyncio.sleep(0)
    assert slots.holders("a:1") == 2  # the third waits
    release.set()
    await asyncio.gather(*tasks)
    assert slots.holders("a:1") == 0
    assert slots._slots == {}

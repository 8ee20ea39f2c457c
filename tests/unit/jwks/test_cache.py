"""The key cache against the real test issuer over HTTP: caching, TTL bounds, refresh on an
unknown kid (single-flight, rate-limited), rotation, stale-if-error and static key sets."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.support.oidc_issuer import OidcTestIssuer
from tests.support.tokens import generate_signing_key, jwks_document
from tests.unit.jwks.conftest import CacheFactory, FakeClock
from webfed.core.oidc import TrustedProvider, peek_token, validate_token
from webfed.errors import IDPCommunicationError, InvalidIdentityToken
from webfed.jwks import KeySource


async def _validate(cache: object, issuer: OidcTestIssuer, raw: str) -> str:
    unverified = peek_token(raw)
    keys = await cache.keys_for(KeySource(issuer.url), kid=unverified.kid)  # type: ignore[attr-defined]
    provider = TrustedProvider(issuer.url, (issuer.client_id,))
    return validate_token(raw, provider, keys, now=int(time.time())).subject


async def test_one_fetch_serves_many_validations(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    cache = make_cache()
    for number in range(20):
        raw = oidc_issuer.mint(oidc_issuer.claims(subject=f"user-{number}"))
        assert await _validate(cache, oidc_issuer, raw) == f"user-{number}"
    assert (oidc_issuer.discovery_requests, oidc_issuer.jwks_requests) == (1, 1)
    assert cache.counters.fetches == 1
    assert cache.counters.cache_hits == 19


@pytest.mark.parametrize(
    ("cache_control", "ttl"),
    [
        ("public, max-age=600", 600),
        ("max-age=5", 60),
        ("max-age=999999", 86_400),
        (None, 3600),
        ("no-store", 60),
        ("max-age=abc", 3600),
    ],
    ids=["honoured", "below-minimum", "above-maximum", "absent-default", "no-store", "garbled"],
)
async def test_ttl_follows_cache_control_within_bounds(
    cache_control: str | None,
    ttl: int,
    oidc_issuer: OidcTestIssuer,
    make_cache: CacheFactory,
    clock: FakeClock,
) -> None:
    oidc_issuer.cache_control = cache_control
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source)
    clock.advance(ttl - 1)
    await cache.keys_for(source)
    assert oidc_issuer.jwks_requests == 1
    clock.advance(1)
    await cache.keys_for(source)
    assert oidc_issuer.jwks_requests == 2


async def test_unknown_kid_refreshes_once_for_fifty_concurrent_callers(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source, kid="key-1")
    new_key = oidc_issuer.rotate_keys()
    clock.advance(31)
    results = await asyncio.gather(*(cache.keys_for(source, kid=new_key.kid) for _ in range(50)))
    assert all(new_key.kid in key_set.kids for key_set in results)
    assert oidc_issuer.jwks_requests == 2
    assert cache.counters.fetches == 2
    assert cache.counters.refreshes == 1


async def test_unknown_kid_refresh_is_rate_limited(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source)
    clock.advance(31)
    await cache.keys_for(source, kid="random-1")
    assert oidc_issuer.jwks_requests == 2
    for number in range(100):
        clock.advance(0.2)
        key_set = await cache.keys_for(source, kid=f"random-{number + 2}")
        assert key_set.kids == {"key-1"}
    assert oidc_issuer.jwks_requests == 2
    assert cache.counters.rate_limited == 100
    clock.advance(11)
    await cache.keys_for(source, kid="random-again")
    assert oidc_issuer.jwks_requests == 3


async def test_first_refresh_right_after_the_initial_fetch_is_rate_limited(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source)
    await cache.keys_for(source, kid="unknown")
    assert oidc_issuer.jwks_requests == 1
    assert cache.counters.rate_limited == 1


async def test_rotation_is_picked_up(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    old_token = oidc_issuer.mint()
    assert await _validate(cache, oidc_issuer, old_token) == "user-1"
    oidc_issuer.rotate_keys(keep_old=False)
    clock.advance(31)
    assert await _validate(cache, oidc_issuer, oidc_issuer.mint()) == "user-1"
    with pytest.raises(InvalidIdentityToken) as failure:
        await _validate(cache, oidc_issuer, old_token)
    assert failure.value.explanation is not None
    assert failure.value.explanation["check"] == "unknown_kid"


async def test_stale_keys_serve_while_the_provider_is_down(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    raw = oidc_issuer.mint()
    await _validate(cache, oidc_issuer, raw)
    oidc_issuer.mode = "down"
    clock.advance(3600)
    assert await _validate(cache, oidc_issuer, raw) == "user-1"
    assert cache.counters.stale_served == 1
    assert cache.counters.failures == 1
    clock.advance(86_400 - 1)
    assert await _validate(cache, oidc_issuer, raw) == "user-1"
    clock.advance(1)
    with pytest.raises(IDPCommunicationError):
        await _validate(cache, oidc_issuer, raw)


async def test_recovered_provider_replaces_stale_keys(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source)
    oidc_issuer.mode = "down"
    clock.advance(3600)
    await cache.keys_for(source)
    requests = oidc_issuer.jwks_requests + oidc_issuer.discovery_requests
    await cache.keys_for(source)
    assert oidc_issuer.jwks_requests + oidc_issuer.discovery_requests == requests  # backing off
    oidc_issuer.mode = "normal"
    new_key = oidc_issuer.rotate_keys(keep_old=False)
    clock.advance(10)
    assert (await cache.keys_for(source)).kids == {new_key.kid}


async def test_down_provider_without_cached_keys_fails(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    oidc_issuer.mode = "down"
    cache = make_cache()
    with pytest.raises(IDPCommunicationError) as failure:
        await cache.keys_for(KeySource(oidc_issuer.url))
    assert failure.value.explanation is not None
    assert failure.value.explanation["reason"] == "HTTP status 503"
    with pytest.raises(IDPCommunicationError):
        await cache.keys_for(KeySource(oidc_issuer.url))
    assert oidc_issuer.discovery_requests == 1  # the second call did not retry yet
    oidc_issuer.mode = "normal"
    clock.advance(10)
    assert (await cache.keys_for(KeySource(oidc_issuer.url))).kids == {"key-1"}


async def test_refused_connection_fails_and_stale_keys_survive_it(
    fresh_oidc_issuer: OidcTestIssuer, make_cache: CacheFactory, clock: FakeClock
) -> None:
    cache = make_cache()
    source = KeySource(fresh_oidc_issuer.url)
    await cache.keys_for(source)
    fresh_oidc_issuer.stop()
    clock.advance(3600)
    assert (await cache.keys_for(source)).kids == {"key-1"}
    other = make_cache()
    with pytest.raises(IDPCommunicationError) as failure:
        await other.keys_for(source)
    assert failure.value.explanation is not None
    assert "ConnectError" in str(failure.value.explanation["reason"])
    fresh_oidc_issuer.start()
    clock.advance(10)
    assert (await other.keys_for(source)).kids == {"key-1"}


async def test_static_key_set_is_never_fetched(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    static = json.dumps(jwks_document(oidc_issuer.signing_key))
    cache = make_cache()
    source = KeySource(oidc_issuer.url, static_jwks=static)
    for _ in range(3):
        assert (await cache.keys_for(source, kid="unknown")).kids == {"key-1"}
    assert (oidc_issuer.discovery_requests, oidc_issuer.jwks_requests) == (0, 0)
    offline = KeySource("https://offline.example.com", static_jwks=static)
    assert (await make_cache(allow_http=False).keys_for(offline)).kids == {"key-1"}


@pytest.mark.parametrize(
    "static",
    ["{not json", json.dumps({"keys": "x"}), json.dumps({"keys": [{"kty": "RSA"}] * 101})],
    ids=["not-json", "not-a-set", "too-many-keys"],
)
async def test_bad_static_key_set_fails(static: str, make_cache: CacheFactory) -> None:
    with pytest.raises(IDPCommunicationError):
        await make_cache().keys_for(KeySource("https://offline.example.com", static_jwks=static))


async def test_weak_and_foreign_keys_in_a_fetched_set_are_skipped(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    oidc_issuer.add_key("ES384", "ec-384")
    oidc_issuer.extra_jwks.append(generate_signing_key("RS256", "enc-key").public_jwk(use="enc"))
    oidc_issuer.extra_jwks.append({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"})
    key_set = await make_cache().keys_for(KeySource(oidc_issuer.url))
    assert key_set.kids == {"key-1", "ec-384"}
    assert set(key_set.skipped) == {"enc-key", "hmac"}


async def test_invalidate_forgets_an_issuer(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    cache = make_cache()
    source = KeySource(oidc_issuer.url)
    await cache.keys_for(source)
    cache.invalidate(oidc_issuer.url)
    await cache.keys_for(source)
    assert oidc_issuer.jwks_requests == 2

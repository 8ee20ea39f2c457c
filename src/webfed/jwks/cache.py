"""The per-issuer key cache: discovery, JWKS, TTLs, single-flight refresh, stale-if-error.

Policy (numbers in :class:`~webfed.jwks.settings.JwksSettings`, explained in ``docs/oidc.md``):

* keys are kept for the JWKS response's ``Cache-Control: max-age``, clamped to
  ``[min_ttl, max_ttl]``, or ``default_ttl`` when it has none;
* a token naming a ``kid`` the cached set lacks triggers one refresh, at most once per
  ``refresh_interval`` per issuer; concurrent misses share that one fetch (single-flight);
* after a failed fetch no new one starts for ``retry_after_failure`` seconds;
* while the provider cannot be reached, cached keys keep working for ``stale_window`` past
  their TTL; after that, or with nothing cached, ``IDPCommunicationError``;
* a provider with a static key set is never fetched: its keys are that set only, whether the
  caller's ``KeySource`` carries it or the ``static_key_sets`` lookup (the IAM provider of the
  issuer, see :mod:`webfed.jwks.static`) finds one, and an unknown ``kid`` is the token's fault.

The clock is injected (monotonic seconds) and the network goes through the fetcher's
transport, so every branch is testable.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from webfed.core.oidc.keys import IssuerKeySet, parse_key_set
from webfed.errors import IDPCommunicationError
from webfed.jwks.fetch import (
    DocumentFetcher,
    communication_error,
    discovery_url,
    jwks_uri_of,
)
from webfed.jwks.settings import JwksSettings, KeySource
from webfed.jwks.static import StaticKeyLookup

__all__ = ["IssuerKeyCache", "JwksCounters"]


@dataclass(slots=True)
class JwksCounters:
    """Running totals for metrics: network refreshes, cache hits, unknown-kid refreshes,
    failed refreshes, stale sets served, and unknown-kid refreshes refused by the rate limit;
    lookups that waited for a fetch (misses) and fetches that succeeded."""

    fetches: int = 0
    cache_hits: int = 0
    misses: int = 0
    successes: int = 0
    refreshes: int = 0
    failures: int = 0
    stale_served: int = 0
    rate_limited: int = 0


@dataclass(frozen=True, slots=True)
class _Entry:
    key_set: IssuerKeySet
    expires_at: float


_MAX_ACCEPTED_URLS = 1024
_MAX_STATIC_ISSUERS = 1024


class IssuerKeyCache:
    """Keys per issuer, fetched on demand. One instance per process; safe for concurrent tasks
    of one event loop."""

    def __init__(
        self,
        settings: JwksSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        static_key_sets: StaticKeyLookup | None = None,
    ) -> None:
        self.settings = settings or JwksSettings()
        self.counters = JwksCounters()
        self._clock = clock
        self._fetcher = DocumentFetcher(self.settings, transport=transport)
        self._entries: dict[str, _Entry] = {}
        self._inflight: dict[str, asyncio.Task[_Entry]] = {}
        self._last_fetch: dict[str, float] = {}
        self._last_failure: dict[str, float] = {}
        self._static_key_sets = static_key_sets
        # Per issuer, the static set's text and its parsed keys: parsed again only when the
        # text changes (a provider update), so a rotation replaces the entry, never adds one.
        self._static: dict[str, tuple[str, IssuerKeySet]] = {}
        # Issuer URLs check_url accepted: the answer depends only on the URL and the (frozen)
        # settings, so it is remembered rather than re-parsed on every call. Bounded.
        self._accepted_urls: set[str] = set()

    async def keys_for(self, source: KeySource, *, kid: str | None = None) -> IssuerKeySet:
        """The issuer's current key set; refreshed first when missing, expired, or lacking
        ``kid`` (within the rate limit). Raises ``IDPCommunicationError`` when no usable keys
        can be had."""
        static_jwks = source.static_jwks
        if static_jwks is None and self._static_key_sets is not None:
            static_jwks = await self._static_key_sets(source.issuer)
        if static_jwks is not None:
            return self._static_keys(source.issuer, static_jwks)
        self._check_url(source.issuer)
        entry = self._entries.get(source.issuer)
        now = self._clock()
        if entry is not None and now < entry.expires_at:
            if kid is None or kid in entry.key_set.kids:
                self.counters.cache_hits += 1
                return entry.key_set
            if source.issuer not in self._inflight:
                if self._rate_limited(source.issuer, now):
                    self.counters.rate_limited += 1
                    return entry.key_set
                self.counters.refreshes += 1
        self.counters.misses += 1
        return await self._refresh(source, entry, now)

    def _check_url(self, url: str) -> None:
        if url in self._accepted_urls:
            return
        self._fetcher.check_url(url)  # raises for a URL it refuses; refusals are not remembered
        if len(self._accepted_urls) >= _MAX_ACCEPTED_URLS:
            self._accepted_urls.clear()
        self._accepted_urls.add(url)

    def invalidate(self, issuer: str) -> None:
        """Forget an issuer's keys (e.g. when its provider is deleted or updated)."""
        self._entries.pop(issuer, None)

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    def _rate_limited(self, issuer: str, now: float) -> bool:
        last = self._last_fetch.get(issuer)
        return last is not None and now - last < self.settings.refresh_interval

    def _static_keys(self, issuer: str, static_jwks: str) -> IssuerKeySet:
        cached = self._static.get(issuer)
        # The same provider object hands over the same str, so this is usually an identity test.
        if cached is not None and cached[0] == static_jwks:
            self.counters.cache_hits += 1
            return cached[1]
        try:
            document = json.loads(static_jwks)
        except (ValueError, RecursionError):
            raise communication_error(issuer, "static key set is not JSON") from None
        key_set = parse_key_set(document, max_keys=self.settings.max_keys)
        if issuer not in self._static and len(self._static) >= _MAX_STATIC_ISSUERS:
            del self._static[next(iter(self._static))]
        self._static[issuer] = (static_jwks, key_set)
        self.counters.cache_hits += 1
        return key_set

    async def _refresh(self, source: KeySource, entry: _Entry | None, now: float) -> IssuerKeySet:
        try:
            return (await asyncio.shield(self._start_fetch(source, now))).key_set
        except IDPCommunicationError:
            if entry is not None and now < entry.expires_at + self.settings.stale_window:
                self.counters.stale_served += 1
                return entry.key_set
            raise

    def _start_fetch(self, source: KeySource, now: float) -> asyncio.Task[_Entry]:
        """The running fetch for this issuer, or a new one (single-flight)."""
        task = self._inflight.get(source.issuer)
        if task is not None:
            return task
        last_failure = self._last_failure.get(source.issuer)
        if last_failure is not None and now - last_failure < self.settings.retry_after_failure:
            raise communication_error(source.issuer, "recent fetch failed; not retrying yet")
        self._last_fetch[source.issuer] = now
        task = asyncio.ensure_future(self._fetch(source))
        self._inflight[source.issuer] = task
        task.add_done_callback(lambda done: self._finished(source.issuer, done))
        return task

    def _finished(self, issuer: str, task: asyncio.Task[_Entry]) -> None:
        if self._inflight.get(issuer) is task:
            del self._inflight[issuer]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is never reported as lost

    async def _fetch(self, source: KeySource) -> _Entry:
        self.counters.fetches += 1
        try:
            discovery = await self._fetcher.fetch_json(
                discovery_url(source.issuer), ca_bundle=source.ca_bundle
            )
            jwks_uri = jwks_uri_of(discovery.body, source.issuer)
            document = await self._fetcher.fetch_json(jwks_uri, ca_bundle=source.ca_bundle)
            key_set = parse_key_set(document.body, max_keys=self.settings.max_keys)
        except IDPCommunicationError:
            self.counters.failures += 1
            self._last_failure[source.issuer] = self._clock()
            raise
        self._last_failure.pop(source.issuer, None)
        self.counters.successes += 1
        ttl = self.settings.clamp_ttl(document.max_age)
        entry = _Entry(key_set, self._clock() + ttl)
        self._entries[source.issuer] = entry
        return entry

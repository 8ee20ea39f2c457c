"""What the key fetcher and cache may do: timeouts, size caps, cache bounds, rate limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["JwksSettings", "KeySource"]


@dataclass(frozen=True, slots=True)
class JwksSettings:
    """Bounds for fetching and caching issuer keys (numbers explained in ``docs/oidc.md``).

    ``refresh_interval``: at most one refresh per issuer in this many seconds when a token
    names an unknown ``kid``. ``retry_after_failure``: after a failed fetch, no new fetch for
    this long (callers get the stale keys or the error at once). ``stale_window``: how long
    past their TTL cached keys keep being used while the provider cannot be reached.
    ``allowed_networks``: non-public networks fetches may still reach (everything else that is
    not a public address is refused, see :mod:`webfed.jwks.guard`). ``max_fetches_per_host``:
    requests in flight to one host at a time, over all issuers and key sets on it.
    """

    connect_timeout: float = 2.0
    total_timeout: float = 5.0
    max_document_bytes: int = 512 * 1024
    min_ttl: float = 60.0
    default_ttl: float = 3600.0
    max_ttl: float = 86400.0
    refresh_interval: float = 30.0
    retry_after_failure: float = 10.0
    stale_window: float = 86400.0
    max_keys: int = 100
    max_redirects: int = 3
    allow_http: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_fetches_per_host: int = 2

    def clamp_ttl(self, max_age: float | None) -> float:
        """The cache lifetime for a response's ``max-age`` (the default when it has none)."""
        if max_age is None:
            return self.default_ttl
        return min(max(max_age, self.min_ttl), self.max_ttl)


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where one issuer's keys come from.

    ``issuer`` is the IAM OIDC provider URL (equal to the tokens' ``iss``). ``static_jwks`` is
    a JWK Set as JSON text for offline issuers: then nothing is fetched. ``ca_bundle`` is a
    PEM file of CAs trusted for this provider instead of the system store.
    """

    issuer: str
    static_jwks: str | None = None
    ca_bundle: str | None = None

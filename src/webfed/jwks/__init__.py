"""Outbound: an identity provider's signing keys, discovered, fetched and cached.

    DocumentFetcher   one bounded GET of a JSON document (timeouts, size cap, redirects, TLS)
    IssuerKeyCache    per-issuer cache: TTL from Cache-Control, single-flight refresh on an
                      unknown kid (rate-limited), stale-if-error, static key sets, counters
    static            static key sets of offline issuers: checked before they are stored, and
                      found per issuer through the IAM providers
    GuardedTransport  the network: connects only to public addresses (or allowed networks),
                      pinned to the address checked (SSRF and DNS-rebinding defence)

Every failure to obtain keys is ``webfed.errors.IDPCommunicationError`` with an
``explanation`` naming the URL and the reason.
"""

from __future__ import annotations

from webfed.jwks.cache import IssuerKeyCache, JwksCounters
from webfed.jwks.fetch import DocumentFetcher, FetchedDocument, discovery_url, parse_max_age
from webfed.jwks.guard import (
    AddressPolicy,
    AddressRefused,
    GuardedTransport,
    address_class,
    parse_networks,
)
from webfed.jwks.settings import JwksSettings, KeySource
from webfed.jwks.static import (
    StaticKeyLookup,
    StaticKeySetError,
    check_static_key_set,
    static_keys_of_providers,
)

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "DocumentFetcher",
    "FetchedDocument",
    "GuardedTransport",
    "IssuerKeyCache",
    "JwksCounters",
    "JwksSettings",
    "KeySource",
    "StaticKeyLookup",
    "StaticKeySetError",
    "address_class",
    "check_static_key_set",
    "discovery_url",
    "parse_max_age",
    "parse_networks",
    "static_keys_of_providers",
]

"""Outbound: an identity provider's signing keys, discovered, fetched and cached.

    DocumentFetcher   one bounded GET of a JSON document (timeouts, size cap, redirects, TLS)
    IssuerKeyCache    per-issuer cache: TTL from Cache-Control, single-flight refresh on an
                      unknown kid (rate-limited), stale-if-error, static key sets, counters

Every failure to obtain keys is ``webfed.errors.IDPCommunicationError`` with an
``explanation`` naming the URL and the reason.
"""

from __future__ import annotations

from webfed.jwks.cache import IssuerKeyCache, JwksCounters
from webfed.jwks.fetch import DocumentFetcher, FetchedDocument, discovery_url, parse_max_age
from webfed.jwks.settings import JwksSettings, KeySource

__all__ = [
    "DocumentFetcher",
    "FetchedDocument",
    "IssuerKeyCache",
    "JwksCounters",
    "JwksSettings",
    "KeySource",
    "discovery_url",
    "parse_max_age",
]

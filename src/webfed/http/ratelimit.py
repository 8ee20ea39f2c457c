"""Rate limits on the unsigned calls: token buckets per client address and per issuer or pool.

The unsigned operations (``Auth.NONE``: STS ``AssumeRoleWithWebIdentity``, Cognito ``GetId``,
``GetCredentialsForIdentity``, ``GetOpenIdToken``, ``UnlinkIdentity``) are the ones anybody can
call, so they are the ones a flood or a brute-force run uses. Two limits apply, each a table of
token buckets (``rate`` tokens per second, at most ``burst``; one token per call):

* **per client**: keyed by the connection's source address (``rate_limit_per_client``);
* **per scope**: keyed by the token's issuer for STS (the unverified ``iss``: a flood of forged
  tokens naming one issuer spends that issuer's budget, not the others'; unreadable tokens share
  one bucket) and by the identity pool for Cognito (``rate_limit_per_issuer``).

A refused call gets the service's throttling error: STS (Query) ``Throttling`` with HTTP 400 and
"Rate exceeded", Cognito (JSON) ``TooManyRequestsException`` with HTTP 429. It is audited like
any failed call, counted in ``webfed_throttled_requests_total``, and a bucket that starts
refusing logs one line (its kind and key, never a token) until it admits again.

State is per worker process and needs no lock: a worker runs one event loop and every method
here is synchronous, so no two calls interleave inside one. With ``--workers N`` the effective
limit is ``N`` times the setting. Memory is bounded: each table keeps at most ``max_keys``
buckets and forgets the least recently used one; every call costs O(1).
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client import Counter

from webfed.errors import Throttling, TooManyRequests, WebfedError
from webfed.http.metrics import REGISTRY
from webfed.logs import get_logger

__all__ = [
    "BucketTable",
    "RateLimits",
    "limit_scope",
    "throttling_error",
    "unverified_issuer",
]

_log = get_logger("webfed.ratelimit")
_THROTTLED = Counter(
    "webfed_throttled_requests",
    "Unsigned calls refused by a rate limit, by service, operation and limit (client, issuer, "
    "pool).",
    ("service", "operation", "limit"),
    registry=REGISTRY,
)
_MAX_ISSUER_CHARS = 2048
_MAX_PAYLOAD_CHARS = 20_000
UNREADABLE_ISSUER = "(unreadable token)"


class _Bucket:
    __slots__ = ("refusing", "tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated
        self.refusing = False  # logged once when it starts refusing, cleared when it admits


class BucketTable:
    """Token buckets by key, at most ``max_keys`` of them (least recently used forgotten).

    A new key starts with a full bucket. ``admit`` refills by elapsed time, then takes one
    token or refuses. A forgotten key comes back full, so ``max_keys`` should exceed the number
    of keys active within ``burst / rate`` seconds.
    """

    def __init__(self, name: str, rate: float, burst: int, max_keys: int) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be > 0, burst and max_keys >= 1")
        self.name = name
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(self, key: str, now: float) -> bool:
        """Take a token for ``key`` at monotonic time ``now``; ``False`` when none is left."""
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            if len(buckets) >= self.max_keys:
                buckets.popitem(last=False)
            buckets[key] = _Bucket(self.burst - 1.0, now)
            return True
        buckets.move_to_end(key)
        tokens = bucket.tokens + (now - bucket.updated) * self.rate
        tokens = min(tokens, self.burst)
        bucket.updated = now
        if tokens < 1.0:
            bucket.tokens = tokens
            if not bucket.refusing:
                bucket.refusing = True
                _log.warning("rate limit refusing", limit=self.name, key=key[:256])
            return False
        bucket.tokens = tokens - 1.0
        bucket.refusing = False
        return True


_JSON = json.JSONDecoder()


def unverified_issuer(token: object) -> str:
    """The ``iss`` of a JWS compact token, read without any check (for bucketing only; the
    handler validates the token properly). Anything unreadable maps to one shared key.

    On the hot path of every ``AssumeRoleWithWebIdentity``, so it decodes only the payload,
    with the JSON scanner alone (``raw_decode``: about half the cost of ``json.loads``)."""
    if not isinstance(token, str):
        return UNREADABLE_ISSUER
    first = token.find(".")
    second = token.find(".", first + 1)
    if first < 0 or second < 0 or second - first > _MAX_PAYLOAD_CHARS:
        return UNREADABLE_ISSUER
    segment = token[first + 1 : second]
    try:
        text = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
        claims = _JSON.raw_decode(text)[0]
    except (ValueError, RecursionError):  # binascii.Error and UnicodeDecodeError included
        return UNREADABLE_ISSUER
    issuer = claims.get("iss") if type(claims) is dict else None
    if type(issuer) is not str or not issuer or len(issuer) > _MAX_ISSUER_CHARS:
        return UNREADABLE_ISSUER
    return issuer


def _issuer_of(params: Mapping[str, object]) -> str | None:
    return unverified_issuer(params.get("WebIdentityToken"))


def _pool_of(params: Mapping[str, object]) -> str | None:
    pool = params.get("IdentityPoolId")
    return pool if isinstance(pool, str) else None


# (service, operation) -> which table limits it and where its key comes from. The Cognito
# calls that name only an IdentityId learn their pool in the handler, which then calls
# ``RateLimits.admit_pool``.
_SCOPES: dict[tuple[str, str], tuple[str, Callable[[Mapping[str, object]], str | None]]] = {
    ("sts", "AssumeRoleWithWebIdentity"): ("issuer", _issuer_of),
    ("cognito-identity", "GetId"): ("pool", _pool_of),
}


def limit_scope(
    service: str, operation: str, params: Mapping[str, object]
) -> tuple[str, str] | None:
    """``(table, key)`` of an unsigned call's per-issuer or per-pool bucket, or ``None`` when
    the request names neither."""
    scope = _SCOPES.get((service, operation))
    if scope is None:
        return None
    key = scope[1](params)
    return None if key is None else (scope[0], key)


def throttling_error(service: str) -> WebfedError:
    """The service's own throttling error."""
    if service == "cognito-identity":
        return TooManyRequests("Rate exceeded")
    return Throttling("Rate exceeded")


@dataclass(slots=True)
class RateLimits:
    """This worker's limits; a table is ``None`` when its limit is off (rate 0). Issuers and
    pools have separate tables with the same rate, so a token's ``iss`` can never name a pool's
    bucket."""

    per_client: BucketTable | None
    per_issuer: BucketTable | None
    per_pool: BucketTable | None
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def configured(
        cls,
        *,
        client_rate: float,
        client_burst: int,
        scope_rate: float,
        scope_burst: int,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> RateLimits:
        """Tables for the non-zero rates; a burst of 0 means twice the rate (at least 1)."""

        def table(name: str, rate: float, burst: int) -> BucketTable | None:
            if rate <= 0:
                return None
            return BucketTable(name, rate, burst or max(1, round(2 * rate)), max_keys)

        return cls(
            table("client", client_rate, client_burst),
            table("issuer", scope_rate, scope_burst),
            table("pool", scope_rate, scope_burst),
            clock,
        )

    def admit_client(self, service: str, operation: str, source_ip: str) -> None:
        """Raise the service's throttling error when ``source_ip`` is over its limit."""
        table = self.per_client
        if table is not None and not table.admit(source_ip, self.clock()):
            _THROTTLED.labels(service, operation, "client").inc()
            raise throttling_error(service)

    def admit_scope(self, service: str, operation: str, params: Mapping[str, object]) -> None:
        """Raise the service's throttling error when the call's issuer or pool is over its
        limit (calls whose request names neither pass)."""
        if self.per_issuer is None:  # both scope tables share one setting
            return
        scope = limit_scope(service, operation, params)
        if scope is None:
            return
        kind, key = scope
        table = self.per_issuer if kind == "issuer" else self.per_pool
        if table is not None and not table.admit(key, self.clock()):
            _THROTTLED.labels(service, operation, kind).inc()
            raise throttling_error(service)

    def admit_pool(self, operation: str, pool_id: str) -> None:
        """For Cognito handlers that learn the pool from the identity: the same per-pool limit
        ``GetId`` gets from the dispatcher. Raises ``TooManyRequestsException``."""
        table = self.per_pool
        if table is not None and not table.admit(pool_id, self.clock()):
            _THROTTLED.labels("cognito-identity", operation, "pool").inc()
            raise throttling_error("cognito-identity")

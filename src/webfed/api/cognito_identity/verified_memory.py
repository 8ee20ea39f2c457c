"""A process's short memory of login tokens it verified, so a flow verifies each token once.

The enhanced flow sends the same ``Logins`` twice in a row: ``GetId``, then
``GetCredentialsForIdentity`` (Cognito developer guide, "Identity pools authentication flow"),
and an SDK sends both over one keep-alive connection, so to the same worker. Checking the
token's RSA signature and claims again is most of the second call's own work, and its answer
cannot differ unless something it depended on changed in between. So a verified token is
remembered for :data:`MEMORY_SECONDS`, and recalled only while all of these still hold:

* the same identity pool object (the pool repository replaces it when it re-reads the pool,
  at least every second, and at once after a write through this process);
* for an IAM OpenID Connect provider, the same provider object (the IAM cache replaces it when
  the account's IAM revision moves: a provider deleted or changed on any node is seen within
  its one-second poll);
* the token is unexpired at the time of the call (its ``exp`` plus the clock skew).

So a recalled token is one the full check accepted at most :data:`MEMORY_SECONDS` earlier
against the same configuration: the same bound the pool and IAM caches already give every
call. Failures are never remembered. Which identity a login belongs to is not remembered
either: that is read from the database on every call.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from webfed.core.oidc import CLOCK_SKEW_SECONDS, ValidatedToken
from webfed.storage.identity_models import IdentityPool

__all__ = ["MEMORY_SECONDS", "VerifiedMemory"]

MEMORY_SECONDS = 1.0
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Remembered:
    token: ValidatedToken
    pool: IdentityPool
    anchor: object | None
    until: float


class VerifiedMemory:
    """Tokens verified in the last :data:`MEMORY_SECONDS`, by pool, ``Logins`` key and the
    SHA-256 of the token (the token itself is not kept)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # Oldest first: every entry lives MEMORY_SECONDS from when it was (re)remembered, so
        # insertion order is expiry order and expired entries are always at the front.
        self._entries: OrderedDict[tuple[str, str, bytes], _Remembered] = OrderedDict()

    def recall(
        self, pool: IdentityPool, key: str, token_text: str, anchor: object | None, now: int
    ) -> ValidatedToken | None:
        """The token as verified earlier, if every condition above still holds at ``now``
        (seconds since the epoch); ``anchor`` is the IAM provider the token is checked
        against now (``None`` for other providers)."""
        entry = self._entries.get(_name(pool, key, token_text))
        if entry is None or entry.until <= self._clock():
            return None
        if entry.pool is not pool or entry.anchor is not anchor:
            return None
        if now >= entry.token.expires_at + CLOCK_SKEW_SECONDS:
            return None
        return entry.token

    def remember(
        self,
        pool: IdentityPool,
        key: str,
        token_text: str,
        anchor: object | None,
        token: ValidatedToken,
    ) -> None:
        now = self._clock()
        entries = self._entries
        name = _name(pool, key, token_text)
        entries.pop(name, None)
        while entries:
            oldest = next(iter(entries.values()))
            if oldest.until > now and len(entries) < _MAX_ENTRIES:
                break
            entries.popitem(last=False)
        entries[name] = _Remembered(token, pool, anchor, now + MEMORY_SECONDS)

    def __len__(self) -> int:
        return len(self._entries)


def _name(pool: IdentityPool, key: str, token_text: str) -> tuple[str, str, bytes]:
    return pool.pool_id, key, hashlib.sha256(token_text.encode()).digest()

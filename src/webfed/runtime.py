"""Everything a request needs, built once per process at start, and its background upkeep.

The runtime owns the process-wide caches (IAM objects, issuer keys, unsealed session tokens),
the sealing key ring, and the tasks that keep them fresh: the IAM revision poll (changes made on
any node reach this one within ``REVISION_POLL_SECONDS``) and the key-ring reload (rotations
made on any node are picked up within ``Settings.key_reload_seconds``, by default
``KEY_RING_RELOAD_SECONDS``) and the revocation poll (``webfed sessions revoke`` anywhere is
enforced here within about two seconds: ``docs/revocation.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from webfed.admin import AdminCredentials
from webfed.api.context import OperationTable
from webfed.audit import AuditSink
from webfed.core.credentials import SessionTokenCache
from webfed.core.keys import KeyRing, MasterKey
from webfed.http.ratelimit import RateLimits
from webfed.iam_cache import IamCache
from webfed.issuer import IssuerKeys, load_issuer_keys
from webfed.jwks import IssuerKeyCache, JwksSettings, static_keys_of_providers
from webfed.logs import get_logger
from webfed.master_key import load_or_create_master_key
from webfed.revocation import REVOCATION_POLL_SECONDS, Revocations
from webfed.settings import Settings
from webfed.storage import Store
from webfed.storage.keys import load_key_ring
from webfed.verify import RequestVerifier

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

    from webfed.protocol.models import ServiceSpec

__all__ = ["BatchedSystemRandom", "Runtime", "ServiceBinding", "start_runtime", "utc_now"]

REVISION_POLL_SECONDS = 1.0
KEY_RING_RELOAD_SECONDS = 60.0
_log = get_logger("webfed.runtime")
_T = TypeVar("_T")


def sealing_lead(settings: Settings) -> timedelta:
    """How old a new sealing key must be before this node seals with it: longer than any node
    of the deployment takes to reload its ring (they share ``key_reload_seconds``)."""
    return timedelta(seconds=settings.key_reload_seconds * 1.25 + 5)


def utc_now() -> datetime:
    return datetime.now(UTC)


class BatchedSystemRandom(random.Random):
    """The operating system's CSPRNG, like :class:`random.SystemRandom`, read 4 KiB at a time.

    Every value is made of bytes that came from ``os.urandom`` and are used exactly once; only
    the number of system calls changes (minting one set of credentials asks for ~40 small
    draws). There is no seed and no state to save or restore. A forked child forgets the
    parent's unused bytes, so two processes never hand out the same ones.
    """

    _instances: weakref.WeakSet[BatchedSystemRandom] = weakref.WeakSet()

    def __init__(self, batch_bytes: int = 4096) -> None:
        self._batch_bytes = batch_bytes
        self._buffer = b""
        self._offset = 0
        super().__init__()
        BatchedSystemRandom._instances.add(self)

    def _take(self, count: int) -> bytes:
        if count > self._batch_bytes:
            return os.urandom(count)
        if self._offset + count > len(self._buffer):
            self._buffer, self._offset = os.urandom(self._batch_bytes), 0
        start = self._offset
        self._offset = start + count
        return self._buffer[start : self._offset]

    def _forget(self) -> None:
        self._buffer, self._offset = b"", 0

    def random(self) -> float:
        """A float in [0, 1) from 53 random bits, as ``SystemRandom.random`` makes it."""
        return (int.from_bytes(self._take(7)) >> 3) * 2.0**-53

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        count = (k + 7) // 8
        return int.from_bytes(self._take(count)) >> (count * 8 - k)

    def randbytes(self, n: int) -> bytes:
        return self._take(n)

    def choice(self, seq: SupportsLenAndGetItem[_T]) -> _T:
        """A uniform pick; from a sequence of 2..256 items, a power of two long (an alphabet
        like base32), the low bits of one byte, which are exactly uniform over it."""
        size = len(seq)
        if 2 <= size <= 256 and size & (size - 1) == 0:
            return seq[self._take(1)[0] & (size - 1)]
        return super().choice(seq)

    def seed(self, *args: object, **kwargs: object) -> None:
        """No seed: the bytes come from the operating system."""

    def getstate(self) -> tuple[int, ...]:
        raise NotImplementedError("BatchedSystemRandom has no state to save")

    def setstate(self, state: tuple[int, ...]) -> None:
        raise NotImplementedError("BatchedSystemRandom has no state to restore")


def _forget_after_fork() -> None:
    for instance in list(BatchedSystemRandom._instances):
        instance._forget()


os.register_at_fork(after_in_child=_forget_after_fork)


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """One AWS service served on the listener: its wire model and its operation handlers."""

    name: str  # the SigV4 signing name: "sts", "iam", "cognito-identity"
    spec: ServiceSpec
    operations: OperationTable


@dataclass(slots=True, eq=False)
class Runtime:
    settings: Settings
    admin: AdminCredentials
    store: Store
    services: Mapping[str, ServiceBinding]
    json_targets: Mapping[str, ServiceBinding]
    master_key: MasterKey
    key_ring: KeyRing
    iam: IamCache
    jwks: IssuerKeyCache
    audit: AuditSink
    issuer_keys: IssuerKeys
    sessions: SessionTokenCache = field(default_factory=SessionTokenCache)
    rng: random.Random = field(default_factory=BatchedSystemRandom)
    clock: Callable[[], datetime] = field(default=utc_now)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    verifier: RequestVerifier = field(init=False)
    revocations: Revocations = field(init=False)
    rate_limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits.configured(
            client_rate=self.settings.rate_limit_per_client,
            client_burst=self.settings.rate_limit_per_client_burst,
            scope_rate=self.settings.rate_limit_per_issuer,
            scope_burst=self.settings.rate_limit_per_issuer_burst,
            max_keys=self.settings.rate_limit_max_keys,
        )
        self.revocations = Revocations(self.store.revocations, self.clock)
        # One verifier for the process; it reads the key ring and the revocation rules through
        # this runtime, so a reloaded ring or rule set is used at once.
        self.verifier = RequestVerifier(
            lambda: self.key_ring,
            self.sessions,
            clock=self.clock,
            admin=self.admin,
            account_id=self.settings.account_id,
            revocations=self.revocations.get,
        )

    async def reload_key_ring(self) -> None:
        self.key_ring = await load_key_ring(
            self.store, self.master_key, self.clock(), sealing_lead=sealing_lead(self.settings)
        )
        self.issuer_keys = await load_issuer_keys(self.store, self.master_key, self.clock())

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.audit.aclose()
        await self.jwks.aclose()
        await self.store.close()

    def start_background(self) -> None:
        self._tasks.append(
            asyncio.create_task(self._every(REVISION_POLL_SECONDS, self.iam.refresh))
        )
        self._tasks.append(
            asyncio.create_task(self._every(self.settings.key_reload_seconds, self.reload_key_ring))
        )
        self._tasks.append(
            asyncio.create_task(self._every(REVOCATION_POLL_SECONDS, self.revocations.refresh))
        )

    async def _every(self, seconds: float, action: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                result = action()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # a database hiccup must not end the loop
                _log.warning("background refresh failed", task=getattr(action, "__name__", "?"))


async def start_runtime(
    settings: Settings,
    admin: AdminCredentials,
    services: Mapping[str, ServiceBinding],
    json_targets: Mapping[str, ServiceBinding],
) -> Runtime:
    """Open the store, load the master key and key ring, start the background upkeep."""
    store = await Store.open(settings.effective_database_url)
    secret = settings.master_key.get_secret_value() if settings.master_key else None
    master_key, _ = load_or_create_master_key(settings.data_dir, secret)
    iam = IamCache(store, settings.account_id)
    await iam.refresh()
    runtime = Runtime(
        settings=settings,
        admin=admin,
        store=store,
        services=services,
        json_targets=json_targets,
        master_key=master_key,
        key_ring=await load_key_ring(
            store, master_key, utc_now(), sealing_lead=sealing_lead(settings)
        ),
        iam=iam,
        jwks=IssuerKeyCache(
            JwksSettings(
                allow_http=settings.allow_http_issuers,
                allowed_networks=settings.issuer_allowed_network_list,
                max_fetches_per_host=settings.issuer_fetch_concurrency,
            ),
            static_key_sets=static_keys_of_providers(iam),
        ),
        audit=AuditSink(store.audit.insert_many),
        issuer_keys=await load_issuer_keys(store, master_key, utc_now()),
    )
    await runtime.revocations.refresh()
    await runtime.audit.start()
    runtime.start_background()
    return runtime

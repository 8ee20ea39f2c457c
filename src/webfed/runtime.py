"""Everything a request needs, built once per process at start, and its background upkeep.

The runtime owns the process-wide caches (IAM objects, issuer keys, unsealed session tokens),
the sealing key ring, and the tasks that keep them fresh: the IAM revision poll (changes made on
any node reach this one within ``REVISION_POLL_SECONDS``) and the key-ring reload (rotations
made on any node are picked up within ``KEY_RING_RELOAD_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from webfed.admin import AdminCredentials
from webfed.api.context import OperationTable
from webfed.audit import AuditSink
from webfed.core.credentials import SessionTokenCache
from webfed.core.keys import KeyRing, MasterKey
from webfed.iam_cache import IamCache
from webfed.jwks import IssuerKeyCache, JwksSettings
from webfed.logs import get_logger
from webfed.master_key import load_or_create_master_key
from webfed.settings import Settings
from webfed.storage import Store
from webfed.storage.keys import load_key_ring

if TYPE_CHECKING:
    from webfed.protocol.models import ServiceSpec

__all__ = ["Runtime", "ServiceBinding", "start_runtime", "utc_now"]

REVISION_POLL_SECONDS = 1.0
KEY_RING_RELOAD_SECONDS = 60.0
_log = get_logger("webfed.runtime")


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    sessions: SessionTokenCache = field(default_factory=SessionTokenCache)
    rng: random.Random = field(default_factory=random.SystemRandom)
    clock: Callable[[], datetime] = field(default=utc_now)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def reload_key_ring(self) -> None:
        self.key_ring = await load_key_ring(self.store, self.master_key, self.clock())

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
            asyncio.create_task(self._every(KEY_RING_RELOAD_SECONDS, self.reload_key_ring))
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
        key_ring=await load_key_ring(store, master_key, utc_now()),
        iam=iam,
        jwks=IssuerKeyCache(JwksSettings(allow_http=settings.allow_http_issuers)),
        audit=AuditSink(store.audit.insert_many),
    )
    await runtime.audit.start()
    runtime.start_background()
    return runtime

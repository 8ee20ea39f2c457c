"""``Authorizer``: webfed's request authorization embedded in another service, in one object.

A team's own API (or a gateway) holds one :class:`Authorizer` and asks it, per request: who
signed this (:class:`~webfed.verify.RequestVerifier`), and may they do this
(:func:`webfed.authorize.decide`)? Built with :meth:`Authorizer.from_settings`, it opens the
same database as ``webfed serve``, loads the master key and the sealing key ring, and keeps them
fresh the way the server does: the account's IAM revision is polled every second (a policy change
reaches live sessions within about a second), so are the session revocation rules (``webfed
sessions revoke``: within two seconds), and the key ring is reloaded every minute. Inside the
server, :meth:`Authorizer.from_runtime` shares the server's caches instead.

Verification failures raise (``InvalidClientTokenId``, ``SignatureDoesNotMatch``...); a policy
refusal does not: :meth:`Authorizer.check` returns an :class:`AuthorizationResult` whose
``denial`` is the ``AccessDenied`` to send, with its encoded authorization message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from webfed.admin import AdminCredentials
from webfed.authorize import (
    AuthorizationResult,
    ContextInput,
    PolicySource,
    RequestFacts,
    SessionViews,
    decide,
    denial,
)
from webfed.core.credentials import SessionTokenCache
from webfed.core.keys import KeyRing, MasterKey
from webfed.core.policy import Policy
from webfed.core.sigv4 import STANDARD_RULES, HttpRequest, SigningRules
from webfed.http.metrics import observe_decision
from webfed.iam_cache import IamCache
from webfed.logs import get_logger
from webfed.master_key import load_or_create_master_key
from webfed.revocation import REVOCATION_POLL_SECONDS, Revocations, RevocationSet
from webfed.settings import Settings
from webfed.storage import Store
from webfed.storage.keys import load_key_ring
from webfed.verify import RequestVerifier, VerifiedCaller

__all__ = ["IAM_POLL_SECONDS", "KEY_RING_RELOAD_SECONDS", "Authorizer", "RuntimeLike"]

IAM_POLL_SECONDS = 1.0
KEY_RING_RELOAD_SECONDS = 60.0
_log = get_logger("webfed.authorizer")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Authorizer:
    """Verify and authorize requests signed with webfed credentials."""

    def __init__(
        self,
        *,
        policies: PolicySource,
        key_ring: Callable[[], KeyRing],
        account_id: str,
        region: str,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
        admin: AdminCredentials | None = None,
        sessions: SessionTokenCache | None = None,
        revocations: Callable[[], RevocationSet] | None = None,
    ) -> None:
        self.policies = policies
        self.account_id = account_id
        self.region = region
        self._key_ring = key_ring
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._views = SessionViews()
        self.verifier = RequestVerifier(
            key_ring,
            sessions or SessionTokenCache(),
            clock=clock,
            admin=admin,
            account_id=account_id,
            revocations=revocations,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._on_close: list[Callable[[], Awaitable[None]]] = []

    @property
    def key_ring(self) -> KeyRing:
        """The current sealing key ring (to mint test credentials, or decode messages)."""
        return self._key_ring()

    def __repr__(self) -> str:
        return f"Authorizer(account_id={self.account_id!r}, region={self.region!r})"

    # --- construction -------------------------------------------------------------------------

    @classmethod
    async def from_settings(
        cls,
        settings: Settings,
        *,
        admin: AdminCredentials | None = None,
        background: bool = True,
    ) -> Authorizer:
        """Open the store named by ``settings``, load the master key and key ring, start upkeep.

        ``settings`` are webfed's own (``WEBFED_DATABASE_URL``, ``WEBFED_DATA_DIR``,
        ``WEBFED_MASTER_KEY``, ``WEBFED_ACCOUNT_ID``, ``WEBFED_REGION``). ``admin``, when given,
        also accepts the administrator's key. Close with :meth:`aclose`.
        """
        store = await Store.open(settings.effective_database_url)
        try:
            secret = settings.master_key.get_secret_value() if settings.master_key else None
            master_key, _ = load_or_create_master_key(settings.data_dir, secret)
            iam = IamCache(store, settings.account_id)
            await iam.refresh()
            ring = _RingHolder(await load_key_ring(store, master_key, _utc_now()))
            revocations = Revocations(store.revocations, _utc_now)
            await revocations.refresh()
        except BaseException:
            await store.close()
            raise
        authorizer = cls(
            policies=iam,
            key_ring=ring.get,
            account_id=settings.account_id,
            region=settings.region,
            admin=admin,
            revocations=revocations.get,
        )
        authorizer._on_close.append(store.close)
        if background:
            authorizer._every(IAM_POLL_SECONDS, iam.refresh)
            authorizer._every(REVOCATION_POLL_SECONDS, revocations.refresh)
            authorizer._every(settings.key_reload_seconds, ring.reloader(store, master_key))
        return authorizer

    @classmethod
    def from_runtime(cls, runtime: RuntimeLike) -> Authorizer:
        """An authorizer sharing a running server's IAM cache, key ring and token cache."""
        return cls(
            policies=runtime.iam,
            key_ring=lambda: runtime.key_ring,
            account_id=runtime.settings.account_id,
            region=runtime.settings.region,
            clock=runtime.clock,
            rng=runtime.rng,
            admin=runtime.admin,
            sessions=runtime.sessions,
            revocations=runtime.revocations.get,
        )

    # --- use ----------------------------------------------------------------------------------

    async def check(
        self,
        request: HttpRequest,
        *,
        action: str,
        resource: str,
        context: ContextInput | None = None,
        rules: SigningRules = STANDARD_RULES,
        service: str | None = None,
        source_ip: str | None = None,
        secure_transport: bool | None = None,
        resource_policy: Policy | None = None,
    ) -> AuthorizationResult:
        """Verify ``request`` (raises on failure), then decide ``action`` on ``resource``."""
        caller = self.verifier.verify(request, rules=rules, service=service)
        return await self.decide(
            caller,
            action=action,
            resource=resource,
            context=context,
            source_ip=source_ip,
            secure_transport=secure_transport,
            resource_policy=resource_policy,
        )

    async def decide(
        self,
        caller: VerifiedCaller,
        *,
        action: str,
        resource: str,
        context: ContextInput | None = None,
        source_ip: str | None = None,
        secure_transport: bool | None = None,
        resource_policy: Policy | None = None,
    ) -> AuthorizationResult:
        """Decide for an already verified caller; a refusal carries its ``AccessDenied``."""
        now = self._clock()
        facts = RequestFacts(now, source_ip, secure_transport, caller.region or self.region)
        decision = await decide(
            self.policies,
            caller,
            action,
            resource,
            facts,
            context=context,
            resource_policy=resource_policy,
            views=self._views,
        )
        observe_decision(action, decision.allowed)
        result = AuthorizationResult(caller, action, resource, decision)
        if decision.allowed:
            return result
        refused = denial(
            caller,
            action,
            resource,
            decision,
            key_ring=self._key_ring(),
            rng=self._rng,
            now=now,
            context=context,
        )
        return AuthorizationResult(caller, action, resource, decision, refused)

    async def aclose(self) -> None:
        """Stop the upkeep and close what :meth:`from_settings` opened."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for close in self._on_close:
            await close()
        self._on_close.clear()

    async def __aenter__(self) -> Authorizer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- upkeep -------------------------------------------------------------------------------

    def _every(self, seconds: float, action: Callable[[], Awaitable[object]]) -> None:
        self._tasks.append(asyncio.create_task(_repeat(seconds, action)))


async def _repeat(seconds: float, action: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:  # a database hiccup must not end the loop; the next round retries
            _log.warning("authorizer refresh failed")


class _RingHolder:
    """The current key ring, swapped whole by the reload task."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def get(self) -> KeyRing:
        return self.ring

    def reloader(self, store: Store, master_key: MasterKey) -> Callable[[], Awaitable[None]]:
        async def reload() -> None:
            self.ring = await load_key_ring(store, master_key, _utc_now())

        return reload


class RuntimeLike(Protocol):
    """What :meth:`Authorizer.from_runtime` reads from :class:`webfed.runtime.Runtime`."""

    @property
    def iam(self) -> IamCache: ...
    @property
    def key_ring(self) -> KeyRing: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def rng(self) -> random.Random: ...
    @property
    def admin(self) -> AdminCredentials: ...
    @property
    def sessions(self) -> SessionTokenCache: ...
    @property
    def revocations(self) -> Revocations: ...

    def clock(self) -> datetime: ...

"""Assemble a gateway from webfed's settings: the store, master key and key ring of the webfed
server that minted the credentials, the upstream and its credentials, CORS.

The gateway must share the server's database (``--data-dir`` / ``--database-url``) and master
key (``WEBFED_MASTER_KEY`` or ``DATA_DIR/master.key``): it unseals the session tokens the server
sealed, and reads the roles' current policies. It never creates a master key: a gateway with a
key of its own could not open a single token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from webfed.admin import AdminCredentials, load_or_create_admin_credentials
from webfed.audit import AuditSink
from webfed.core import sigv4
from webfed.core.keys import MasterKey
from webfed.errors import MasterKeyError
from webfed.gateway.access import GatewayAccess
from webfed.gateway.app import GatewayApp, Handler
from webfed.gateway.audit import GatewayRecord, gateway_event
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.proxy import Upstream, upstream_origin
from webfed.gateway.s3_proxy import S3Gateway
from webfed.gateway.upstream import UpstreamCredentials
from webfed.http import metrics
from webfed.http.health import database_problem
from webfed.jwks.cache import JwksCounters
from webfed.master_key import MASTER_KEY_FILE, load_or_create_master_key
from webfed.settings import Settings
from webfed.storage import Store

AUDIT_MODES = ("all", "errors", "off")
"""Like CloudTrail, which records data events (object and item calls) only when asked, the
gateway stores an event for every refusal or failure by default, and for every request with
``all``."""

__all__ = ["AUDIT_MODES", "GatewayConfig", "build_gateway", "gateway_admin", "gateway_master_key"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Everything about one gateway that is not webfed's own settings."""

    service: str  # "s3" or "dynamodb"
    upstream_url: str
    upstream_credentials: UpstreamCredentials
    upstream_region: str = "us-east-1"
    cors_origins: tuple[str, ...] = ()
    virtual_host_suffixes: tuple[str, ...] = ()
    audit: str = "errors"  # "all" requests, only "errors" (refusals, failures), or "off"


class _NoIssuerKeys:
    """A gateway verifies SigV4 only: it never fetches an issuer's keys."""

    @property
    def counters(self) -> JwksCounters:
        return JwksCounters()


@dataclass(frozen=True, slots=True, eq=False)
class _MetricsSource:
    """What the gateway's scrape reads at scrape time: its audit sink and database pool."""

    audit: AuditSink
    store: Store
    jwks: _NoIssuerKeys


def gateway_master_key(settings: Settings) -> MasterKey:
    """The server's master key; refuse to start rather than create one."""
    configured = settings.master_key.get_secret_value() if settings.master_key else None
    if not configured and not (settings.data_dir / MASTER_KEY_FILE).exists():
        raise MasterKeyError(
            f"no master key: give the gateway the webfed server's WEBFED_MASTER_KEY or its "
            f"--data-dir (no {MASTER_KEY_FILE} in {settings.data_dir})"
        )
    return load_or_create_master_key(settings.data_dir, configured)[0]


def gateway_admin(settings: Settings) -> AdminCredentials | None:
    """The administrator's credentials if configured or already written by the server."""
    secret = settings.admin_secret_access_key
    key_id = settings.admin_access_key_id
    if key_id and secret is not None:
        return AdminCredentials(key_id, secret.get_secret_value())
    if (settings.data_dir / "admin-credentials").exists():
        return load_or_create_admin_credentials(settings.data_dir, None, None)[0]
    return None


def build_gateway(
    settings: Settings,
    config: GatewayConfig,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> GatewayApp:
    """The ASGI app; it opens the store and the upstream pool at start (lifespan)."""
    upstream_origin(config.upstream_url)  # a bad URL is a usage error now, not at start
    if config.audit not in AUDIT_MODES:
        raise ValueError(f"audit must be one of {', '.join(AUDIT_MODES)}")
    gateway_master_key(settings)  # refuse to start (and to create a key) without the server's
    cors = CorsPolicy.of(config.cors_origins)
    opened: list[Callable[[], Awaitable[None]]] = []
    sinks: list[AuditSink] = []
    stores: list[Store] = []

    async def start() -> Handler:
        store = await Store.open(settings.effective_database_url)
        opened.append(store.close)
        stores.append(store)
        sink = AuditSink(store.audit.insert_many)
        await sink.start()
        opened.append(sink.aclose)
        sinks.append(sink)
        source = _MetricsSource(sink, store, _NoIssuerKeys())
        metrics.bind_runtime(source)
        opened.append(_unbind(source))
        access = await GatewayAccess.open(settings, gateway_admin(settings))
        opened.append(access.close)
        rules = sigv4.S3_RULES if config.service == "s3" else sigv4.STANDARD_RULES
        upstream = Upstream(
            config.upstream_url,
            config.upstream_credentials,
            region=config.upstream_region,
            service=config.service,
            rules=rules,
            clock=clock,
        )
        opened.append(upstream.aclose)
        return _handler(config, settings, access, upstream, cors, clock)

    async def stop() -> None:
        sinks.clear()
        stores.clear()
        while opened:
            await opened.pop()()

    def finished(record: GatewayRecord) -> None:
        if config.audit == "off" or (config.audit == "errors" and record.error is None):
            return
        if sinks:
            event = gateway_event(
                record, now=clock(), account_id=settings.account_id, region=settings.region
            )
            sinks[0].record(event)

    async def probe() -> str | None:
        """Readiness: the database answers (the gateway reads roles and policies from it)."""
        return await database_problem(stores[0]) if stores else "starting"

    return GatewayApp(config.service, cors, start=start, stop=stop, finished=finished, probe=probe)


def _unbind(source: _MetricsSource) -> Callable[[], Awaitable[None]]:
    async def unbind() -> None:
        metrics.unbind_runtime(source)

    return unbind


def _handler(
    config: GatewayConfig,
    settings: Settings,
    access: GatewayAccess,
    upstream: Upstream,
    cors: CorsPolicy,
    clock: Callable[[], datetime],
) -> Handler:
    if config.service == "s3":
        return S3Gateway(
            access, upstream, settings.region, cors, config.virtual_host_suffixes, clock
        )
    from webfed.gateway.dynamodb_proxy import DynamoDBGateway

    return DynamoDBGateway(access, upstream, settings.region, settings.account_id, cors, clock)

"""The Starlette application: one listener for every AWS service webfed speaks.

``create_app`` builds it from settings; ``create_app_from_env`` is the factory uvicorn workers
call (``webfed serve`` hands them the settings and admin credentials through ``WEBFED_*``
variables, so each worker builds the same app), behind :class:`~webfed.http.front.AwsFrontDoor`
so that AWS calls skip Starlette's middleware and router.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from webfed import devidp
from webfed.admin import AdminCredentials
from webfed.api import cognito_identity, iam, sts
from webfed.gateway.cors import CorsPolicy
from webfed.http import decision, health, metrics
from webfed.http.dispatch import handle_aws_request
from webfed.http.front import AwsFrontDoor
from webfed.issuer import routes as issuer_routes
from webfed.logs import configure_logging, get_logger
from webfed.protocol.models import load_service
from webfed.runtime import ServiceBinding, start_runtime
from webfed.settings import Settings

__all__ = ["build_services", "create_app", "create_app_from_env"]

_log = get_logger("webfed.http")


def build_services() -> dict[str, ServiceBinding]:
    return {
        "sts": ServiceBinding("sts", load_service("sts"), sts.OPERATIONS),
        "iam": ServiceBinding("iam", load_service("iam"), iam.OPERATIONS),
        "cognito-identity": ServiceBinding(
            "cognito-identity", load_service("cognito-identity"), cognito_identity.OPERATIONS
        ),
    }


async def _metrics(request: Request) -> Response:
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def _freeze_startup_objects() -> None:
    """Move everything built at start (the compiled AWS service models above all: ~140,000
    objects) out of the garbage collector's sight. They live as long as the process, yet every
    full collection walked them: a pause of 50-100 ms, several times a minute under load, that
    set the requests' 99th percentile. Garbage made since start is collected first."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, admin: AdminCredentials) -> Starlette:
    services = build_services()
    json_targets = {
        binding.spec.meta.target_prefix: binding
        for binding in services.values()
        if binding.spec.meta.target_prefix
    }

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await start_runtime(settings, admin, services, json_targets)
        app.state.runtime = runtime
        readiness = health.Readiness(runtime)
        app.state.readiness = readiness
        metrics.bind_runtime(runtime)
        _freeze_startup_objects()
        _log.info("webfed ready", account_id=settings.account_id, region=settings.region)
        try:
            yield
        finally:
            readiness.shutting_down = True
            metrics.unbind_runtime(runtime)
            await runtime.close()

    routes = [
        Route("/", handle_aws_request, methods=["GET", "POST"]),
        *health.ROUTES,
        Route("/metrics", _metrics, methods=["GET"]),
        *decision.ROUTES,
        *issuer_routes.ROUTES,
        *(devidp.build_routes(settings) if settings.dev_idp else []),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def create_app_from_env() -> AwsFrontDoor | ASGIApp:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    if not settings.admin_access_key_id or settings.admin_secret_access_key is None:
        raise RuntimeError(
            "WEBFED_ADMIN_ACCESS_KEY_ID and WEBFED_ADMIN_SECRET_ACCESS_KEY must be set"
        )
    admin = AdminCredentials(
        settings.admin_access_key_id, settings.admin_secret_access_key.get_secret_value()
    )
    cors = CorsPolicy.of(settings.cors_origins.split(","))
    front = AwsFrontDoor(create_app(settings, admin), cors)
    if settings.otel_exporter == "none":
        return front
    from webfed import telemetry  # traces: imported only when asked for

    return telemetry.instrument_server(front, settings) if telemetry.enabled(settings) else front

"""The issuer's documents over HTTP: discovery metadata and the JWK Set, under ``/.well-known/``.

Both are read from the runtime (the public URL from the settings, the keys from the runtime's
:class:`~webfed.issuer.keys.IssuerKeys`, reloaded every minute), so every node of a deployment
serves the same documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webfed.issuer.discovery import (
    DISCOVERY_MAX_AGE_SECONDS,
    DISCOVERY_PATH,
    JWKS_PATH,
    discovery_body,
    jwks_cache_control,
)

if TYPE_CHECKING:
    from webfed.runtime import Runtime

__all__ = ["ROUTES"]

_JSON = "application/json"


async def openid_configuration(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return Response(
        discovery_body(runtime.settings.effective_public_url),
        media_type=_JSON,
        headers={"Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE_SECONDS}"},
    )


async def jwks(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return Response(
        runtime.issuer_keys.jwks_body,
        media_type=_JSON,
        headers={"Cache-Control": jwks_cache_control()},
    )


ROUTES = [
    Route(DISCOVERY_PATH, openid_configuration, methods=["GET"]),
    Route(JWKS_PATH, jwks, methods=["GET"]),
]

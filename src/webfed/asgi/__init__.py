"""webfed credentials in any ASGI application: :class:`WebfedAuthMiddleware` and route tables.

    from webfed.asgi import RouteRule, RouteTable, WebfedAuthMiddleware, webfed_auth
    from webfed.authorizer import Authorizer

See ``docs/authorization.md`` for a worked example.
"""

from __future__ import annotations

from webfed.asgi.middleware import STATE_KEY, WebfedAuthMiddleware, webfed_auth
from webfed.asgi.routes import (
    ContextExtractor,
    ResolvedRoute,
    RouteMatch,
    RouteRule,
    RouteTable,
    load_route_table,
)

__all__ = [
    "STATE_KEY",
    "ContextExtractor",
    "ResolvedRoute",
    "RouteMatch",
    "RouteRule",
    "RouteTable",
    "WebfedAuthMiddleware",
    "load_route_table",
    "webfed_auth",
]

"""From an ASGI request to SigV4's :class:`HttpRequest`, and from a webfed error to a response.

Shared by the ASGI middleware and the decision endpoints. The request is taken byte for byte
as the client sent it (undecoded target, headers in arrival order), because that is what was
signed. Errors are answered in the JSON shape of AWS's JSON services, ``{"__type", "message"}``
with ``x-amzn-ErrorType``, the shape API Gateway uses for ``execute-api`` callers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Scope

from webfed.core.sigv4 import HttpRequest
from webfed.errors import AuthError, IncompleteSignature, MissingAuthenticationToken, WebfedError
from webfed.verify import json_error_code

__all__ = ["error_body", "error_status", "header_map", "http_request", "peer_address"]


def _text(raw: bytes) -> str:
    # Non-ASCII bytes survive as surrogates, so the verifier hashes the bytes that were signed.
    return raw.decode("utf-8", "surrogateescape")


def http_request(
    scope: Scope,
    body: bytes,
    *,
    target: str | None = None,
    method: str | None = None,
    host: str | None = None,
) -> HttpRequest:
    """The request as signed. ``target`` (path and query), ``method`` and ``host`` replace the
    scope's when a proxy reports the original request (Envoy, nginx)."""
    if target is None:
        raw_path = _text(scope.get("raw_path") or scope["path"].encode())
        raw_query = _text(scope.get("query_string", b""))
    else:
        raw_path, _, raw_query = target.partition("?")
    headers = tuple((_text(name), _text(value)) for name, value in scope["headers"])
    if host is not None:
        headers = (*((n, v) for n, v in headers if n.lower() != "host"), ("host", host))
    return HttpRequest(method or scope["method"], raw_path, raw_query, headers, body)


def header_map(request: HttpRequest) -> dict[str, str]:
    """Lower-case header names to their first value (what route templates read)."""
    found: dict[str, str] = {}
    for name, value in request.headers:
        found.setdefault(name.lower(), value)
    return found


def peer_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def error_status(error: WebfedError, *, allowed: tuple[int, ...] | None = None) -> int:
    """401 without credentials, 400 for a malformed signature, 403 for any other refusal, the
    leaf's status otherwise.

    ``allowed`` narrows the choice (nginx ``auth_request`` understands only 2xx, 401 and 403).
    """
    if isinstance(error, MissingAuthenticationToken):
        status = 401
    elif isinstance(error, IncompleteSignature):
        status = 400
    elif isinstance(error, AuthError):
        status = 403
    else:
        status = error.status
    if allowed is not None and status not in allowed:
        return 401 if status == 401 else 403
    return status


def error_body(error: WebfedError) -> tuple[bytes, Mapping[str, str]]:
    """``{"__type": CODE, "message": TEXT}`` and its headers."""
    code = json_error_code(error)
    body = json.dumps({"__type": code, "message": error.full_message}).encode()
    headers = {"content-type": "application/json", "x-amzn-ErrorType": code}
    if isinstance(error, MissingAuthenticationToken):
        headers["www-authenticate"] = "AWS4-HMAC-SHA256"
    return body, headers

"""SigV4 authentication of the management and STS calls on the main listener.

The pure steps live in :mod:`webfed.core.sigv4`; this module feeds them the request as the
server saw it and finds the secret behind the access key id. Only the administrator's key exists
for now; temporary ``ASIA`` keys with a session token plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from webfed.api.context import Caller
from webfed.core import sigv4
from webfed.errors import AccessDenied, InvalidClientTokenId, MissingAuthenticationToken
from webfed.http.runtime import Runtime

__all__ = ["SignedRequest", "authenticate", "not_authorized", "parse_signature"]


@dataclass(frozen=True, slots=True)
class SignedRequest:
    http: sigv4.HttpRequest
    parsed: sigv4.ParsedAuthorization

    @property
    def service(self) -> str:
        return self.parsed.service


def _http_request(request: Request, body: bytes) -> sigv4.HttpRequest:
    scope = request.scope
    raw_path = scope.get("raw_path") or scope["path"].encode()
    # Undecoded, byte for byte as the client signed them (non-ASCII kept via surrogateescape).
    return sigv4.HttpRequest(
        method=request.method,
        raw_path=raw_path.decode("utf-8", "surrogateescape"),
        raw_query=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
        headers=tuple(
            (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
            for k, v in scope["headers"]
        ),
        body=body,
    )


def parse_signature(request: Request, body: bytes) -> SignedRequest | None:
    """The request's SigV4 signature, or ``None`` for an unsigned request."""
    headers = request.headers
    if "authorization" not in headers and b"X-Amz-Credential" not in request.scope.get(
        "query_string", b""
    ):
        return None
    http = _http_request(request, body)
    try:
        parsed = sigv4.parse_authorization(http)
    except MissingAuthenticationToken:
        return None
    return SignedRequest(http, parsed)


def authenticate(runtime: Runtime, signed: SignedRequest, service: str) -> Caller:
    """Verify the signature and say who signed, or raise the AWS error."""
    parsed = signed.parsed
    admin = runtime.admin
    if parsed.access_key_id != admin.access_key_id:
        raise InvalidClientTokenId("The security token included in the request is invalid.")
    sigv4.verify_request(
        signed.http,
        parsed,
        admin.secret_access_key,
        now=runtime.clock(),
        rules=sigv4.STANDARD_RULES,
    )
    account = runtime.settings.account_id
    return Caller(
        access_key_id=parsed.access_key_id,
        arn=f"arn:aws:iam::{account}:root",
        user_id=account,
        account_id=account,
        is_admin=True,
    )


def not_authorized(caller: Caller, operation: str) -> AccessDenied:
    return AccessDenied(
        f"User: {caller.arn} is not authorized to perform: {operation} "
        "because no identity-based policy allows the action"
    )

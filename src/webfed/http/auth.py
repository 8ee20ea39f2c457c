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
from webfed.core.credentials import SessionContext, check_not_expired
from webfed.errors import AccessDenied, InvalidClientTokenId, MissingAuthenticationToken
from webfed.runtime import Runtime

__all__ = [
    "SignedRequest",
    "admin_caller",
    "authenticate",
    "not_authorized",
    "parse_signature",
    "session_caller",
]


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
    now = runtime.clock()
    if parsed.security_token is not None:
        unsealed = runtime.sessions.unseal(
            parsed.security_token, parsed.access_key_id, runtime.key_ring
        )
        check_not_expired(unsealed.session, now)
        secret = unsealed.secret_access_key
        caller = session_caller(parsed.access_key_id, unsealed.session)
    elif parsed.access_key_id == runtime.admin.access_key_id:
        secret = runtime.admin.secret_access_key
        caller = admin_caller(parsed.access_key_id, runtime.settings.account_id)
    else:
        raise InvalidClientTokenId("The security token included in the request is invalid.")
    sigv4.verify_request(signed.http, parsed, secret, now=now, rules=sigv4.STANDARD_RULES)
    return caller


def admin_caller(access_key_id: str, account: str) -> Caller:
    return Caller(
        access_key_id=access_key_id,
        arn=f"arn:aws:iam::{account}:root",
        user_id=account,
        account_id=account,
        is_admin=True,
    )


def session_caller(access_key_id: str, session: SessionContext) -> Caller:
    return Caller(
        access_key_id=access_key_id,
        arn=session.assumed_role_arn,
        user_id=session.assumed_role_id,
        account_id=session.account_id,
        is_admin=False,
        session=session,
    )


def not_authorized(caller: Caller, operation: str) -> AccessDenied:
    return AccessDenied(
        f"User: {caller.arn} is not authorized to perform: {operation} "
        "because no identity-based policy allows the action"
    )

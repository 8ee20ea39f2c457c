"""SigV4 authentication of the management and STS calls on the main listener.

The pure steps live in :mod:`webfed.core.sigv4`; this module feeds them the request as the
server saw it; :mod:`webfed.verify` finds the secret behind the access key id (the
administrator's key, or a temporary key with its session token) and checks the signature.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from webfed.api.context import Caller
from webfed.core import sigv4
from webfed.core.credentials import SessionContext
from webfed.errors import AccessDenied, MissingAuthenticationToken, NotAuthorized
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
    """Verify the signature and say who signed, or raise the AWS error.

    The checks are :class:`webfed.verify.RequestVerifier`'s, the same as every other service
    webfed authorizes. ``service`` is the service the request was routed to: a signature scoped
    to another service is refused, as AWS does ("Credential should be scoped to correct
    service"). The scope's region is not checked: clients in any region may use one webfed.
    """
    verified = runtime.verifier.verify_parsed(
        signed.http, signed.parsed, rules=sigv4.STANDARD_RULES, service=service
    )
    return Caller(
        access_key_id=verified.access_key_id,
        arn=verified.arn,
        user_id=verified.user_id,
        account_id=verified.account,
        is_admin=verified.is_admin,
        session=verified.session,
    )


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


def not_authorized(caller: Caller, action: str) -> AccessDenied | NotAuthorized:
    """A temporary-credential caller on an administrator-only operation (IAM, pool management).

    webfed's control plane answers only the administrator's credentials; the denial says so,
    with an explanation the administrator can decode. Cognito Identity spells its denial
    ``NotAuthorizedException``; the Query services ``AccessDenied``.
    """
    message = (
        f"User: {caller.arn} is not authorized to perform: {action} "
        "because webfed allows this operation to the administrator's credentials only"
    )
    explanation = {
        "allowed": False,
        "check": "administrator_only",
        "reason": f"{action} is served to the administrator's credentials only",
        "context": {"principal": {"arn": caller.arn}, "action": action},
    }
    if action.startswith("cognito-identity:"):
        return NotAuthorized(message, explanation=explanation)
    return AccessDenied(message, explanation=explanation)

"""Who signed this request? SigV4 verification of webfed credentials, for any service.

AWS services authenticate every call the same way ("Signature Version 4 for API requests", IAM
User Guide; "Authenticating Requests", Amazon S3 API Reference): read the signature's
parameters, find the secret behind the access key id, check the time window, recompute the
signature, and, for temporary credentials, check that the session token is genuine and current.
:class:`RequestVerifier` does those steps for the main listener, the gateways, the ASGI
middleware and the decision endpoints, and answers a :class:`VerifiedCaller` or raises a leaf of
:mod:`webfed.errors`:

=======================================  ===================================================
condition                                leaf
=======================================  ===================================================
no ``Authorization`` and not presigned   ``MissingAuthenticationToken``
malformed parameters, X-Amz-Expires      ``IncompleteSignature``
above seven days
unknown access key id, a bad or          ``InvalidClientTokenId``
tampered session token, a revoked
session (:mod:`webfed.revocation`)
session past its expiration              ``ExpiredToken``
wrong signature, scope naming another    ``SignatureDoesNotMatch``
service or region
outside the time window                  ``RequestExpired``
declared payload digest wrong            ``XAmzContentSHA256Mismatch``
=======================================  ===================================================

A presigned URL made with temporary credentials stops working when the session expires, even
if its ``X-Amz-Expires`` runs longer (AWS: "the URL expires when the credential you used to
create it expires"): the session's expiry is checked on every request.

Each leaf carries an ``explanation`` with the failed ``check`` and whether the request was
``presigned``; :func:`s3_error` and :func:`json_error_code` read it to spell the error the way
S3 or a JSON service does.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from xml.sax.saxutils import escape

from webfed.admin import AdminCredentials
from webfed.core import sigv4
from webfed.core.credentials import SessionContext, SessionTokenCache, check_not_expired
from webfed.core.keys import KeyRing
from webfed.errors import InvalidClientTokenId, SignatureDoesNotMatch, WebfedError
from webfed.revocation import RevocationSet

__all__ = [
    "INVALID_ACCESS_KEY_MESSAGE",
    "RequestVerifier",
    "S3Error",
    "VerifiedCaller",
    "admin_caller",
    "check_scope",
    "json_error_code",
    "render_s3_error",
    "s3_error",
    "s3_error_code",
    "session_caller",
]

INVALID_ACCESS_KEY_MESSAGE = "The security token included in the request is invalid."


class VerifiedCaller(NamedTuple):
    """The principal whose signature checked out.

    ``session`` is the unsealed role session behind temporary credentials, ``None`` for the
    administrator. ``region`` and ``service`` are the signature's credential scope (the region
    the caller addressed: ``aws:RequestedRegion``); ``presigned`` says the request was a
    presigned URL. Immutable; a named tuple because one is built per request and a tuple is
    several times cheaper to construct than a frozen dataclass.
    """

    access_key_id: str
    session: SessionContext | None
    arn: str
    user_id: str
    account: str
    region: str = ""
    service: str = ""
    presigned: bool = False
    signed_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.session is None


def admin_caller(
    access_key_id: str, account: str, parsed: sigv4.ParsedAuthorization | None = None
) -> VerifiedCaller:
    """The administrator: the account's root principal (``arn:aws:iam::ACCOUNT:root``)."""
    return VerifiedCaller(
        access_key_id, None, f"arn:aws:iam::{account}:root", account, account, *_scope(parsed)
    )


def session_caller(
    access_key_id: str, session: SessionContext, parsed: sigv4.ParsedAuthorization | None = None
) -> VerifiedCaller:
    """A role session: ``assumed-role/ROLE/SESSION``, ``aws:userid`` ``ROLE_ID:SESSION``."""
    return VerifiedCaller(
        access_key_id,
        session,
        session.assumed_role_arn,
        session.assumed_role_id,
        session.account_id,
        *_scope(parsed),
    )


def _scope(parsed: sigv4.ParsedAuthorization | None) -> tuple[str, str, bool, datetime | None]:
    if parsed is None:
        return "", "", False, None
    return parsed.region, parsed.service, parsed.presigned, parsed.signed_at


class RequestVerifier:
    """Verifies SigV4 requests signed with the administrator's or temporary credentials.

    ``key_ring`` is called on every request so that a ring reloaded in the background takes
    effect at once; ``sessions`` remembers recent unseals; ``clock`` gives the aware UTC now;
    ``revocations``, called on every request like ``key_ring``, gives the revocation rules a
    session must pass after unsealing (none when omitted).
    """

    __slots__ = (
        "_account",
        "_admin",
        "_clock",
        "_key_ring",
        "_max_skew",
        "_revocations",
        "_sessions",
    )

    def __init__(
        self,
        key_ring: Callable[[], KeyRing],
        sessions: SessionTokenCache,
        *,
        clock: Callable[[], datetime],
        admin: AdminCredentials | None = None,
        account_id: str | None = None,
        max_skew: timedelta = sigv4.DEFAULT_MAX_SKEW,
        revocations: Callable[[], RevocationSet] | None = None,
    ) -> None:
        if admin is not None and account_id is None:
            raise ValueError("administrator credentials need the account id they act for")
        self._key_ring = key_ring
        self._sessions = sessions
        self._clock = clock
        self._admin = admin
        self._account = account_id or ""
        self._max_skew = max_skew
        self._revocations = revocations

    def __repr__(self) -> str:
        admin = "yes" if self._admin is not None else "no"
        return f"RequestVerifier(admin={admin}, sessions={self._sessions!r})"

    def verify(
        self,
        request: sigv4.HttpRequest,
        *,
        rules: sigv4.SigningRules,
        service: str | None = None,
        region: str | None = None,
    ) -> VerifiedCaller:
        """The caller behind ``request``, or raise (see the module docstring for the leaves).

        ``service`` and ``region``, when given, are what this endpoint serves: a signature
        scoped to anything else is refused.
        """
        try:
            parsed = sigv4.parse_authorization(request)
        except WebfedError as error:
            raise _annotated(error, None, presigned=_looks_presigned(request)) from None
        try:
            return self.verify_parsed(request, parsed, rules=rules, service=service, region=region)
        except WebfedError as error:
            raise _annotated(error, parsed, presigned=parsed.presigned) from None

    def verify_parsed(
        self,
        request: sigv4.HttpRequest,
        parsed: sigv4.ParsedAuthorization,
        *,
        rules: sigv4.SigningRules,
        service: str | None = None,
        region: str | None = None,
    ) -> VerifiedCaller:
        """:meth:`verify` for a caller that already ran :func:`sigv4.parse_authorization`."""
        check_scope(parsed, service=service, region=region)
        now = self._clock()
        caller, secret = self.credentials(parsed, now)
        sigv4.verify_request(request, parsed, secret, now=now, rules=rules, max_skew=self._max_skew)
        return caller

    def credentials(
        self, parsed: sigv4.ParsedAuthorization, now: datetime
    ) -> tuple[VerifiedCaller, str]:
        """The caller named by the access key id and the secret its signature must use.

        For temporary credentials: the session token unsealed, then checked unexpired and not
        revoked. Public for callers that run the remaining SigV4 steps themselves (the
        gateway's ``aws-chunked`` uploads), so that they skip none of these checks.
        """
        key_id = parsed.access_key_id
        if parsed.security_token is not None:
            unsealed = self._sessions.unseal(parsed.security_token, key_id, self._key_ring())
            check_not_expired(unsealed.session, now)
            if self._revocations is not None:
                self._revocations().check(key_id, unsealed.session)
            return session_caller(key_id, unsealed.session, parsed), unsealed.secret_access_key
        admin = self._admin
        if admin is not None and hmac.compare_digest(key_id.encode(), admin.access_key_id.encode()):
            return admin_caller(key_id, self._account, parsed), admin.secret_access_key
        raise InvalidClientTokenId(
            INVALID_ACCESS_KEY_MESSAGE,
            explanation={"check": "access-key-id", "reason": "no such access key id"},
        )


def check_scope(
    parsed: sigv4.ParsedAuthorization, *, service: str | None, region: str | None
) -> None:
    """Refuse a credential scope naming a service or region this endpoint does not serve."""
    if service is not None and parsed.service != service:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to correct service: '{service}'.",
            explanation={"check": "credential-scope", "reason": "wrong service"},
        )
    if region is not None and parsed.region != region:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped to a valid region, not '{parsed.region}'.",
            explanation={"check": "credential-scope", "reason": "wrong region"},
        )


_CHECK_OF = {
    "RequestExpired": "request-time",
    "SignatureDoesNotMatch": "signature",
    "XAmzContentSHA256Mismatch": "payload-digest",
    "IncompleteSignature": "signature-form",
    "ExpiredToken": "session-expiry",
    "InvalidClientTokenId": "session-token",
}


def _annotated(
    error: WebfedError, parsed: sigv4.ParsedAuthorization | None, *, presigned: bool
) -> WebfedError:
    """Add the failed check and the request's form to the admin-only explanation."""
    explanation = dict(error.explanation or {})
    explanation.setdefault("check", _CHECK_OF.get(error.code, "authentication"))
    explanation["presigned"] = presigned
    if parsed is not None:
        explanation.setdefault("accessKeyId", parsed.access_key_id)
    error.explanation = explanation
    return error


def _looks_presigned(request: sigv4.HttpRequest) -> bool:
    return "X-Amz-" in request.raw_query and not request.header_values("authorization")


# --- the same failure in each protocol's spelling ---------------------------------------------


@dataclass(frozen=True, slots=True)
class S3Error:
    """An error as Amazon S3 spells it: code, HTTP status and message ("Error responses")."""

    code: str
    status: int
    message: str


_S3_FIXED: dict[str, tuple[str, int, str | None]] = {
    "MissingAuthenticationToken": ("AccessDenied", 403, "Access Denied"),
    "SignatureDoesNotMatch": ("SignatureDoesNotMatch", 403, None),
    "ExpiredToken": ("ExpiredToken", 400, "The provided token has expired."),
    "AccessDenied": ("AccessDenied", 403, None),
    "XAmzContentSHA256Mismatch": ("XAmzContentSHA256Mismatch", 400, None),
    "RequestEntityTooLarge": ("EntityTooLarge", 400, None),
    "InternalFailure": ("InternalError", 500, None),
    "ServiceUnavailable": ("ServiceUnavailable", 503, None),
    "Throttling": ("SlowDown", 503, "Please reduce your request rate."),
}


def s3_error(error: WebfedError) -> S3Error:
    """``error`` in S3's spelling; a code S3 does not have keeps webfed's code and status."""
    explanation = error.explanation or {}
    presigned = explanation.get("presigned") is True
    code = error.code
    if code == "IncompleteSignature":
        if presigned:
            return S3Error("AuthorizationQueryParametersError", 400, error.message)
        return S3Error("AuthorizationHeaderMalformed", 400, error.message)
    if code == "InvalidClientTokenId":
        if explanation.get("check") == "session-token":
            return S3Error(
                "InvalidToken", 400, "The provided token is malformed or otherwise invalid."
            )
        return S3Error(
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    if code == "RequestExpired":
        if presigned:
            return S3Error("AccessDenied", 403, "Request has expired")
        return S3Error(
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        )
    spelled, status, message = _S3_FIXED.get(code, (code, error.status, None))
    return S3Error(spelled, status, message if message is not None else error.full_message)


def s3_error_code(error: WebfedError) -> str:
    """The S3 ``<Code>`` for ``error`` (``InvalidAccessKeyId``, ``RequestTimeTooSkewed``...)."""
    return s3_error(error).code


def render_s3_error(error: WebfedError, *, request_id: str, resource: str | None = None) -> bytes:
    """S3's XML error body: ``<Error><Code/><Message/><Resource/><RequestId/></Error>``."""
    spelled = s3_error(error)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>',
        f"<Code>{escape(spelled.code)}</Code>",
        f"<Message>{escape(spelled.message)}</Message>",
    ]
    if resource is not None:
        parts.append(f"<Resource>{escape(resource)}</Resource>")
    parts.append(f"<RequestId>{escape(request_id)}</RequestId></Error>")
    return "".join(parts).encode("utf-8")


_JSON_CODES = {
    "XAmzContentSHA256Mismatch": "InvalidSignatureException",
    "RequestEntityTooLarge": "RequestEntityTooLargeException",
}


def json_error_code(error: WebfedError) -> str:
    """The ``__type`` a JSON service (DynamoDB, API Gateway) uses for ``error``:
    ``UnrecognizedClientException``, ``InvalidSignatureException``, ``ExpiredTokenException``,
    ``AccessDeniedException``, ``MissingAuthenticationTokenException``..."""
    return _JSON_CODES.get(error.code) or error.wire_json_code

"""Who is calling through the gateway, and may they: verification plus authorization.

Both are :class:`webfed.authorizer.Authorizer`'s: it opens the webfed server's database, keeps
the key ring and the IAM cache fresh (a role-policy change reaches live sessions within about
a second), verifies SigV4 with :class:`webfed.verify.RequestVerifier` and decides with the
policy engine against the role's current policies and the session policies sealed in the token.
A request may need several permissions (:class:`~webfed.gateway.checks.AccessCheck`): every
one must be allowed; the first that is not is answered with its ``AccessDenied`` and encoded
authorization message, as AWS does. The administrator is the account's root.

One addition: requests whose ``x-amz-content-sha256`` is ``STREAMING-*`` (``aws-chunked``
bodies). The verifier refuses those (the core's declared-payload check knows only digests and
``UNSIGNED-PAYLOAD``), so :meth:`GatewayAccess.verify_streaming` runs the same public steps and
also returns the signing key the chunk signatures chain on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from webfed.admin import AdminCredentials
from webfed.authorizer import Authorizer
from webfed.core import sigv4
from webfed.core.credentials import SessionTokenCache
from webfed.core.policy import DecisionKind
from webfed.errors import WebfedError
from webfed.gateway import metrics
from webfed.gateway.checks import AccessCheck, ContextValue
from webfed.settings import Settings
from webfed.verify import (
    VerifiedCaller,
    check_scope,
)

__all__ = ["GatewayAccess"]

# The failed check behind each code, as the verifier records it (S3 spells errors by it).
_CHECK_OF = {
    "RequestExpired": "request-time",
    "SignatureDoesNotMatch": "signature",
    "IncompleteSignature": "signature-form",
    "ExpiredToken": "session-expiry",
    "InvalidClientTokenId": "session-token",
}


@dataclass(slots=True, eq=False)
class GatewayAccess:
    """The gateway's verifier and authorizer over webfed's state."""

    authorizer: Authorizer
    admin: AdminCredentials | None = None
    sessions: SessionTokenCache = field(default_factory=SessionTokenCache)

    @classmethod
    async def open(cls, settings: Settings, admin: AdminCredentials | None) -> GatewayAccess:
        """Open the server's store and start the background upkeep (close with :meth:`close`)."""
        return cls(await Authorizer.from_settings(settings, admin=admin), admin)

    async def close(self) -> None:
        await self.authorizer.aclose()

    def verify(
        self, request: sigv4.HttpRequest, *, rules: sigv4.SigningRules, service: str, region: str
    ) -> tuple[VerifiedCaller, sigv4.ParsedAuthorization]:
        """The verified caller and its parsed signature."""
        caller = self.authorizer.verifier.verify(
            request, rules=rules, service=service, region=region
        )
        return caller, sigv4.parse_authorization(request)

    def verify_streaming(
        self,
        request: sigv4.HttpRequest,
        *,
        rules: sigv4.SigningRules,
        service: str,
        region: str,
        now: datetime,
    ) -> tuple[VerifiedCaller, sigv4.ParsedAuthorization, bytes]:
        """:meth:`verify` for a ``STREAMING-*`` payload, plus the request's signing key."""
        parsed = sigv4.parse_authorization(request)
        try:
            check_scope(parsed, service=service, region=region)
            caller, secret = self._credentials(parsed, now)
            sigv4.check_request_time(parsed, now=now)
            sigv4.verify_signature(request, parsed, secret, rules=rules)
        except WebfedError as error:
            explanation = dict(error.explanation or {})
            explanation.setdefault("check", _CHECK_OF.get(error.code, "authentication"))
            explanation["presigned"] = parsed.presigned
            error.explanation = explanation
            raise
        key = sigv4.DEFAULT_KEY_CACHE.signing_key(
            secret, parsed.scope_date, parsed.region, parsed.service
        )
        return caller, parsed, key

    def _credentials(
        self, parsed: sigv4.ParsedAuthorization, now: datetime
    ) -> tuple[VerifiedCaller, str]:
        """The verifier's own first half (session unsealed, unexpired, not revoked)."""
        return self.authorizer.verifier.credentials(parsed, now)

    async def authorize(
        self,
        caller: VerifiedCaller,
        checks: Sequence[AccessCheck],
        *,
        source_ip: str,
        secure_transport: bool,
        request_context: Mapping[str, ContextValue] | None = None,
    ) -> None:
        """Return if every check is allowed; else raise the first ``AccessDenied``."""
        service = ""
        for check in checks:
            service = check.action.partition(":")[0]
            context: dict[str, ContextValue] = dict(request_context or {})
            context.update(check.context)
            result = await self.authorizer.decide(
                caller,
                action=check.action,
                resource=check.resource,
                context=context,
                source_ip=source_ip,
                secure_transport=secure_transport,
            )
            if not result.allowed:
                metrics.observe_authorization(service, result.decision.kind)
                result.raise_for_denial()
        if service:
            metrics.observe_authorization(service, DecisionKind.ALLOW)

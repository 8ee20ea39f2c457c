"""The provider's logic between HTTP and the pure parts: issue a code, redeem it, read userinfo.

One :class:`DevIdentityProvider` per process. Its signing key and sealing keys need the
runtime's store and master key, which exist only once the application has started, so they
are loaded on first use (under a lock) and kept: the key never rotates.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from webfed.core.keys import MasterKey
from webfed.devidp.authorization import AuthorizationRequest, RedirectPolicy, redirect_to
from webfed.devidp.claims import (
    Claims,
    id_token_claims,
    parse_extra_claims,
    sign_id_token,
    user_claims,
)
from webfed.devidp.grants import (
    ACCESS_TOKEN_LIFETIME,
    CODE_LIFETIME,
    AccessGrant,
    CodeGrant,
    GrantSealer,
    UsedCodes,
    verify_code_verifier,
)
from webfed.devidp.keys import load_dev_idp_keys
from webfed.issuer import IssuerKeys
from webfed.logs import get_logger
from webfed.settings import Settings
from webfed.storage.keys import HasKeys

__all__ = [
    "MOUNT_PATH",
    "USED_CODES_DIRECTORY",
    "DevIdentityProvider",
    "TokenError",
    "TokenRequest",
]

#: Where the provider is served; the issuer is the public URL followed by this path.
MOUNT_PATH = "/dev-idp"
#: Under the data directory: the codes redeemed (:class:`~webfed.devidp.grants.UsedCodes`).
USED_CODES_DIRECTORY = "dev-idp-used-codes"
_log = get_logger("webfed.devidp")


class TokenError(Exception):
    """A token endpoint error (RFC 6749 section 5.2): its ``error`` code, a description and
    the HTTP status (400 but for the server's own failures)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The parameters of ``grant_type=authorization_code`` (RFC 6749 section 4.1.3)."""

    code: str
    client_id: str
    redirect_uri: str
    code_verifier: str


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


class DevIdentityProvider:
    """The settings-derived parts at once; the keys on first use."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.effective_public_url + MOUNT_PATH
        self.redirects = RedirectPolicy.from_setting(settings.dev_idp_redirect_uris)
        self.default_claims = parse_extra_claims(settings.dev_idp_claims, source="dev_idp_claims")
        self.used_codes = UsedCodes(settings.data_dir / USED_CODES_DIRECTORY)
        self._keys: IssuerKeys | None = None
        self._sealer: GrantSealer | None = None
        self._lock = asyncio.Lock()

    async def prepare(self, store: HasKeys, master: MasterKey, now: datetime) -> IssuerKeys:
        """The signing keys, loaded (or created) once, and the sealing keys beside them."""
        if self._keys is None:
            async with self._lock:
                if self._keys is None:
                    self._sealer = GrantSealer(master)
                    self._keys = await load_dev_idp_keys(store, master, now)
        return self._keys

    @property
    def sealer(self) -> GrantSealer:
        if self._sealer is None:
            raise RuntimeError("the development provider is used before prepare()")
        return self._sealer

    def issue_code(
        self,
        request: AuthorizationRequest,
        username: str,
        page_claims: Mapping[str, object],
        now: datetime,
        rng: random.Random,
    ) -> str:
        """The redirect (RFC 6749 section 4.1.2) carrying a fresh code, ``state`` and ``iss``."""
        seconds = _seconds(now)
        grant = CodeGrant(
            code_id=GrantSealer.new_code_id(rng),
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            username=username,
            claims=user_claims(username, request.scope, self.default_claims, page_claims),
            auth_time=seconds,
            expires_at=seconds + int(CODE_LIFETIME.total_seconds()),
        )
        params = {"code": self.sealer.seal_code(grant, rng)}
        if request.state is not None:
            params["state"] = request.state
        params["iss"] = self.issuer  # RFC 9207: the response names its issuer
        return redirect_to(request.redirect_uri, params)

    def redeem(
        self, request: TokenRequest, keys: IssuerKeys, now: datetime, rng: random.Random
    ) -> dict[str, object]:
        """The token response (RFC 6749 section 5.1, OpenID Connect Core 3.1.3.3), or
        :class:`TokenError` ``invalid_grant`` for any code that does not check out."""
        seconds = _seconds(now)
        grant = self.sealer.open_code(request.code)
        if grant is None:
            raise TokenError("invalid_grant", "the code is not one this provider issued")
        if seconds > grant.expires_at:
            raise TokenError("invalid_grant", "the code has expired")
        if grant.client_id != request.client_id:
            raise TokenError("invalid_grant", "the code was issued to another client")
        if grant.redirect_uri != request.redirect_uri:
            raise TokenError("invalid_grant", "redirect_uri differs from the authorization's")
        if not verify_code_verifier(request.code_verifier, grant.code_challenge):
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        try:
            claimed = self.used_codes.claim(grant.code_id, grant.expires_at, seconds)
        except OSError as error:
            # RFC 6749 section 5.2 lists only the client's faults. invalid_grant would be a
            # lie that makes the client drop a good code: nothing was recorded, so the code is
            # still unused and a retry can redeem it. So the status is 503 and the code the
            # RFC's own for a server's passing failure (temporarily_unavailable, section
            # 4.1.2.1, which exists only because a redirect cannot carry a 503), in section
            # 5.2's JSON. Logged without the file name: it holds the
            # code's id.
            _log.error(
                "dev-idp: cannot record a used code",
                directory=str(self.used_codes.directory),
                error=type(error).__name__,
                reason=error.strerror or "",
            )
            raise TokenError(
                "temporarily_unavailable",
                "the provider cannot record the code's use; try again",
                503,
            ) from None
        if not claimed:
            raise TokenError("invalid_grant", "the code has already been used")
        return self._tokens(grant, keys, now, rng)

    def _tokens(
        self, grant: CodeGrant, keys: IssuerKeys, now: datetime, rng: random.Random
    ) -> dict[str, object]:
        seconds = _seconds(now)
        claims = id_token_claims(
            issuer=self.issuer,
            subject=grant.username,
            client_id=grant.client_id,
            nonce=grant.nonce,
            auth_time=grant.auth_time,
            now=seconds,
            claims=grant.claims,
        )
        access = AccessGrant(
            subject=grant.username,
            client_id=grant.client_id,
            scope=grant.scope,
            claims=grant.claims,
            expires_at=seconds + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        )
        return {
            "access_token": self.sealer.seal_access(access, rng),
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "scope": " ".join(grant.scope),
            "id_token": sign_id_token(claims, keys.signing_key(now)),
        }

    def userinfo(self, access_token: str, now: datetime) -> Claims | None:
        """The user's claims (OpenID Connect Core 5.3.2), or ``None`` for a token that is not
        valid (RFC 6750 section 3.1 ``invalid_token``)."""
        grant = self.sealer.open_access(access_token)
        if grant is None or _seconds(now) > grant.expires_at:
            return None
        return {**grant.claims, "sub": grant.subject}

    def discovery_document(self) -> dict[str, object]:
        """OpenID Connect Discovery 1.0 section 3, with RFC 8414's PKCE and RFC 9207 members."""
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "userinfo_endpoint": issuer + "/userinfo",
            "jwks_uri": issuer + "/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "iat",
                "exp",
                "auth_time",
                "nonce",
                "preferred_username",
                "name",
                "email",
            ],
            "authorization_response_iss_parameter_supported": True,
            # Stated because their defaults are not what the provider does (request_uri's is
            # true) or to say so plainly: request objects and the claims parameter are refused
            # or ignored.
            "request_uri_parameter_supported": False,
            "request_parameter_supported": False,
            "claims_parameter_supported": False,
        }

    def discovery_body(self) -> bytes:
        return json.dumps(self.discovery_document(), separators=(",", ":")).encode("ascii")

"""The authorization request (RFC 6749 section 4.1.1, OpenID Connect Core 1.0 section 3.1.2.1).

Parsing follows the order RFC 6749 section 4.1.2.1 imposes on error handling: the client id
and the redirection URI are checked first, and a failure there is shown to the person at the
browser (:class:`UnsafeRedirect`), never redirected, since the URI cannot be trusted to receive
it. Every later failure (:class:`AuthorizationError`) is sent back to the client's redirection
URI with ``error=`` and the client's ``state``.

PKCE (RFC 7636) is required and only with ``S256``: ``plain`` sends the secret itself through
the browser, which is what PKCE is meant to avoid (RFC 7636 section 7.2).

Redirection URIs are allowed when their host is a loopback address (any port and path, as
RFC 8252 section 7.3 does for native apps), or when they equal exactly one of the
``dev_idp_redirect_uris`` setting.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

__all__ = [
    "CODE_CHALLENGE_METHOD",
    "SUPPORTED_SCOPES",
    "AuthorizationError",
    "AuthorizationRequest",
    "RedirectPolicy",
    "UnsafeRedirect",
    "is_loopback_host",
    "parse_authorization_request",
    "redirect_to",
    "single_values",
]

CODE_CHALLENGE_METHOD = "S256"
SUPPORTED_SCOPES = ("openid", "profile", "email")
MAX_CLIENT_ID = 255
MAX_REDIRECT_URI = 2048
MAX_STATE = 1024
MAX_NONCE = 512
#: RFC 6749 Appendix A: client_id, state and the like are VSCHAR (%x20-7E). Every pattern is
#: applied with ``fullmatch``: ``$`` would also match before a final newline.
_VSCHAR = re.compile(r"[\x20-\x7e]*")
#: RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) is 43 characters, without padding.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_LOOPBACK_NAMES = frozenset({"localhost"})
#: Builds the error for a failure past the redirection URI's check: (error, description).
_Fail = Callable[[str, str], "AuthorizationError"]


class UnsafeRedirect(ValueError):
    """The client id or redirection URI is missing or not allowed: shown, never redirected."""


class AuthorizationError(Exception):
    """An error sent to the client's redirection URI (RFC 6749 section 4.1.2.1)."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state

    def redirect(self, issuer: str) -> str:
        params = {"error": self.error, "error_description": self.description}
        if self.state is not None:
            params["state"] = self.state
        params["iss"] = issuer
        return redirect_to(self.redirect_uri, params)


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP address (``127.0.0.0/8``, ``::1``), brackets allowed."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _split_redirect(uri: str) -> SplitResult:
    """An absolute ``http``/``https`` URI with a host and no fragment (RFC 6749 3.1.2)."""
    if not uri or len(uri) > MAX_REDIRECT_URI or not _VSCHAR.fullmatch(uri) or " " in uri:
        raise UnsafeRedirect("redirect_uri must be an absolute http(s) URL")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise UnsafeRedirect("redirect_uri is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeRedirect("redirect_uri must be an absolute http(s) URL")
    if "#" in uri or "@" in parts.netloc:
        raise UnsafeRedirect("redirect_uri may have neither a fragment nor user information")
    return parts


@dataclass(frozen=True, slots=True)
class RedirectPolicy:
    """Which redirection URIs the provider sends codes to: loopback ones, and ``listed``."""

    listed: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, text: str) -> RedirectPolicy:
        """The comma-separated ``dev_idp_redirect_uris`` setting; raises ``ValueError``."""
        uris = [item.strip() for item in text.split(",") if item.strip()]
        for uri in uris:
            try:
                _split_redirect(uri)
            except UnsafeRedirect as error:
                raise ValueError(f"dev_idp_redirect_uris: {uri!r}: {error}") from None
        return cls(frozenset(uris))

    def check(self, uri: str) -> str:
        parts = _split_redirect(uri)
        if uri in self.listed or is_loopback_host(parts.hostname or ""):
            return uri
        raise UnsafeRedirect(
            "redirect_uri is not a loopback URL and is not listed in dev_idp_redirect_uris"
        )


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked request; ``scope`` is the granted scopes (the supported ones requested)."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    login_hint: str | None = None

    def form_fields(self) -> dict[str, str]:
        """The request as the sign-in form carries it to ``POST /authorize``."""
        fields = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scope),
            "code_challenge": self.code_challenge,
            "code_challenge_method": CODE_CHALLENGE_METHOD,
        }
        if self.state is not None:
            fields["state"] = self.state
        if self.nonce is not None:
            fields["nonce"] = self.nonce
        return fields


def single_values(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], frozenset[str]]:
    """The parameters, and the names given more than once (RFC 6749 section 3.1 forbids it)."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if name in values:
            repeated.add(name)
        values[name] = value
    return values, frozenset(repeated)


def _client_id(params: Mapping[str, str], repeated: frozenset[str]) -> str:
    client_id = params.get("client_id", "")
    if "client_id" in repeated or not client_id:
        raise UnsafeRedirect("client_id is required, once")
    if len(client_id) > MAX_CLIENT_ID or not _VSCHAR.fullmatch(client_id):
        raise UnsafeRedirect(f"client_id must be 1 to {MAX_CLIENT_ID} printable ASCII characters")
    return client_id


def parse_authorization_request(
    params: Mapping[str, str], repeated: frozenset[str], policy: RedirectPolicy
) -> AuthorizationRequest:
    """Check an authorization request; raises :class:`UnsafeRedirect` or
    :class:`AuthorizationError`."""
    client_id = _client_id(params, repeated)
    if "redirect_uri" in repeated or "redirect_uri" not in params:
        raise UnsafeRedirect("redirect_uri is required, once")
    redirect_uri = policy.check(params["redirect_uri"])
    state = params.get("state")
    if "state" in repeated or (state is not None and not _printable(state, MAX_STATE)):
        # The state cannot be echoed when it is itself the problem.
        raise AuthorizationError("invalid_request", "state is malformed", redirect_uri, None)

    def fail(error: str, description: str) -> AuthorizationError:
        return AuthorizationError(error, description, redirect_uri, state)

    if repeated:
        raise fail("invalid_request", f"parameters given more than once: {sorted(repeated)}")
    _check_unsupported(params, fail)
    scope = _granted_scope(params.get("scope", ""), fail)
    nonce = params.get("nonce")
    if nonce is not None and not (nonce and _printable(nonce, MAX_NONCE)):
        raise fail("invalid_request", f"nonce must be 1 to {MAX_NONCE} printable characters")
    method = params.get("code_challenge_method")
    challenge = params.get("code_challenge")
    if not challenge:
        raise fail("invalid_request", "PKCE is required: code_challenge is missing")
    if method != CODE_CHALLENGE_METHOD:
        raise fail("invalid_request", "code_challenge_method must be S256 (plain is refused)")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be 43 base64url characters (S256)")
    hint = params.get("login_hint")
    return AuthorizationRequest(client_id, redirect_uri, scope, state, nonce, challenge, hint)


def _printable(value: str, limit: int) -> bool:
    return len(value) <= limit and _VSCHAR.fullmatch(value) is not None


def _check_unsupported(params: Mapping[str, str], fail: _Fail) -> None:
    response_type = params.get("response_type")
    if not response_type:
        raise fail("invalid_request", "response_type is required")
    if response_type != "code":
        raise fail("unsupported_response_type", "only response_type=code is supported")
    if params.get("response_mode", "query") != "query":
        raise fail("invalid_request", "only response_mode=query is supported")
    if "request" in params:
        raise fail("request_not_supported", "request objects are not supported")
    if "request_uri" in params:
        raise fail("request_uri_not_supported", "request_uri is not supported")
    if "none" in params.get("prompt", "").split(" "):
        raise fail("login_required", "the development provider keeps no sign-in session")


def _granted_scope(text: str, fail: _Fail) -> tuple[str, ...]:
    """The supported scopes requested, in a fixed order; others are ignored (RFC 6749 3.3
    lets the server grant fewer than requested; the token response says which)."""
    requested = text.split(" ") if text else []
    if any(not _SCOPE_TOKEN.fullmatch(item) for item in requested):
        raise fail("invalid_scope", "scope is a space-separated list of scope tokens")
    if "openid" not in requested:
        raise fail("invalid_scope", "scope must include openid")
    return tuple(item for item in SUPPORTED_SCOPES if item in requested)


def redirect_to(uri: str, params: Mapping[str, str]) -> str:
    """``uri`` with ``params`` added to its query, keeping the query it has (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    added = urlencode(list(params.items()))
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

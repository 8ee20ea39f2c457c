"""The page's OpenID provider (``--oidc-*``): the options checked, and its endpoints read from
its discovery document before anything starts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import httpx

from webfed.demo.errors import DemoError

__all__ = [
    "DEFAULT_SCOPE",
    "Provider",
    "ProviderEndpoints",
    "check_client_id",
    "check_issuer",
    "check_scope",
    "discover_provider",
    "json_object",
    "login_key_of",
    "provider_from_options",
    "read_client_secret",
]

DEFAULT_SCOPE = "openid profile"
_MAX_ISSUER = 255  # IAM's limit on a provider URL
_MAX_CLIENT_ID = 255  # IAM's limit on a client id
_MAX_SCOPE = 1024
_MAX_SECRET_FILE = 4096
_MAX_DISCOVERY = 256 * 1024
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 section 3.3
_SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def login_key_of(issuer: str) -> str:
    """The pool's ``Logins`` key for an OpenID Connect provider: its URL without the scheme.

    That is the name webfed's identity pools know the provider by (the resource of its IAM
    ARN), as in Amazon Cognito.
    """
    return issuer.split("://", 1)[1]


@dataclass(frozen=True)
class Provider:
    """The provider of ``--oidc-issuer``, checked: the page signs players in with it."""

    issuer: str
    client_id: str
    scope: str
    client_secret: str | None = field(default=None, repr=False)

    @property
    def on_loopback(self) -> bool:
        return _is_loopback(urlsplit(self.issuer).hostname or "")


@dataclass(frozen=True)
class ProviderEndpoints:
    """What the demo takes from the provider's discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    #: How the token relay authenticates the client (``client_secret_basic`` or
    #: ``client_secret_post``); ``None`` without a client secret.
    client_authentication: str | None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: str, *, query: bool = False) -> str | None:
    """Why ``url`` cannot name the provider or one of its endpoints (``None``: it can).

    An endpoint may have a query (RFC 6749 section 3.1, kept when parameters are added); an
    issuer may not (OpenID Connect Discovery section 2, IAM).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "is not a URL"
    if not url.startswith(("https://", "http://")) or not parts.hostname:
        return "must be an https:// URL (http:// only on loopback)"
    if url.startswith("http://") and not _is_loopback(parts.hostname):
        return "may use http:// only on loopback (127.0.0.1, ::1, localhost): use https://"
    if parts.fragment or "#" in url or "@" in parts.netloc:
        return "must have no fragment or user name"
    if not query and (parts.query or "?" in url):
        return "must have no query"
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must not contain spaces or control characters"
    return None


def check_issuer(url: str) -> str:
    """``--oidc-issuer``: what IAM accepts as a provider URL, https (or http on loopback)."""
    problem = _url_problem(url)
    if problem is None and len(url) > _MAX_ISSUER:
        problem = f"is longer than {_MAX_ISSUER} characters"
    if problem is None and url.startswith("https://") and urlsplit(url).port is not None:
        # IAM's rule, which webfed follows unless it allows http issuers (test providers).
        problem = "must not name a port: an https provider URL has none (as in IAM)"
    if problem is not None:
        raise click.BadParameter(f"{url!r} {problem}", param_hint="--oidc-issuer")
    return url


def check_client_id(client_id: str) -> str:
    if not 0 < len(client_id) <= _MAX_CLIENT_ID or not _printable_word(client_id):
        raise click.BadParameter(
            f"expected 1 to {_MAX_CLIENT_ID} printable characters without spaces",
            param_hint="--oidc-client-id",
        )
    return client_id


def check_scope(scope: str) -> str:
    """RFC 6749 section 3.3: space-separated scope tokens; OpenID Connect needs ``openid``."""
    tokens = scope.split(" ")
    if len(scope) > _MAX_SCOPE or not all(_SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise click.BadParameter(
            "expected scope tokens separated by single spaces", param_hint="--oidc-scope"
        )
    if "openid" not in tokens:
        raise click.BadParameter(
            "must include openid (the page needs an ID token)", param_hint="--oidc-scope"
        )
    return scope


def read_client_secret(path: Path) -> str:
    """``--oidc-client-secret-file``: one line, the client secret. Errors never quote it."""
    hint = "--oidc-client-secret-file"
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_SECRET_FILE + 1)
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint=hint) from error
    secret = raw.decode("ascii", errors="replace").strip()
    # RFC 6749 appendix A.2: a client secret is printable ASCII (%x20-7E).
    if len(raw) > _MAX_SECRET_FILE or not secret or not all(" " <= c <= "~" for c in secret):
        raise click.BadParameter(
            f"{path}: expected one line of printable ASCII, the client secret "
            f"(at most {_MAX_SECRET_FILE} bytes)",
            param_hint=hint,
        )
    return secret


def _printable_word(text: str) -> bool:
    return all(character.isprintable() and not character.isspace() for character in text)


def provider_from_options(
    issuer: str | None,
    client_id: str | None,
    scope: str | None,
    secret_file: Path | None,
) -> Provider | None:
    """The ``--oidc-*`` options checked together; ``None`` without ``--oidc-issuer``."""
    if issuer is None:
        given = {
            "--oidc-client-id": client_id,
            "--oidc-scope": scope,
            "--oidc-client-secret-file": secret_file,
        }
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} only goes with --oidc-issuer")
        return None
    issuer = check_issuer(issuer)
    if client_id is None:
        raise click.UsageError(
            "--oidc-issuer needs --oidc-client-id, the page's client id at that provider"
        )
    return Provider(
        issuer=issuer,
        client_id=check_client_id(client_id),
        scope=check_scope(scope if scope is not None else DEFAULT_SCOPE),
        client_secret=read_client_secret(secret_file) if secret_file is not None else None,
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def json_object(body: bytes | bytearray) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None for anything else: not JSON, NaN or Infinity, or
    nested deeper than the parser goes."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _fetch_json(url: str, limit: int) -> dict[str, Any]:
    """A JSON object from ``url``: no redirect followed, at most ``limit`` bytes read."""
    with httpx.stream(
        "GET", url, timeout=10.0, follow_redirects=False, headers={"Accept": "application/json"}
    ) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise ValueError(f"larger than {limit} bytes")
    document = json_object(body)
    if document is None:
        raise ValueError("not a JSON object")
    return document


def discover_provider(provider: Provider) -> ProviderEndpoints:
    """The provider's endpoints from its discovery document (OpenID Connect Discovery 1.0).

    The document must name the issuer exactly as given (section 4.3), and its endpoints must be
    URLs the browser may be sent to (https, or http on loopback).
    """
    url = f"{provider.issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        document = _fetch_json(url, _MAX_DISCOVERY)
    except (httpx.HTTPError, ValueError) as error:
        raise DemoError(f"the provider's discovery failed: {url}: {error}") from error
    if document.get("issuer") != provider.issuer:
        raise DemoError(
            f"{url} names the issuer {str(document.get('issuer'))[:200]!r}, not "
            f"{provider.issuer!r}: --oidc-issuer must be exactly the provider's issuer"
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint"):
        value = document.get(name)
        problem = _url_problem(value, query=True) if isinstance(value, str) else "is missing"
        if problem is not None:
            raise DemoError(f"{url}: {name} {problem}")
        endpoints[name] = str(value)
    challenges = document.get("code_challenge_methods_supported")
    if isinstance(challenges, list) and "S256" not in challenges:
        raise DemoError(f"{url}: the provider does not support PKCE with S256, which the page uses")
    return ProviderEndpoints(
        endpoints["authorization_endpoint"],
        endpoints["token_endpoint"],
        _client_authentication(document, url) if provider.client_secret is not None else None,
    )


def _client_authentication(document: dict[str, Any], url: str) -> str:
    """How to send the client secret: Basic if accepted (RFC 6749 2.3.1's default), else POST.

    Without ``token_endpoint_auth_methods_supported``, Discovery's default is Basic.
    """
    methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    for method in _SECRET_METHODS:
        if isinstance(methods, list) and method in methods:
            return method
    raise DemoError(
        f"{url}: the provider accepts no client secret at its token endpoint "
        f"(token_endpoint_auth_methods_supported: {json.dumps(methods)[:200]}); "
        "leave out --oidc-client-secret-file for a public client"
    )

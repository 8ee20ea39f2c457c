"""Fetching one JSON document from an identity provider, with every outbound bound applied.

All network I/O of webfed's key fetching goes through :class:`DocumentFetcher`, and through
the ``httpx`` transport it is given, so tests can swap the network for a function. Bounds:
connect and total timeouts; the body is streamed and cut at ``max_document_bytes``;
redirects are followed by hand, only on the same host and never from ``https`` to ``http``;
TLS is verified against the system CA store (``ssl.create_default_context``) or a per-provider
bundle; ``http://`` URLs only when ``allow_http`` is set; at most ``max_fetches_per_host``
requests in flight to one host (a request waiting for its turn waits within its own total
timeout, so waiters never outlive the bound). Without an injected transport, connections go
through :class:`~webfed.jwks.guard.GuardedTransport`: only public addresses (or
``allowed_networks``), pinned to the address checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from webfed.errors import IDPCommunicationError
from webfed.jwks.guard import AddressPolicy, AddressRefused, GuardedTransport
from webfed.jwks.settings import JwksSettings

__all__ = [
    "DocumentFetcher",
    "FetchedDocument",
    "HostSlots",
    "communication_error",
    "discovery_url",
    "jwks_uri_of",
    "parse_max_age",
]

_MESSAGE = "Could not retrieve the verification keys from the identity provider."


def communication_error(url: str, reason: str) -> IDPCommunicationError:
    return IDPCommunicationError(
        _MESSAGE, explanation={"check": "idp_communication", "url": url, "reason": reason}
    )


def parse_max_age(cache_control: str | None) -> int | None:
    """``max-age`` of a ``Cache-Control`` header (RFC 9111 section 5.2.2.1); ``no-store`` and
    ``no-cache`` count as 0 (the caller's lower bound then applies)."""
    if not cache_control:
        return None
    max_age: int | None = None
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in {"no-store", "no-cache"}:
            return 0
        if name == "max-age" and value.strip().strip('"').isdigit():
            max_age = int(value.strip().strip('"'))
    return max_age


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    body: object
    max_age: int | None


class _Slot:
    __slots__ = ("active", "semaphore", "users")

    def __init__(self, limit: int) -> None:
        self.semaphore = asyncio.Semaphore(limit)
        self.users = 0  # holders and waiters; the entry is dropped when it reaches 0
        self.active = 0  # holders only


class HostSlots:
    """At most ``limit`` holders per host at a time. An entry lives only while its host has
    holders or waiters, so the table stays as small as the set of hosts being fetched from."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._slots: dict[str, _Slot] = {}

    def holders(self, host: str) -> int:
        """Requests to ``host`` in flight now (not counting waiters)."""
        slot = self._slots.get(host)
        return 0 if slot is None else slot.active

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = _Slot(self._limit)
        slot.users += 1
        try:
            async with slot.semaphore:
                slot.active += 1
                try:
                    yield
                finally:
                    slot.active -= 1
        finally:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(host) is slot:
                del self._slots[host]


class DocumentFetcher:
    """GETs JSON documents under :class:`JwksSettings`; one ``httpx`` client per CA bundle."""

    def __init__(
        self, settings: JwksSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._clients: dict[str | None, httpx.AsyncClient] = {}
        self._policy = AddressPolicy(settings.allowed_networks)
        self.slots = HostSlots(settings.max_fetches_per_host)

    async def _client(self, ca_bundle: str | None) -> httpx.AsyncClient:
        client = self._clients.get(ca_bundle)
        if client is not None:
            return client
        # Loading a CA store takes a noticeable fraction of a second: off the event loop, and
        # before the fetch's deadline starts (it is set-up, not the provider being slow).
        tls = await asyncio.to_thread(ssl.create_default_context, cafile=ca_bundle)
        client = self._clients.get(ca_bundle)  # another task may have built it meanwhile
        if client is None:
            settings = self._settings
            client = httpx.AsyncClient(
                transport=self._transport or GuardedTransport(tls, self._policy),
                timeout=httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout),
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[ca_bundle] = client
        return client

    def check_url(self, url: str) -> httpx.URL:
        """Refuse anything but ``https://`` (or ``http://`` when allowed) absolute URLs."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise communication_error(url[:2048], "not a valid URL") from None
        allowed = {"https", "http"} if self._settings.allow_http else {"https"}
        if parsed.scheme not in allowed or not parsed.host:
            raise communication_error(url[:2048], f"scheme {parsed.scheme!r} is not allowed")
        return parsed

    async def fetch_json(self, url: str, *, ca_bundle: str | None = None) -> FetchedDocument:
        """GET ``url`` and parse its JSON body, or raise ``IDPCommunicationError``."""
        checked = self.check_url(url)
        try:
            client = await self._client(ca_bundle)
            async with asyncio.timeout(self._settings.total_timeout):
                async with self.slots.hold(f"{checked.host}:{checked.port}"):
                    return await self._follow(client, checked)
        except AddressRefused as exc:
            raise communication_error(url, f"address refused: {exc}") from None
        except TimeoutError:
            raise communication_error(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise communication_error(url, f"transport error: {type(exc).__name__}") from None
        except OSError as exc:  # the CA bundle cannot be read
            raise communication_error(url, f"TLS setup failed: {type(exc).__name__}") from None

    async def _follow(self, client: httpx.AsyncClient, url: httpx.URL) -> FetchedDocument:
        for _ in range(self._settings.max_redirects + 1):
            request = client.build_request("GET", url, headers={"Accept": "application/json"})
            response = await client.send(request, stream=True)
            try:
                if not response.is_redirect:
                    return await self._document(response, str(url))
                url = self._redirect_target(url, response)
            finally:
                await response.aclose()
        raise communication_error(str(url), "too many redirects")

    def _redirect_target(self, current: httpx.URL, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("location", "")
        target = self.check_url(str(current.join(location)))
        if target.host != current.host or target.port != current.port:
            raise communication_error(str(current), "redirect to another host or port refused")
        if current.scheme == "https" and target.scheme != "https":
            raise communication_error(str(current), "redirect from https to http refused")
        return target

    async def _document(self, response: httpx.Response, url: str) -> FetchedDocument:
        if response.status_code != 200:
            raise communication_error(url, f"HTTP status {response.status_code}")
        body = await self._read_capped(response, url)
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise communication_error(url, "body is not JSON") from None
        return FetchedDocument(document, parse_max_age(response.headers.get("cache-control")))

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        limit = self._settings.max_document_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise communication_error(url, f"document larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise communication_error(url, f"document larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 section 4: the issuer, less a trailing ``/``, plus the
    well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def jwks_uri_of(document: object, issuer: str) -> str:
    """The ``jwks_uri`` of a discovery document whose ``issuer`` equals ``issuer`` exactly
    (Discovery section 4.3: a mismatch means the document must not be used)."""
    if not isinstance(document, Mapping):
        raise communication_error(discovery_url(issuer), "discovery document is not an object")
    if document.get("issuer") != issuer:
        raise communication_error(discovery_url(issuer), "discovery issuer differs")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise communication_error(discovery_url(issuer), "discovery has no jwks_uri")
    return jwks_uri

"""The outbound address guard: issuer fetches reach only public addresses (SSRF defence).

An IAM OIDC provider URL is chosen by whoever may call ``iam:CreateOpenIDConnectProvider``, and
the ``jwks_uri`` and redirects by whoever runs the identity provider. Without a guard, either
could make webfed send GET requests to its own network: the cloud metadata service
(169.254.169.254, ``fd00:ec2::254``), a database admin port on 10.x, loopback services. So:

* the host is resolved here, once per connection, and **every** address it resolves to is
  classified; addresses that are not public are dropped unless an allowed network
  (``WEBFED_ISSUER_ALLOWED_NETWORKS``) contains them;
* the connection is opened to an address that passed, never by name, so a DNS answer that
  changes between the check and the connect (DNS rebinding) cannot move it. The HTTP ``Host``
  header, TLS SNI and certificate verification still use the host name, because only the TCP
  connect is pinned (``httpcore`` starts TLS with the origin's name on the stream returned here);
* IPv4 addresses written in IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4) are judged
  by the IPv4 address they reach.

The classes refused (IANA special-purpose registries, RFC 6890): unspecified, loopback, private
(RFC 1918, ``fc00::/7``), link-local (``169.254/16`` with the metadata address, ``fe80::/10``),
shared address space (CGNAT ``100.64/10``), multicast, and the reserved, documentation and
benchmarking ranges; anything else Python does not call globally routable is "reserved".

Exceptions: :class:`AddressRefused` when no resolved address may be reached. The fetcher turns
it into ``IDPCommunicationError`` with the address class in the administrator's explanation.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

import anyio
import httpcore
import httpx

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "GuardedTransport",
    "PinnedNetworkBackend",
    "address_class",
    "parse_networks",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LINK_LOCAL_V4 = "link-local (169.254.0.0/16, includes the cloud metadata address)"

# Most specific first: the first network holding an address names its class.
_CLASSES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), name)
    for cidr, name in (
        ("0.0.0.0/8", "unspecified (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("169.254.0.0/16", _LINK_LOCAL_V4),
        ("100.64.0.0/10", "shared address space (CGNAT, 100.64.0.0/10)"),
        ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
        ("240.0.0.0/4", "reserved (240.0.0.0/4, includes broadcast)"),
        ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
        ("192.0.2.0/24", "reserved (documentation)"),
        ("198.51.100.0/24", "reserved (documentation)"),
        ("203.0.113.0/24", "reserved (documentation)"),
        ("198.18.0.0/15", "reserved (benchmarking)"),
        ("::/128", "unspecified (::)"),
        ("::1/128", "loopback (::1)"),
        ("fc00::/7", "private (unique local fc00::/7, includes fd00:ec2::254)"),
        ("fe80::/10", "link-local (fe80::/10)"),
        ("fec0::/10", "reserved (site-local fec0::/10)"),
        ("ff00::/8", "multicast (ff00::/8)"),
        ("64:ff9b:1::/48", "private (local-use NAT64)"),
        ("::/96", "reserved (IPv4-compatible IPv6)"),
        ("100::/64", "reserved (discard)"),
        ("2001::/32", "reserved (Teredo)"),
        ("2001:db8::/32", "reserved (documentation)"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """No address of ``host`` may be reached; ``refused`` holds each address and its class."""

    def __init__(self, host: str, refused: Sequence[tuple[str, str]]) -> None:
        self.host = host
        self.refused = tuple(refused)
        listed = "; ".join(f"{address} is {name}" for address, name in self.refused)
        super().__init__(
            f"{host} resolves only to addresses issuer fetches may not reach ({listed}); "
            "allow them with WEBFED_ISSUER_ALLOWED_NETWORKS"
        )


def parse_networks(text: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs from a comma-separated string (or an iterable); a bare address is a /32 or /128.
    Raises ``ValueError`` naming the entry that is not a network."""
    entries = text.split(",") if isinstance(text, str) else list(text)
    networks: list[IPNetwork] = []
    for entry in entries:
        cleaned = entry.strip()
        if not cleaned:
            continue
        try:
            networks.append(ipaddress.ip_network(cleaned, strict=False))
        except ValueError:
            raise ValueError(f"not an IP network: {cleaned!r}") from None
    return tuple(networks)


def _reached_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for when its traffic ends up there."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_class(address: IPAddress) -> str | None:
    """The special-purpose class of ``address``, or ``None`` when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_class(address.ipv4_mapped)
    for network, name in _CLASSES:
        if address in network:
            return name
    embedded = _reached_v4(address)
    if embedded is not None:
        inner = address_class(embedded)
        return None if inner is None else f"{inner}, embedded in {address}"
    if not address.is_global:
        return "reserved (not globally routable)"
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses issuer fetches may connect to: public ones, plus ``allowed_networks``."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached (its class), or ``None`` when it may."""
        reached = _reached_v4(address)
        if any(
            address in net or (reached is not None and reached in net)
            for net in self.allowed_networks
        ):
            return None
        return address_class(address)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects to a checked address: the guard at the TCP layer.

    ``resolver`` is injectable (``host, port -> addresses``) so tests can play DNS answers,
    including rebinding ones; by default it is the system resolver via ``anyio.getaddrinfo``.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: typing.Callable[[str, int], typing.Awaitable[Sequence[str]]] | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver or _system_resolve
        self._inner = httpcore.AnyIOBackend()

    async def checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` that may be reached, in resolver order; raises
        :class:`AddressRefused` when none may."""
        literal = _literal(host)
        candidates = [str(literal)] if literal is not None else await self._resolver(host, port)
        allowed: list[str] = []
        refused: list[tuple[str, str]] = []
        for candidate in dict.fromkeys(candidates):
            address = ipaddress.ip_address(candidate.split("%", 1)[0])
            reason = self._policy.refusal(address)
            if reason is None:
                allowed.append(candidate)
            else:
                refused.append((candidate, reason))
        if not allowed:
            raise AddressRefused(host, refused or [("(none)", "unresolvable")])
        return allowed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self.checked_addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"resolving {host} failed: {exc}") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next checked address, as a resolver-order client does
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("issuer fetches never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# httpcore's failures as the httpx exceptions the fetcher handles, most specific first.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
_HTTPCORE_FAILURES = tuple(source for source, _ in _EXCEPTIONS)


def _mapped(exc: Exception) -> httpx.TransportError:
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            return target(str(exc))
    return httpx.TransportError(str(exc))  # unreachable: callers catch only the listed types


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except _HTTPCORE_FAILURES as exc:
            raise _mapped(exc) from None

    async def aclose(self) -> None:
        closer = getattr(self._stream, "aclose", None)
        if closer is not None:
            await closer()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport whose every connection goes through :class:`PinnedNetworkBackend`.

    No proxies, HTTP/1.1 only, TLS verified with ``ssl_context`` against the URL's host name.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        policy: AddressPolicy,
        *,
        resolver: typing.Callable[[str, int], typing.Awaitable[Sequence[str]]] | None = None,
        max_connections: int = 20,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=PinnedNetworkBackend(policy, resolver=resolver),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except _HTTPCORE_FAILURES as exc:
            raise _mapped(exc) from None
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

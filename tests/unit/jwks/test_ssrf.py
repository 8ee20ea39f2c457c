"""The outbound address guard: issuer fetches reach only public addresses, pinned to the
address checked (SSRF and DNS rebinding), with Host, SNI and certificate checks on the name."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support.tokens import generate_signing_key, jwks_document
from tests.unit.jwks._servers import DocumentServer, make_tls, serving
from tests.unit.jwks.conftest import CacheFactory
from webfed.errors import IDPCommunicationError
from webfed.jwks import (
    AddressPolicy,
    AddressRefused,
    GuardedTransport,
    KeySource,
    address_class,
    parse_networks,
)
from webfed.jwks.guard import PinnedNetworkBackend

KEYS = jwks_document(generate_signing_key("RS256", kid="k1"))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("172.32.0.1", None),
        ("100.128.0.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
        ("10.1.2.3", "private (RFC 1918)"),
        ("172.16.0.1", "private (RFC 1918)"),
        ("172.31.255.255", "private (RFC 1918)"),
        ("192.168.1.1", "private (RFC 1918)"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.7", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "unique local"),
        ("fd00:ec2::254", "unique local"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "RFC 1918"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),
        ("2001:db8::1", "documentation"),
        ("2001::1", "Teredo"),
        ("::127.0.0.1", "IPv4-compatible"),
    ],
)
def test_address_classes(address: str, expected: str | None) -> None:
    found = address_class(ipaddress.ip_address(address))
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert expected in found


def test_allowed_networks_open_only_themselves() -> None:
    policy = AddressPolicy(parse_networks("127.0.0.0/8, 10.1.0.0/16"))
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None  # the same host
    assert policy.refusal(ipaddress.ip_address("10.1.9.9")) is None
    assert policy.refusal(ipaddress.ip_address("10.2.0.1")) == "private (RFC 1918)"
    assert policy.refusal(ipaddress.ip_address("::1")) == "loopback (::1)"
    assert policy.refusal(ipaddress.ip_address("169.254.169.254")) is not None


def test_parse_networks() -> None:
    assert parse_networks(" 127.0.0.1/8 ,, ::1 ") == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match=r"'example\.com'"):
        parse_networks("10.0.0.0/8,example.com")


def _resolver(answers: dict[str, list[str]], calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        return answers[host]

    return resolve


async def test_mixed_answers_keep_only_allowed_addresses() -> None:
    backend = PinnedNetworkBackend(
        AddressPolicy(),
        resolver=_resolver({"idp.test": ["169.254.169.254", "93.184.215.14", "10.0.0.1"]}),
    )
    assert await backend.checked_addresses("idp.test", 443) == ["93.184.215.14"]


async def test_refusal_names_every_address_class() -> None:
    backend = PinnedNetworkBackend(
        AddressPolicy(), resolver=_resolver({"idp.test": ["169.254.169.254", "fd00:ec2::254"]})
    )
    with pytest.raises(AddressRefused) as refused:
        await backend.checked_addresses("idp.test", 443)
    assert refused.value.refused == (
        ("169.254.169.254", "link-local (169.254.0.0/16, includes the cloud metadata address)"),
        ("fd00:ec2::254", "private (unique local fc00::/7, includes fd00:ec2::254)"),
    )
    assert "WEBFED_ISSUER_ALLOWED_NETWORKS" in str(refused.value)


async def test_literal_addresses_are_checked_without_resolving() -> None:
    calls: list[str] = []
    backend = PinnedNetworkBackend(AddressPolicy(), resolver=_resolver({}, calls))
    with pytest.raises(AddressRefused):
        await backend.checked_addresses("[::ffff:7f00:1]", 80)
    with pytest.raises(AddressRefused):
        await backend.checked_addresses("0.0.0.0", 80)  # connecting there reaches this host
    assert calls == []


async def test_loopback_issuer_is_refused_by_default(make_cache: CacheFactory) -> None:
    """The real network path (no injected transport): refused before any byte is sent."""
    async with serving(DocumentServer()) as server:
        cache = make_cache(allowed_networks=())
        with pytest.raises(IDPCommunicationError) as failure:
            await cache.keys_for(KeySource(f"http://{server.origin}"))
    assert failure.value.explanation is not None
    reason = str(failure.value.explanation["reason"])
    assert reason.startswith("address refused: 127.0.0.1")
    assert "loopback (127.0.0.0/8)" in reason
    assert "127.0.0.1" not in failure.value.message  # the caller sees the generic message only
    assert server.requests == []


def _documents(issuer: str, jwks_uri: str) -> dict[str, object]:
    return {
        "/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": jwks_uri},
        "/jwks": KEYS,
    }


async def test_connects_to_the_checked_address_once_per_connection(
    make_cache: CacheFactory,
) -> None:
    """``idp.invalid`` does not exist in DNS: the fetch works only because the connection goes
    to the address the guard resolved and checked, never to a second lookup of the name (which
    is what DNS rebinding would change). The Host header still names the issuer's host."""
    calls: list[str] = []
    async with serving(DocumentServer()) as server:
        issuer = f"http://idp.invalid:{server.port}"
        server.routes = _documents(issuer, f"{issuer}/jwks")
        transport = GuardedTransport(
            ssl.create_default_context(),
            AddressPolicy(parse_networks("127.0.0.1/32")),
            resolver=_resolver({"idp.invalid": ["127.0.0.1"]}, calls),
        )
        key_set = await make_cache(transport).keys_for(KeySource(issuer))
        await transport.aclose()
    assert key_set.kids == {"k1"}
    host = f"idp.invalid:{server.port}"
    assert server.requests == [("/.well-known/openid-configuration", host), ("/jwks", host)]
    assert calls == ["idp.invalid", "idp.invalid"]  # the server closes each connection


async def test_rebinding_answer_is_checked_again(make_cache: CacheFactory) -> None:
    """The first connection's answer was allowed; the next one (for the JWKS) rebinds to the
    metadata address and is refused: every connection is checked, none trusts an old answer."""
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    async with serving(DocumentServer()) as server:
        issuer = f"http://idp.invalid:{server.port}"
        server.routes = _documents(issuer, f"{issuer}/jwks")
        transport = GuardedTransport(
            ssl.create_default_context(),
            AddressPolicy(parse_networks("127.0.0.1/32")),
            resolver=rebinding,
        )
        with pytest.raises(IDPCommunicationError) as failure:
            await make_cache(transport).keys_for(KeySource(issuer))
        await transport.aclose()
    assert failure.value.explanation is not None
    assert "169.254.169.254 is link-local" in str(failure.value.explanation["reason"])
    assert [path for path, _ in server.requests] == ["/.well-known/openid-configuration"]


async def test_jwks_on_a_private_host_is_refused(make_cache: CacheFactory) -> None:
    """The issuer is allowed; the key set it points to is on the metadata address."""
    async with serving(DocumentServer()) as server:
        issuer = f"http://idp.invalid:{server.port}"
        server.routes = _documents(issuer, "http://keys.invalid/jwks")
        transport = GuardedTransport(
            ssl.create_default_context(),
            AddressPolicy(parse_networks("127.0.0.1/32")),
            resolver=_resolver({"idp.invalid": ["127.0.0.1"], "keys.invalid": ["169.254.169.254"]}),
        )
        with pytest.raises(IDPCommunicationError) as failure:
            await make_cache(transport).keys_for(KeySource(issuer))
        await transport.aclose()
    assert failure.value.explanation is not None
    assert failure.value.explanation["url"] == "http://keys.invalid/jwks"
    assert "link-local" in str(failure.value.explanation["reason"])


async def test_tls_is_verified_against_the_name_not_the_pinned_address(
    tmp_path: Path, make_cache: CacheFactory
) -> None:
    """An https issuer reached on 127.0.0.1: SNI and certificate verification use the host
    name, so the certificate for ``idp.invalid`` passes and the same server under another name
    fails the handshake."""
    server_tls, ca_file = make_tls(tmp_path, "idp.invalid")
    async with serving(DocumentServer(), tls=server_tls) as server:
        issuer = f"https://idp.invalid:{server.port}"
        server.routes = _documents(issuer, f"{issuer}/jwks")
        resolve = _resolver({"idp.invalid": ["127.0.0.1"], "other.invalid": ["127.0.0.1"]})
        client_tls = ssl.create_default_context(cafile=str(ca_file))
        policy = AddressPolicy(parse_networks("127.0.0.1/32"))
        transport = GuardedTransport(client_tls, policy, resolver=resolve)
        cache = make_cache(transport, allow_http=False)
        assert (await cache.keys_for(KeySource(issuer))).kids == {"k1"}
        with pytest.raises(IDPCommunicationError) as failure:
            await cache.keys_for(KeySource(f"https://other.invalid:{server.port}"))
        await transport.aclose()
    assert failure.value.explanation is not None
    assert "ConnectError" in str(failure.value.explanation["reason"])
    assert [path for path, _ in server.requests] == ["/.well-known/openid-configuration", "/jwks"]


async def test_resolver_failure_and_slowness_are_communication_errors(
    make_cache: CacheFactory,
) -> None:
    """An unresolvable name and a resolver slower than the connect timeout both end as
    ``IDPCommunicationError`` within the bound, never as an unhandled error."""

    async def failing(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    async def hanging(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(30)
        return ["127.0.0.1"]

    reasons = []
    for resolver in (failing, hanging):
        transport = GuardedTransport(
            ssl.create_default_context(), AddressPolicy(), resolver=resolver
        )
        cache = make_cache(transport, connect_timeout=0.2, total_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(IDPCommunicationError) as failure:
            await cache.keys_for(KeySource("http://idp.invalid"))
        assert time.monotonic() - started < 1.0
        assert failure.value.explanation is not None
        reasons.append(failure.value.explanation["reason"])
        await transport.aclose()
    assert reasons == ["transport error: ConnectError", "transport error: ConnectTimeout"]

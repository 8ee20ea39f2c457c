"""Outbound bounds: timeouts, size, redirects, schemes, TLS, discovery checks.

Most cases run against the real test issuer; the injectable transport is used only where a
plain-HTTP local server cannot produce the case (https issuers, https-to-http redirects)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.oidc_issuer import OidcTestIssuer
from tests.unit.jwks.conftest import CacheFactory
from webfed.errors import IDPCommunicationError
from webfed.jwks import KeySource, discovery_url, parse_max_age


def _reason(failure: pytest.ExceptionInfo[IDPCommunicationError]) -> str:
    assert failure.value.explanation is not None
    assert failure.value.explanation["check"] == "idp_communication"
    return str(failure.value.explanation["reason"])


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("garbage", "body is not JSON"),
        ("huge", "document larger than 524288 bytes"),
        ("wrong_issuer", "discovery issuer differs"),
        ("redirect_other_host", "redirect to another host or port refused"),
        ("down", "HTTP status 503"),
    ],
    ids=["garbage", "huge", "wrong-issuer", "cross-host-redirect", "down"],
)
async def test_provider_failures(
    mode: str, reason: str, oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    oidc_issuer.mode = mode
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache().keys_for(KeySource(oidc_issuer.url))
    assert _reason(failure) == reason


async def test_document_limit_is_configurable(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    """A 1 KiB limit: the small discovery document passes, the streamed JWKS is cut."""
    oidc_issuer.mode = "huge"
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache(max_document_bytes=1024).keys_for(KeySource(oidc_issuer.url))
    assert _reason(failure) == "document larger than 1024 bytes"
    assert (oidc_issuer.discovery_requests, oidc_issuer.jwks_requests) == (1, 1)


@pytest.mark.parametrize(
    "mode", ["redirect", "other_host_jwks"], ids=["same-host", "jwks-elsewhere"]
)
async def test_allowed_indirections(
    mode: str, oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    oidc_issuer.mode = mode
    key_set = await make_cache().keys_for(KeySource(oidc_issuer.url))
    assert key_set.kids == {"key-1"}


async def test_slow_provider_is_bounded_by_the_timeout(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    oidc_issuer.mode = "slow"
    oidc_issuer.slow_seconds = 2.0
    started = time.monotonic()
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache(total_timeout=0.3).keys_for(KeySource(oidc_issuer.url))
    assert time.monotonic() - started < 1.5
    assert "time" in _reason(failure).lower()


async def test_http_issuer_is_refused_unless_allowed(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache(allow_http=False).keys_for(KeySource(oidc_issuer.url))
    assert "scheme 'http'" in _reason(failure)
    assert oidc_issuer.discovery_requests == 0
    assert (await make_cache(allow_http=True).keys_for(KeySource(oidc_issuer.url))).kids


async def test_tls_is_required_for_https(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    """An https issuer on a plain-HTTP port: the handshake fails, nothing falls back."""
    issuer = oidc_issuer.url.replace("http://", "https://")
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache(allow_http=False).keys_for(KeySource(issuer))
    assert "ConnectError" in _reason(failure)


async def test_missing_ca_bundle_fails_cleanly(make_cache: CacheFactory) -> None:
    source = KeySource("https://idp.example.com", ca_bundle="/nonexistent/ca.pem")
    with pytest.raises(IDPCommunicationError) as failure:
        await make_cache(allow_http=False).keys_for(source)
    assert "TLS setup failed" in _reason(failure)


# --- cases only an injected transport can produce ----------------------------------------------

ISSUER = "https://idp.example.com"
JWKS: dict[str, list[object]] = {"keys": []}


def _transport(routes: dict[str, httpx.Response]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return routes.get(str(request.url), httpx.Response(404))

    return httpx.MockTransport(handle)


def _discovery(jwks_uri: str, issuer: str = ISSUER) -> httpx.Response:
    return httpx.Response(200, json={"issuer": issuer, "jwks_uri": jwks_uri})


async def test_https_issuer_through_the_transport(make_cache: CacheFactory) -> None:
    transport = _transport(
        {
            discovery_url(ISSUER): _discovery("https://keys.example.net/jwks"),
            "https://keys.example.net/jwks": httpx.Response(
                200, json=JWKS, headers={"cache-control": "max-age=120"}
            ),
        }
    )
    key_set = await make_cache(transport, allow_http=False).keys_for(KeySource(ISSUER))
    assert key_set.keys == ()


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        (
            {
                discovery_url(ISSUER): httpx.Response(
                    302, headers={"location": "http://idp.example.com/.well-known/x"}
                )
            },
            "scheme 'http' is not allowed",
        ),
        (
            {discovery_url(ISSUER): _discovery("http://idp.example.com/jwks")},
            "scheme 'http' is not allowed",
        ),
        (
            {discovery_url(ISSUER): _discovery("file:///etc/passwd")},
            "scheme 'file' is not allowed",
        ),
        (
            {
                discovery_url(ISSUER): httpx.Response(302, headers={"location": "/loop"}),
                "https://idp.example.com/loop": httpx.Response(302, headers={"location": "/loop"}),
            },
            "too many redirects",
        ),
        (
            {discovery_url(ISSUER): httpx.Response(200, json=["not", "an", "object"])},
            "discovery document is not an object",
        ),
        (
            {discovery_url(ISSUER): httpx.Response(200, json={"issuer": ISSUER})},
            "discovery has no jwks_uri",
        ),
        (
            {
                discovery_url(ISSUER): httpx.Response(
                    200, content=b"x" * 10, headers={"content-length": "999999999"}
                )
            },
            "document larger than 524288 bytes",
        ),
        (
            {
                discovery_url(ISSUER): _discovery("https://idp.example.com/jwks"),
                "https://idp.example.com/jwks": httpx.Response(200, content=b"[" * 100_000),
            },
            "body is not JSON",
        ),
    ],
    ids=[
        "https-to-http-redirect",
        "http-jwks-uri",
        "file-jwks-uri",
        "redirect-loop",
        "discovery-not-object",
        "no-jwks-uri",
        "declared-too-large",
        "deeply-nested",
    ],
)
async def test_refused_through_the_transport(
    routes: dict[str, httpx.Response], reason: str, make_cache: CacheFactory
) -> None:
    cache = make_cache(_transport(routes), allow_http=False)
    with pytest.raises(IDPCommunicationError) as failure:
        await cache.keys_for(KeySource(ISSUER))
    assert _reason(failure) == reason


async def test_https_to_http_redirect_is_refused_even_when_http_is_allowed(
    make_cache: CacheFactory,
) -> None:
    redirect = httpx.Response(302, headers={"location": "http://idp.example.com/plain"})
    cache = make_cache(_transport({discovery_url(ISSUER): redirect}), allow_http=True)
    with pytest.raises(IDPCommunicationError) as failure:
        await cache.keys_for(KeySource(ISSUER))
    assert _reason(failure) == "redirect from https to http refused"


async def test_redirect_to_another_port_is_refused(make_cache: CacheFactory) -> None:
    redirect = httpx.Response(302, headers={"location": "https://idp.example.com:8443/elsewhere"})
    cache = make_cache(_transport({discovery_url(ISSUER): redirect}), allow_http=False)
    with pytest.raises(IDPCommunicationError) as failure:
        await cache.keys_for(KeySource(ISSUER))
    assert _reason(failure) == "redirect to another host or port refused"


async def test_transport_errors_become_communication_errors(make_cache: CacheFactory) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("connect timed out", request=request)

    cache = make_cache(httpx.MockTransport(fail), allow_http=False)
    with pytest.raises(IDPCommunicationError) as failure:
        await cache.keys_for(KeySource(ISSUER))
    assert _reason(failure) == "transport error: ConnectTimeout"


async def test_trailing_slash_issuer_discovery_path() -> None:
    assert discovery_url("https://a.example/tenant/") == (
        "https://a.example/tenant/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=300", 300),
        ("public, max-age=300, must-revalidate", 300),
        ('max-age="120"', 120),
        ("MAX-AGE=60", 60),
        ("no-cache", 0),
        ("private, no-store", 0),
        ("max-age=-1", None),
        ("max-age=", None),
        ("public", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "plain",
        "among-others",
        "quoted",
        "upper",
        "no-cache",
        "no-store",
        "negative",
        "empty-value",
        "none",
        "empty",
        "absent",
    ],
)
def test_parse_max_age(header: str | None, expected: int | None) -> None:
    assert parse_max_age(header) == expected


@pytest.mark.parametrize(
    "issuer",
    ["ftp://idp.example.com", "http://", "not a url at all", "https:///no-host"],
    ids=["ftp", "no-host-http", "garbage", "no-host-https"],
)
async def test_a_refused_issuer_url_is_refused_at_every_call(
    issuer: str, make_cache: CacheFactory
) -> None:
    cache = make_cache(allow_http=True)
    for _ in range(3):  # refusals are never remembered as acceptances
        with pytest.raises(IDPCommunicationError):
            await cache.keys_for(KeySource(issuer))


async def test_an_accepted_issuer_url_is_parsed_once(
    oidc_issuer: OidcTestIssuer, make_cache: CacheFactory
) -> None:
    cache = make_cache(allow_http=True)
    parsed: list[str] = []
    check = cache._fetcher.check_url

    def counting_check(url: str) -> httpx.URL:
        parsed.append(url)
        return check(url)

    cache._fetcher.check_url = counting_check  # type: ignore[method-assign]  # count the calls
    for _ in range(5):
        assert (await cache.keys_for(KeySource(oidc_issuer.url))).kids
    assert parsed.count(oidc_issuer.url) == 1

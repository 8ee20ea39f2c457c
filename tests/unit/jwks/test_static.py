"""Static key sets: the check before a set is stored, and the key cache using a provider's set
(found through the IAM provider of the issuer) without ever touching the network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.tokens import b64url, generate_signing_key, jwks_document
from webfed.core.entities import OidcProvider
from webfed.core.oidc.keys import select_key
from webfed.errors import InvalidIdentityToken
from webfed.jwks import (
    IssuerKeyCache,
    JwksSettings,
    KeySource,
    StaticKeySetError,
    check_static_key_set,
    static_keys_of_providers,
)
from webfed.jwks.static import describe_keys

ISSUER = "https://offline.example.com"
RSA_KEY = generate_signing_key("RS256", "rsa-1")
EC_KEY = generate_signing_key("ES256", "ec-1")
OTHER_KEY = generate_signing_key("RS256", "rsa-2")


def _public(**extra: Any) -> dict[str, Any]:
    return RSA_KEY.public_jwk(**extra)


def test_a_set_is_stored_as_canonical_json() -> None:
    document = jwks_document(RSA_KEY, EC_KEY)
    text = check_static_key_set(document)
    assert json.loads(text) == document
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"))


def test_one_key_needs_no_kid() -> None:
    member = _public()
    del member["kid"]
    assert json.loads(check_static_key_set({"keys": [member]})) == {"keys": [member]}


def _weak_rsa() -> dict[str, Any]:
    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    return {"kty": "RSA", "kid": "weak", "e": "AQAB", "n": b64url(numbers.n.to_bytes(128))}


_PRIVATE_RSA = dict(RSA_KEY.private.as_dict(private=True), kid="rsa-1")
_REFUSED: list[tuple[str, object, str]] = [
    ("not-an-object", [_public()], "not a JWK Set"),
    ("keys-not-a-list", {"keys": "x"}, "not a JWK Set"),
    ("no-keys", {"keys": []}, "has no keys"),
    ("too-many", {"keys": [_public(kid=str(n)) for n in range(101)]}, "101 keys"),
    ("key-not-an-object", {"keys": ["x"]}, "key 1 is not a JSON object"),
    ("private-rsa", {"keys": [_PRIVATE_RSA]}, "private or secret key (it has d, dp, dq, p, q, qi)"),
    ("symmetric", {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, "secret key"),
    ("okp", {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}, "key type 'OKP'"),
    ("hmac-alg", {"keys": [_public(alg="HS256")]}, "alg 'HS256'"),
    ("none-alg", {"keys": [_public(alg="none")]}, "alg 'none'"),
    ("encryption-key", {"keys": [_public(use="enc")]}, "use 'enc'"),
    ("several-without-kid", {"keys": [_public(), {**_public(), "kid": None}]}, "key 2 has no kid"),
    ("duplicate-kid", {"keys": [_public(), _public()]}, "kid 'rsa-1' is used by more than one"),
    (
        "weak-rsa",
        {"keys": [_weak_rsa()]},
        "RSA key of 1024 bits",
    ),
    ("key-ops-without-verify", {"keys": [_public(key_ops=["encrypt"])]}, "key_ops"),
]


@pytest.mark.parametrize(
    ("document", "reason"),
    [(document, reason) for _, document, reason in _REFUSED],
    ids=[name for name, _, _ in _REFUSED],
)
def test_a_bad_set_is_refused_with_its_reason(document: object, reason: str) -> None:
    with pytest.raises(StaticKeySetError) as refused:
        check_static_key_set(document)
    assert reason in str(refused.value)


def test_a_private_key_is_never_echoed() -> None:
    with pytest.raises(StaticKeySetError) as refused:
        check_static_key_set({"keys": [_PRIVATE_RSA]})
    message = str(refused.value)
    for member in ("d", "p", "q", "dp", "dq", "qi", "n"):
        assert str(_PRIVATE_RSA[member]) not in message


def test_describe_keys_names_each_key_by_kid_and_thumbprint() -> None:
    lines = describe_keys(check_static_key_set(jwks_document(RSA_KEY, EC_KEY)))
    assert lines == [
        f"kid=rsa-1 kty=RSA alg=RS256 thumbprint={RSA_KEY.private.thumbprint()}",
        f"kid=ec-1 kty=EC alg=ES256 thumbprint={EC_KEY.private.thumbprint()}",
    ]


class _Providers:
    """The IAM cache's ``provider`` lookup over a dict, counting calls."""

    def __init__(self, *providers: OidcProvider) -> None:
        self.by_resource = {p.url.split("://", 1)[1]: p for p in providers}
        self.calls = 0

    async def provider(self, resource: str) -> OidcProvider | None:
        self.calls += 1
        return self.by_resource.get(resource)


def _provider(url: str = ISSUER, static_jwks: str | None = None) -> OidcProvider:
    resource = url.split("://", 1)[1]
    return OidcProvider(
        account_id="123456789012",
        arn=f"arn:aws:iam::123456789012:oidc-provider/{resource}",
        url=url,
        client_ids=("app",),
        thumbprints=(),
        tags=(),
        create_date=datetime(2026, 1, 1, tzinfo=UTC),
        static_jwks=static_jwks,
    )


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"fetched {request.url}")


def _cache(providers: _Providers, transport: httpx.MockTransport | None = None) -> IssuerKeyCache:
    return IssuerKeyCache(
        JwksSettings(),
        transport=transport or httpx.MockTransport(_no_network),
        static_key_sets=static_keys_of_providers(providers),
    )


async def test_a_provider_with_a_static_set_is_never_fetched() -> None:
    static = check_static_key_set(jwks_document(RSA_KEY))
    cache = _cache(_Providers(_provider(static_jwks=static)))
    for _ in range(3):
        keys = await cache.keys_for(KeySource(ISSUER), kid="rsa-1")
        assert keys.kids == {"rsa-1"}
    assert (cache.counters.fetches, cache.counters.cache_hits) == (0, 3)


async def test_an_unknown_kid_is_the_tokens_fault_at_once() -> None:
    """No refresh is tried: the set is all there is, and the key choice refuses the token."""
    static = check_static_key_set(jwks_document(RSA_KEY))
    cache = _cache(_Providers(_provider(static_jwks=static)))
    keys = await cache.keys_for(KeySource(ISSUER), kid="rsa-2")
    with pytest.raises(InvalidIdentityToken):
        select_key(keys, "rsa-2", "RS256", fingerprint="f")
    assert cache.counters.fetches == 0


async def test_a_rotated_set_replaces_the_old_one() -> None:
    providers = _Providers(_provider(static_jwks=check_static_key_set(jwks_document(RSA_KEY))))
    cache = _cache(providers)
    assert (await cache.keys_for(KeySource(ISSUER))).kids == {"rsa-1"}
    rotated = check_static_key_set(jwks_document(OTHER_KEY))
    providers.by_resource["offline.example.com"] = _provider(static_jwks=rotated)
    assert (await cache.keys_for(KeySource(ISSUER))).kids == {"rsa-2"}


async def test_a_provider_without_a_static_set_is_fetched_as_before() -> None:
    served = jwks_document(RSA_KEY)

    def idp(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
        return httpx.Response(200, json=served)

    cache = _cache(_Providers(_provider()), httpx.MockTransport(idp))
    assert (await cache.keys_for(KeySource(ISSUER))).kids == {"rsa-1"}
    assert cache.counters.fetches == 1


async def test_only_the_provider_of_exactly_that_issuer_counts() -> None:
    """``https://host/`` shares the IAM resource of ``https://host`` but is not its URL."""
    static = check_static_key_set(jwks_document(RSA_KEY))
    lookup = static_keys_of_providers(_Providers(_provider(static_jwks=static)))
    assert await lookup(ISSUER) == static
    assert await lookup(ISSUER + "/") is None
    assert await lookup("https://elsewhere.example.com") is None

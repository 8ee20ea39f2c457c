"""The provider between HTTP and the pure parts: codes issued and redeemed, with a clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.unit.devidp.conftest import MASTER, NOW, RFC_CHALLENGE, RFC_VERIFIER
from webfed.devidp import DevIdentityProvider
from webfed.devidp.authorization import AuthorizationRequest
from webfed.devidp.claims import MAX_CLAIMS_DEPTH, parse_extra_claims
from webfed.devidp.provider import USED_CODES_DIRECTORY, TokenError, TokenRequest
from webfed.issuer import IssuerKeys
from webfed.settings import Settings
from webfed.storage import Store, migrate

ISSUER = "http://127.0.0.1:8700/dev-idp"
REQUEST = AuthorizationRequest(
    client_id="web",
    redirect_uri="http://127.0.0.1:5173/cb",
    scope=("openid", "profile"),
    state="s1",
    nonce="n1",
    code_challenge=RFC_CHALLENGE,
)


@pytest.fixture(scope="session")
def key_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database whose provider key exists (made once: RSA generation is slow)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('devidp') / 'webfed.db'}"
    migrate(url)
    return url


def _prepared(url: str, settings: Settings) -> tuple[DevIdentityProvider, IssuerKeys]:
    provider = DevIdentityProvider(settings)

    async def prepare() -> IssuerKeys:
        store = await Store.open(url)
        try:
            return await provider.prepare(store, MASTER, NOW)
        finally:
            await store.close()

    return provider, asyncio.run(prepare())


@pytest.fixture
def provider(key_database: str, tmp_path: Path) -> Iterator[tuple[DevIdentityProvider, IssuerKeys]]:
    settings = Settings(
        data_dir=tmp_path,
        public_url="http://127.0.0.1:8700/",
        dev_idp=True,
        dev_idp_claims='{"team": "blue"}',
    )
    yield _prepared(key_database, settings)


def _code(provider: DevIdentityProvider, claims: dict[str, object] | None = None) -> str:
    location = provider.issue_code(REQUEST, "alice", claims or {}, NOW, random.Random(5))
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s1"] and query["iss"] == [ISSUER]
    return query["code"][0]


def _redeem(
    provider: tuple[DevIdentityProvider, IssuerKeys], code: str, after: float = 1, **changes: str
) -> dict[str, object]:
    fields = {"client_id": "web", "redirect_uri": REQUEST.redirect_uri}
    request = TokenRequest(code=code, **{**fields, "code_verifier": RFC_VERIFIER, **changes})
    dev, keys = provider
    return dev.redeem(request, keys, NOW + timedelta(seconds=after), random.Random(6))


def test_issue_and_redeem(provider: tuple[DevIdentityProvider, IssuerKeys]) -> None:
    dev, keys = provider
    body = _redeem(provider, _code(dev, {"team": "red", "level": 2}))
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile"
    assert isinstance(body["id_token"], str) and isinstance(body["access_token"], str)
    token = jwt.decode(body["id_token"], KeySet.import_key_set(dict(keys.jwks())))
    issued = int(NOW.timestamp()) + 1
    assert token.claims == {
        "iss": ISSUER,
        "sub": "alice",
        "aud": "web",
        "iat": issued,
        "exp": issued + 3600,
        "auth_time": int(NOW.timestamp()),
        "nonce": "n1",
        "preferred_username": "alice",
        "name": "alice",  # no email: the scope is "openid profile" (OpenID Connect Core 5.4)
        "team": "red",
        "level": 2,
    }
    info = dev.userinfo(body["access_token"], NOW + timedelta(minutes=59))
    assert info is not None and info["sub"] == "alice" and info["team"] == "red"
    assert dev.userinfo(body["access_token"], NOW + timedelta(minutes=61)) is None
    assert dev.userinfo(body["id_token"], NOW) is None


def test_the_deepest_claims_make_a_token(
    provider: tuple[DevIdentityProvider, IssuerKeys],
) -> None:
    """Claims as deep as :func:`parse_extra_claims` lets through survive sealing and signing."""
    deepest = "[" * (MAX_CLAIMS_DEPTH - 1) + "]" * (MAX_CLAIMS_DEPTH - 1)
    claims = parse_extra_claims('{"deep": ' + deepest + "}")
    dev, keys = provider
    body = _redeem(provider, _code(dev, claims))
    token = jwt.decode(str(body["id_token"]), KeySet.import_key_set(dict(keys.jwks())))
    assert token.claims["deep"] == claims["deep"]


def test_setting_claims_are_defaults(provider: tuple[DevIdentityProvider, IssuerKeys]) -> None:
    dev, keys = provider
    body = _redeem(provider, _code(dev))
    claims = jwt.decode(str(body["id_token"]), KeySet.import_key_set(dict(keys.jwks()))).claims
    assert claims["team"] == "blue"


@pytest.mark.parametrize(
    ("after", "changes", "message"),
    [
        (61, {}, "expired"),
        (1, {"client_id": "other"}, "another client"),
        (1, {"redirect_uri": "http://127.0.0.1:5173/cb2"}, "redirect_uri"),
        (1, {"code_verifier": RFC_VERIFIER[:-1] + "A"}, "code_verifier"),
    ],
    ids=["expired", "client", "redirect-uri", "verifier"],
)
def test_refused(
    provider: tuple[DevIdentityProvider, IssuerKeys],
    after: float,
    changes: dict[str, str],
    message: str,
) -> None:
    code = _code(provider[0])
    with pytest.raises(TokenError, match=message) as caught:
        _redeem(provider, code, after, **changes)
    assert caught.value.error == "invalid_grant"
    _redeem(provider, code)  # a refused attempt does not use the code up


def test_the_last_second_is_still_valid(provider: tuple[DevIdentityProvider, IssuerKeys]) -> None:
    _redeem(provider, _code(provider[0]), after=60)


def test_single_use(provider: tuple[DevIdentityProvider, IssuerKeys]) -> None:
    code = _code(provider[0])
    _redeem(provider, code)
    with pytest.raises(TokenError, match="already been used"):
        _redeem(provider, code)


def test_a_code_whose_use_cannot_be_recorded_is_not_used_up(
    provider: tuple[DevIdentityProvider, IssuerKeys], tmp_path: Path
) -> None:
    """A 503 ``temporarily_unavailable``, not an OSError (a 500); the code stays good."""
    code = _code(provider[0])
    blocker = tmp_path / USED_CODES_DIRECTORY
    blocker.write_bytes(b"")  # a file where the directory should be
    with pytest.raises(TokenError) as raised:
        _redeem(provider, code)
    assert (raised.value.error, raised.value.status) == ("temporarily_unavailable", 503)
    blocker.unlink()
    assert "id_token" in _redeem(provider, code, after=2)


def test_a_code_from_another_deployment(
    provider: tuple[DevIdentityProvider, IssuerKeys], key_database: str, tmp_path: Path
) -> None:
    other = DevIdentityProvider(Settings(data_dir=tmp_path, dev_idp=True))
    with pytest.raises(RuntimeError):
        other.issue_code(REQUEST, "alice", {}, NOW, random.Random(1))  # not prepared yet
    with pytest.raises(TokenError, match="not one this provider issued"):
        _redeem(provider, "A" * 200)


def test_discovery_document(provider: tuple[DevIdentityProvider, IssuerKeys]) -> None:
    document = provider[0].discovery_document()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == ISSUER + "/authorize"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == ["none"]
    # OpenID Connect Discovery 1.0 section 3: omitted, request_uri_parameter_supported means
    # true, but a request_uri is refused (request_uri_not_supported).
    assert document["request_uri_parameter_supported"] is False
    assert document["request_parameter_supported"] is False
    assert document["claims_parameter_supported"] is False

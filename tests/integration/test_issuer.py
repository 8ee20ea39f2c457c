"""webfed's own OpenID issuer through a real ``webfed serve``, as an outside verifier sees it.

The discovery document and JWK Set are fetched over HTTP; a token minted with the keys the
server holds (read from its database with its master key) is verified with joserfc alone, from
the published JWK Set. Rotation goes through the real ``webfed keys rotate --issuer`` command.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.integration.conftest import WebfedServer
from webfed.issuer import (
    DEVELOPER_TOKEN_LIFETIME,
    JWKS_MAX_AGE_SECONDS,
    IssuerKeys,
    load_issuer_keys,
    mint_identity_token,
)
from webfed.master_key import load_or_create_master_key
from webfed.storage import Store

POOL = "us-east-1:2f0c8a1e-5b7d-4e3f-9a6c-0d1e2f3a4b5c"
IDENTITY = "us-east-1:9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def _database_url(server: WebfedServer) -> str:
    return server.database_url or f"sqlite+aiosqlite:///{(server.data_dir / 'webfed.db').resolve()}"


def _server_keys(server: WebfedServer, now: datetime) -> IssuerKeys:
    master, created = load_or_create_master_key(server.data_dir, None)
    assert not created

    async def read() -> IssuerKeys:
        store = await Store.open(_database_url(server))
        try:
            return await load_issuer_keys(store, master, now)
        finally:
            await store.close()

    return asyncio.run(read())


def _discovery(server: WebfedServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/.well-known/openid-configuration", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def _published(server: WebfedServer) -> tuple[httpx.Response, KeySet]:
    response = httpx.get(_discovery(server)["jwks_uri"], timeout=5)
    assert response.status_code == 200
    return response, KeySet.import_key_set(response.json())


def test_discovery_document(server: WebfedServer) -> None:
    document = _discovery(server)
    assert document == {
        "issuer": server.url,
        "jwks_uri": f"{server.url}/.well-known/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "amr", "iat", "exp"],
    }


def test_jwks_holds_public_rsa_keys_with_a_matching_cache_lifetime(server: WebfedServer) -> None:
    response, key_set = _published(server)
    assert response.headers["cache-control"] == f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    members = response.json()["keys"]
    assert members
    for member in members:
        assert member["kty"] == "RSA" and member["alg"] == "RS256" and member["use"] == "sig"
        assert not _PRIVATE_MEMBERS & set(member)
    assert all(not key.is_private for key in key_set.keys)
    assert all(key.raw_value.key_size >= 2048 for key in key_set.keys)  # type: ignore[union-attr]


def _mint(server: WebfedServer, keys: IssuerKeys, now: datetime) -> str:
    return mint_identity_token(
        issuer=_discovery(server)["issuer"],
        pool_id=POOL,
        identity_id=IDENTITY,
        amr=["authenticated", "login.example.com"],
        lifetime=DEVELOPER_TOKEN_LIFETIME,
        now=now,
        key=keys.signing_key(now),
    )


def _verify_from_outside(server: WebfedServer, token: str, now: datetime) -> dict[str, Any]:
    _, key_set = _published(server)
    decoded = jwt.decode(token, key_set, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        iss={"essential": True, "value": server.url},
        aud={"essential": True, "value": POOL},
        sub={"essential": True, "value": IDENTITY},
        exp={"essential": True},
    ).validate(decoded.claims)
    return decoded.claims


def test_a_minted_token_verifies_with_the_published_keys(server: WebfedServer) -> None:
    now = datetime.now(UTC)
    token = _mint(server, _server_keys(server, now), now)
    claims = _verify_from_outside(server, token, now)
    assert claims["exp"] - claims["iat"] == 900
    assert claims["amr"] == ["authenticated", "login.example.com"]


def _rotate(server: WebfedServer) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "webfed", "keys", "rotate", "--issuer"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith("new current issuer signing key: ")
    return result.stdout.rsplit(" ", 1)[1].strip()


def test_rotation_keeps_the_old_key_published(server: WebfedServer) -> None:
    now = datetime.now(UTC)
    before = _server_keys(server, now)
    token = _mint(server, before, now)
    new_kid = _rotate(server)
    server.restart()  # instead of waiting up to a minute for the reload
    response, _ = _published(server)
    kids = [member["kid"] for member in response.json()["keys"]]
    assert new_kid in kids
    assert set(before.kids) <= set(kids)
    _verify_from_outside(server, token, now)
    after = _server_keys(server, now)
    assert after.signing_key(now).kid == before.signing_key(now).kid  # not yet SIGNING_LEAD old
    later = now + timedelta(minutes=7)
    assert after.signing_key(later).kid == new_kid


def test_tokens_are_never_logged(server: WebfedServer, tmp_path: Path) -> None:
    """A webfed token sent to STS is refused (no provider is registered for the issuer), and
    neither the token nor its signature appears in the server's log."""
    now = datetime.now(UTC)
    token = _mint(server, _server_keys(server, now), now)
    sts = server.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::123456789012:role/none",
            RoleSessionName="issuer-test",
            WebIdentityToken=token,
        )
    assert caught.value.response["Error"]["Code"] in {"InvalidIdentityToken", "AccessDenied"}
    log = server.log()
    assert token not in log
    assert token.rsplit(".", 1)[1][:40] not in log
    assert json.dumps(token)[1:-1] not in log


def test_public_url_sets_the_issuer(tmp_path: Path) -> None:
    instance = WebfedServer(
        tmp_path / "public", None, {"WEBFED_PUBLIC_URL": "https://id.example.test/"}
    )
    instance.start()
    try:
        document = _discovery(instance)
    finally:
        instance.stop()
    assert document["issuer"] == "https://id.example.test"
    assert document["jwks_uri"] == "https://id.example.test/.well-known/jwks.json"

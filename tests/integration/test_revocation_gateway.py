"""Revocation through the S3 gateway: the gateway's own authorizer polls the rules like a node.

A real ``webfed serve`` (SQLite), a real gateway process and a moto upstream, as in
``test_gateway_s3.py``. After ``webfed sessions revoke``, the revoked session's plain and
``aws-chunked`` requests are refused with S3's ``InvalidToken`` within the bound, and nothing
reaches the upstream; another player's session keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import botocore.exceptions
import pytest
from click.testing import CliRunner

from tests.integration.test_federation_harness import Federation, federation_for
from tests.integration.test_gateway_harness import Game, Gateway, MotoServer, game_role
from tests.integration.test_gateway_harness import module_servers as _module_servers
from tests.integration.test_gateway_s3 import BUCKET, chunked_put, game_statements
from webfed.cli import main

DEADLINE = 4.0  # the documented two seconds, with slack for a loaded machine


@pytest.fixture(scope="module", params=["sqlite"])
def federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    yield from federation_for(request, tmp_path_factory)


@pytest.fixture(scope="module")
def servers(
    federation: Federation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MotoServer, Gateway]]:
    for pair in _module_servers(federation, tmp_path_factory.mktemp("revoke-s3"), "s3"):
        pair[0].client("s3").create_bucket(Bucket=BUCKET)
        yield pair


@pytest.fixture(scope="module")
def game(federation: Federation, servers: tuple[MotoServer, Gateway]) -> Game:
    return game_role(federation, game_statements(federation.prefix))


def test_a_revoked_session_is_refused_by_the_gateway(
    federation: Federation, servers: tuple[MotoServer, Gateway], game: Game
) -> None:
    upstream, gateway = servers
    alice, bob = game.player("alice"), game.player("bob")
    s3 = gateway.client(alice)
    s3.put_object(Bucket=BUCKET, Key="alice/save.json", Body=b"{}")
    assert chunked_put(gateway, alice, "alice/chunked.bin", [b"a" * 1000], tamper=False).is_success
    result = CliRunner().invoke(
        main,
        [
            "sessions",
            "revoke",
            "--access-key-id",
            alice["AccessKeyId"],
            "--data-dir",
            str(federation.server.data_dir),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output

    started = time.monotonic()
    while True:
        try:
            s3.get_object(Bucket=BUCKET, Key="alice/save.json")
        except botocore.exceptions.ClientError as error:
            response = error.response
            assert response["Error"]["Code"] == "InvalidToken"
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
            break
        assert time.monotonic() - started < DEADLINE, "the gateway still accepts the session"
        time.sleep(0.1)
    refused = chunked_put(gateway, alice, "alice/late.bin", [b"b" * 1000], tamper=False)
    assert refused.status_code == 400
    assert "<Code>InvalidToken</Code>" in refused.text
    with pytest.raises(botocore.exceptions.ClientError):
        upstream.client("s3").head_object(Bucket=BUCKET, Key="alice/late.bin")
    gateway.client(bob).put_object(Bucket=BUCKET, Key="bob/save.json", Body=b"{}")
    assert upstream.client("s3").get_object(Bucket=BUCKET, Key="bob/save.json")["Body"].read()

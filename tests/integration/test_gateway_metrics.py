"""The gateways' ``/__webfed/metrics`` against ``docs/metrics.md``, after real traffic.

A real webfed server, a real moto upstream and real S3 and DynamoDB gateway processes; boto3
clients. The traffic (allowed calls, an implicit and an explicit denial, a bad signature, a
tampered session token, then the upstream stopped) must move each gateway metric, and the
scrape must match the page's "Gateway metrics" section in both directions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.integration.test_federation_harness import ACCOUNT, Federation, federation_for
from tests.integration.test_gateway_harness import (
    Game,
    Gateway,
    MotoServer,
    game_role,
    tampered,
)
from tests.integration.test_metrics_catalogue import documented, sample

BUCKET = "scores"
TABLE = "Saves"


@pytest.fixture(scope="module", params=["sqlite"])
def federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    yield from federation_for(request, tmp_path_factory)


@pytest.fixture(scope="module")
def servers(
    federation: Federation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MotoServer, Gateway, Gateway]]:
    moto = MotoServer(tmp_path_factory.mktemp("gateway-metrics"))
    started: list[Gateway] = []
    try:
        moto.client("s3").create_bucket(Bucket=BUCKET)
        moto.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "player", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "player", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for service in ("s3", "dynamodb"):
            started.append(Gateway(service, federation, moto.url))
        yield moto, started[0], started[1]
    finally:
        for gateway in started:
            gateway.stop()
        moto.stop()


@pytest.fixture(scope="module")
def game(federation: Federation) -> Game:
    return game_role(
        federation,
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/mine/*",
            },
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
                "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
            },
        ],
    )


def scrape(gateway: Gateway) -> tuple[dict[str, str], str]:
    response = httpx.get(f"{gateway.url}/__webfed/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    types = {
        name: kind
        for line in text.splitlines()
        if line.startswith("# TYPE ")
        for name, kind in [line.split()[2:4]]
    }
    return types, text


def _refused(call: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def _s3_traffic(gateway: Gateway, credentials: dict[str, Any]) -> None:
    s3 = gateway.client(credentials)
    s3.put_object(Bucket=BUCKET, Key="mine/save.bin", Body=b"level 3")
    assert s3.get_object(Bucket=BUCKET, Key="mine/save.bin")["Body"].read() == b"level 3"
    assert _refused(lambda: s3.get_object(Bucket=BUCKET, Key="theirs/save.bin")) == "AccessDenied"
    assert _refused(lambda: s3.delete_object(Bucket=BUCKET, Key="mine/save.bin")) == "AccessDenied"
    wrong_secret = {**credentials, "SecretAccessKey": "x" * 40}
    code = _refused(lambda: gateway.client(wrong_secret).head_bucket(Bucket=BUCKET))
    assert code == "403"  # HEAD: no body, only the status
    code = _refused(lambda: gateway.client(wrong_secret).get_object(Bucket=BUCKET, Key="mine/a"))
    assert code == "SignatureDoesNotMatch"
    code = _refused(lambda: gateway.client(tampered(credentials)).list_buckets())
    assert code in ("InvalidToken", "InvalidAccessKeyId")


def test_s3_gateway_metrics_match_the_catalogue(
    servers: tuple[MotoServer, Gateway, Gateway], game: Game
) -> None:
    credentials = game.player("alice")
    gateway = servers[1]
    _s3_traffic(gateway, credentials)
    types, text = scrape(gateway)
    _check_catalogue(types)

    def count(name: str, **labels: str) -> float:
        return sample(text, name, service="s3", **labels)

    assert count("webfed_gateway_requests_total", operation="PutObject", status="200") == 1
    assert count("webfed_gateway_requests_total", operation="GetObject", status="200") == 1
    assert count("webfed_gateway_requests_total", operation="GetObject", status="403") == 2
    assert count("webfed_gateway_request_duration_seconds_count", operation="PutObject") == 1
    assert count("webfed_gateway_authorizations_total", decision="allow") == 2
    assert count("webfed_gateway_authorizations_total", reason="implicit_deny") == 1
    assert count("webfed_gateway_authorizations_total", reason="explicit_deny") == 1
    assert count("webfed_gateway_rejections_total", code="AccessDenied", check="policy") == 2
    signature = count("webfed_gateway_rejections_total", code="SignatureDoesNotMatch")
    assert signature == 2
    assert count("webfed_gateway_rejections_total", check="session-token") == 1
    assert count("webfed_gateway_upstream_duration_seconds_count") == 2  # allowed calls only
    assert count("webfed_gateway_upstream_errors_total") == 0
    decisions = "webfed_authorization_decisions_total"
    assert sample(text, decisions, service="s3", decision="deny") == 2
    assert sample(text, "webfed_build_info") == 1
    assert "x" * 40 not in text and credentials["SessionToken"] not in text


def test_dynamodb_gateway_metrics_match_the_catalogue(
    servers: tuple[MotoServer, Gateway, Gateway], game: Game
) -> None:
    credentials = game.player("bob")
    gateway = servers[2]
    dynamodb = gateway.client(credentials)
    dynamodb.put_item(TableName=TABLE, Item={"player": {"S": "bob"}, "level": {"N": "3"}})
    item = dynamodb.get_item(TableName=TABLE, Key={"player": {"S": "bob"}})["Item"]
    assert item["level"] == {"N": "3"}
    code = _refused(lambda: dynamodb.delete_item(TableName=TABLE, Key={"player": {"S": "bob"}}))
    assert code == "AccessDeniedException"
    types, text = scrape(gateway)
    _check_catalogue(types)

    def count(name: str, **labels: str) -> float:
        return sample(text, name, service="dynamodb", **labels)

    assert count("webfed_gateway_requests_total", operation="PutItem", status="200") == 1
    assert count("webfed_gateway_requests_total", operation="DeleteItem", status="400") == 1
    assert count("webfed_gateway_authorizations_total", decision="allow") >= 2
    assert count("webfed_gateway_authorizations_total", reason="implicit_deny") == 1
    assert count("webfed_gateway_upstream_duration_seconds_count") >= 2
    assert sample(text, "webfed_gateway_requests_total", service="s3") == 0


def test_an_unreachable_upstream_and_the_stored_refusals(
    servers: tuple[MotoServer, Gateway, Gateway], game: Game
) -> None:
    """Last in the module: it stops the upstream."""
    moto, gateway = servers[0], servers[1]
    s3 = gateway.client(game.player("carol"))
    moto.stop()
    code = _refused(lambda: s3.get_object(Bucket=BUCKET, Key="mine/save.bin"))
    assert code in ("ServiceUnavailable", "503")
    deadline = time.monotonic() + 10
    while True:  # the refusals' audit events are stored in batches
        _, text = scrape(gateway)
        written = sample(text, "webfed_audit_events_written_total")
        if written > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert written >= 1  # the default audit mode stores refusals and failures
    errors = "webfed_gateway_upstream_errors_total"
    unreachable = sample(text, errors, service="s3", error="unreachable")
    assert unreachable >= 1
    assert sample(text, "webfed_gateway_requests_total", service="s3", status="503") == unreachable
    assert sample(text, errors, service="s3", error="server_error") == 0
    assert sample(text, "webfed_db_pool_size") >= 1


def _check_catalogue(types: dict[str, str]) -> None:
    gateway_catalogue = documented("gateway")
    server_catalogue = documented()
    missing = {n: k for n, k in gateway_catalogue.items() if types.get(n) != k}
    assert not missing, f"documented but not exposed with that type: {missing}"
    exposed = {name.removesuffix("_created") for name in types if name.startswith("webfed_")}
    undocumented = sorted(
        name
        for name in exposed
        if name not in gateway_catalogue
        and name not in server_catalogue
        and f"{name}_total" not in gateway_catalogue | server_catalogue
    )
    assert not undocumented, f"exposed but not in docs/metrics.md: {undocumented}"
    server_only = ("webfed_requests_total", "webfed_rejections_total", "webfed_jwks_fetches_total")
    assert not set(server_only) & set(types)

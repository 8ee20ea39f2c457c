"""``docs/metrics.md`` against a real server's ``/metrics``: the page and the code cannot drift.

After some traffic (web identity federation with an issuer whose keys are fetched and then
cached, a refused token, decisions allowed and denied), the scrape must hold every metric the
page lists, with the page's type, and the page must list every ``webfed_`` metric the scrape
holds. The traffic's own effects are checked too, so a metric that exists but never moves fails.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_federation_harness import ACCOUNT, Federation, federation_for

PAGE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ROW = re.compile(r"^\|\s*`(?P<name>[a-z_]+)`\s*\|\s*(?P<type>counter|gauge|histogram)\s*\|", re.M)
API_HOST = "api.example.test"


GATEWAY_SECTION = "\n## Gateway metrics\n"


def documented(section: str = "server") -> dict[str, str]:
    """The tables of the server's catalogue, or (``"gateway"``) of the gateway section."""
    server, _, gateway = PAGE.read_text("utf-8").partition(GATEWAY_SECTION)
    text = gateway if section == "gateway" else server
    rows = {match["name"]: match["type"] for match in ROW.finditer(text)}
    assert len(rows) >= (5 if section == "gateway" else 20), "the catalogue's tables were not found"
    return rows


def scraped(url: str) -> tuple[dict[str, str], str]:
    """The metric families of a scrape, by exposed name, and the raw text."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    return types, text


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and labels.items() <= found.labels.items():
                total += found.value
    return total


def _creation_time_of(name: str, catalogue: dict[str, str]) -> bool:
    """Whether ``name`` is the ``_created`` family prometheus_client adds to a listed metric."""
    base = name.removesuffix("_created")
    return base != name and (f"{base}_total" in catalogue or base in catalogue)


@pytest.fixture(scope="module", params=["sqlite"])
def federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    yield from federation_for(request, tmp_path_factory)


def _signed_check(federation: Federation, credentials: dict[str, str], path: str) -> int:
    """Ask the Envoy decision endpoint about a signed ``GET path`` to the protected API."""
    request = AWSRequest(method="GET", url=f"https://{API_HOST}{path}")
    keys = Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    SigV4Auth(keys, "execute-api", "us-east-1").add_auth(request)
    headers = dict(request.headers.items()) | {"x-original-host": API_HOST}
    url = f"{federation.server.url}/_webfed/authz/envoy{path}"
    return httpx.get(url, headers=headers, timeout=10).status_code


def _traffic(federation: Federation) -> None:
    allowed = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/GET/open/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": allowed}],
    }
    role = federation.role(inline=policy)
    credentials = federation.assume(role, federation.token())["Credentials"]  # fetch: a miss
    federation.assume(role, federation.token())  # the cached keys: a hit
    with pytest.raises(botocore.exceptions.ClientError):
        federation.assume(role, "not-a-token")
    assert _signed_check(federation, credentials, "/open/door") == 200
    assert _signed_check(federation, credentials, "/closed/door") == 403


def test_every_documented_metric_is_exposed_and_every_exposed_one_documented(
    federation: Federation,
) -> None:
    _traffic(federation)
    catalogue = documented()
    deadline = time.monotonic() + 10
    while True:  # audit events are stored in batches, a fraction of a second later
        types, text = scraped(federation.server.url)
        if sample(text, "webfed_audit_events_written_total") > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    missing = {name: kind for name, kind in catalogue.items() if types.get(name) != kind}
    assert not missing, f"documented but not exposed with that type: {missing}"
    undocumented = sorted(
        name
        for name in types
        if name.startswith("webfed_")
        and name not in catalogue
        and not _creation_time_of(name, catalogue)
    )
    assert not undocumented, f"exposed but not in docs/metrics.md: {undocumented}"

    assert sample(text, "webfed_requests_total", operation="AssumeRoleWithWebIdentity") >= 3
    assert sample(text, "webfed_request_duration_seconds_count", service="sts") >= 3
    assert sample(
        text,
        "webfed_rejections_total",
        service="sts",
        code="InvalidIdentityToken",
        check="structure",
    ) == pytest.approx(1)
    assert sample(text, "webfed_jwks_cache_lookups_total", result="miss") >= 1
    assert sample(text, "webfed_jwks_cache_lookups_total", result="hit") >= 1
    assert sample(text, "webfed_jwks_fetches_total", outcome="success") >= 1
    assert sample(text, "webfed_jwks_fetches_total", outcome="failure") == 0
    decisions = "webfed_authorization_decisions_total"
    assert sample(text, decisions, service="execute-api", decision="allow") == pytest.approx(1)
    assert sample(text, decisions, service="execute-api", decision="deny") == pytest.approx(1)
    assert sample(text, "webfed_db_pool_size") >= 1
    assert sample(text, "webfed_audit_events_written_total") > 0
    assert sample(text, "webfed_build_info") == 1

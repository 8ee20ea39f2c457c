"""OpenTelemetry traces from real processes to an OTLP/HTTP collector on 127.0.0.1.

A real ``webfed serve`` and a real S3 gateway run with ``WEBFED_OTEL_EXPORTER=otlp`` and the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a collector stub in this test, which
decodes the protobuf exports. The spans must arrive with their names, kinds, parents and
attributes, and no token, key or session token may appear anywhere in what was exported.
With the setting off, the telemetry module and OpenTelemetry are never imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.config import Config
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.integration.conftest import ADMIN_SECRET
from tests.integration.test_federation_harness import Federation, federation_for
from tests.integration.test_gateway_harness import (
    REGION,
    UPSTREAM_KEY_ID,
    UPSTREAM_SECRET,
    MotoServer,
    _stop,
    _wait,
)
from tests.support.ports import free_port

BUCKET = "traces"


@dataclass
class Span:
    service: str
    name: str
    kind: int
    trace_id: bytes
    span_id: bytes
    parent: bytes
    attributes: dict[str, Any]


class Collector:
    """An OTLP/HTTP trace receiver: ``POST /v1/traces`` with a protobuf body."""

    def __init__(self) -> None:
        self.exports: list[bytes] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.paths.append(self.path)
                collector.exports.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> list[Span]:
        found: list[Span] = []
        for body in list(self.exports):
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                resource = _attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    found.extend(
                        Span(
                            resource["service.name"],
                            span.name,
                            span.kind,
                            span.trace_id,
                            span.span_id,
                            span.parent_span_id,
                            _attributes(span.attributes),
                        )
                        for span in scope_spans.spans
                    )
        return found

    def wait_for(self, name: str, count: int = 1, timeout: float = 15) -> list[Span]:
        deadline = time.monotonic() + timeout
        while True:
            named = [span for span in self.spans() if span.name == name]
            if len(named) >= count or time.monotonic() > deadline:
                return named
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _attributes(pairs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        kind = pair.value.WhichOneof("value")
        values[pair.key] = getattr(pair.value, kind) if kind else None
    return values


TRACING_ENV = {"WEBFED_OTEL_EXPORTER": "otlp", "OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["sqlite"])
def federation(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    collector: Collector,
) -> Iterator[Federation]:
    env = {**TRACING_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}
    yield from federation_for(request, tmp_path_factory, env)


def _secrets_absent(collector: Collector, *secrets: str) -> None:
    exported = b"".join(collector.exports)
    for secret in secrets:
        assert secret.encode() not in exported
        assert secret[-24:].encode() not in exported  # not even a tail of one


def test_server_spans_with_key_fetch_and_database_children(
    federation: Federation, collector: Collector
) -> None:
    assert collector.paths[:1] in ([], ["/v1/traces"])
    role = federation.role()  # iam.CreateRole: database statements
    token = federation.token()
    credentials = federation.assume(role, token)["Credentials"]  # first token: keys fetched
    with pytest.raises(botocore.exceptions.ClientError):
        federation.assume(role, "not-a-token")

    assumed = collector.wait_for("sts.AssumeRoleWithWebIdentity", 2)
    assert len(assumed) == 2
    good, bad = sorted(assumed, key=lambda span: span.attributes["http.response.status_code"])
    assert good.service == "webfed"
    assert good.kind == 2  # SPAN_KIND_SERVER
    assert good.attributes["rpc.system"] == "aws-api"
    assert good.attributes["rpc.service"] == "sts"
    assert good.attributes["rpc.method"] == "AssumeRoleWithWebIdentity"
    assert good.attributes["http.request.method"] == "POST"
    assert good.attributes["http.response.status_code"] == 200
    assert len(good.attributes["aws.request_id"]) == 36
    assert "error.type" not in good.attributes
    assert bad.attributes["http.response.status_code"] == 400
    assert bad.attributes["error.type"] == "InvalidIdentityToken"

    fetches = [s for s in collector.wait_for("jwks.fetch", 2) if s.trace_id == good.trace_id]
    assert fetches, "the first token's key fetches belong to its request's trace"
    assert all(s.kind == 3 and s.attributes["server.address"] == "127.0.0.1" for s in fetches)

    created = collector.wait_for("iam.CreateRole")
    assert created and created[0].attributes["rpc.service"] == "iam"
    statements = [s for s in collector.spans() if s.trace_id == created[0].trace_id]
    inserts = [s for s in statements if s.name == "INSERT"]
    assert inserts and inserts[0].attributes["db.system.name"] == "sqlite"
    assert {s.parent for s in inserts} <= {s.span_id for s in statements}

    untraced = {"GET /healthz", "GET /metrics"}
    assert not untraced & {span.name for span in collector.spans()}
    _secrets_absent(
        collector,
        token,
        ADMIN_SECRET,
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


class TracedGateway:
    """``webfed gateway s3`` with traces on (the harness's gateway drops ``WEBFED_*``)."""

    def __init__(self, federation: Federation, upstream: str, collector: Collector) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = federation.server.data_dir / f"gateway-traced-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
        env.update(
            TRACING_ENV,
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{collector.url}/v1/traces",
            WEBFED_DATA_DIR=str(federation.server.data_dir),
            WEBFED_UPSTREAM_ACCESS_KEY_ID=UPSTREAM_KEY_ID,
            WEBFED_UPSTREAM_SECRET_ACCESS_KEY=UPSTREAM_SECRET,
        )
        command = [sys.executable, "-m", "webfed", "gateway", "s3", "--upstream", upstream]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, "--listen", f"127.0.0.1:{self.port}"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(f"{self.url}/__webfed/healthz", self.process, log)


def test_gateway_spans_with_the_upstream_call(
    federation: Federation, collector: Collector, tmp_path_factory: pytest.TempPathFactory
) -> None:
    moto = MotoServer(tmp_path_factory.mktemp("traced-upstream"))
    gateway: TracedGateway | None = None
    try:
        moto.client("s3").create_bucket(Bucket=BUCKET)
        gateway = TracedGateway(federation, moto.url, collector)
        statement = {"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        role = federation.role(inline={"Version": "2012-10-17", "Statement": [statement]})
        credentials = federation.assume(role, federation.token())["Credentials"]
        s3 = boto3.client(
            "s3",
            endpoint_url=gateway.url,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(signature_version="s3v4"),
        )
        s3.put_object(Bucket=BUCKET, Key="save.bin", Body=b"level 4")
        presigned = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "missing.bin"}
        )
        assert httpx.get(presigned, timeout=10).status_code == 404

        put = collector.wait_for("s3.PutObject")
        assert len(put) == 1
        span = put[0]
        assert span.service == "webfed-gateway-s3"
        assert span.attributes["rpc.service"] == "s3"
        assert span.attributes["rpc.method"] == "PutObject"
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["aws.request_id"]
        upstream = [s for s in collector.wait_for("upstream PUT") if s.parent == span.span_id]
        assert len(upstream) == 1
        assert upstream[0].attributes["http.response.status_code"] == 200
        assert upstream[0].attributes["server.address"] == moto.url.removeprefix("http://")

        missing = collector.wait_for("s3.GetObject")
        assert missing and missing[0].attributes["error.type"] == "NoSuchKey"
        _secrets_absent(
            collector,
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
            UPSTREAM_SECRET,
        )
        signature = presigned.rpartition("X-Amz-Signature=")[2]
        assert signature.encode() not in b"".join(collector.exports)
    finally:
        if gateway is not None:
            _stop(gateway.process)
        moto.stop()


def test_off_by_default_nothing_is_imported() -> None:
    program = (
        "import sys\n"
        "from webfed.http.app import create_app_from_env\n"
        "from webfed.gateway.factory import build_gateway\n"
        "app = create_app_from_env()\n"
        "assert type(app).__name__ == 'AwsFrontDoor', type(app)\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry', 'webfed.telemetry'))]\n"
        "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "OTEL_"))}
    env.update(
        WEBFED_ADMIN_ACCESS_KEY_ID="AKIAEXAMPLEADMIN0001", WEBFED_ADMIN_SECRET_ACCESS_KEY="x"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

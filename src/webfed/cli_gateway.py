"""``webfed gateway s3|dynamodb``: run a verifying, authorizing, re-signing reverse proxy.

    webfed gateway s3 --listen 127.0.0.1:8701 --upstream http://127.0.0.1:9000 --data-dir DIR
    webfed gateway dynamodb --listen 127.0.0.1:8702 --upstream http://127.0.0.1:8000

The upstream's own credentials come from ``WEBFED_UPSTREAM_ACCESS_KEY_ID``,
``WEBFED_UPSTREAM_SECRET_ACCESS_KEY`` and optionally ``WEBFED_UPSTREAM_SESSION_TOKEN``; the
database and master key options are those of ``webfed serve`` (the gateway must share them).
See ``docs/gateway.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from webfed.cli_options import resolve_settings, store_options
from webfed.logs import configure_logging

__all__ = ["gateway"]

_DEFAULT_PORTS = {"s3": 8701, "dynamodb": 8702}


def _listen(value: str | None, service: str) -> tuple[str, int]:
    if not value:
        return "127.0.0.1", _DEFAULT_PORTS[service]
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter("must be HOST:PORT", param_hint="--listen")
    return host.strip("[]") or "127.0.0.1", int(port)


def _split(values: tuple[str, ...], variable: str) -> tuple[str, ...]:
    items = list(values)
    if not items and os.environ.get(variable):
        items = os.environ[variable].split(",")
    return tuple(item.strip() for item in items if item.strip())


def _run(service: str, options: dict[str, Any]) -> None:
    from webfed.errors import MasterKeyError
    from webfed.gateway.factory import GatewayConfig, build_gateway
    from webfed.gateway.upstream import UpstreamCredentials

    host, port = _listen(options.pop("listen"), service)
    upstream_url: str = options.pop("upstream")
    upstream_region = options.pop("upstream_region") or os.environ.get(
        "WEBFED_UPSTREAM_REGION", "us-east-1"
    )
    cors = _split(options.pop("cors_origin"), "WEBFED_GATEWAY_CORS_ORIGINS")
    suffixes = _split(options.pop("virtual_host_suffix", ()), "WEBFED_GATEWAY_VIRTUAL_HOSTS")
    audit = options.pop("audit") or os.environ.get("WEBFED_GATEWAY_AUDIT", "errors")
    settings = resolve_settings(options)
    from webfed.tls import TlsFilesError, uvicorn_tls_options, warn_if_key_is_shared

    try:
        tls_cert, tls_key = uvicorn_tls_options(settings)
    except TlsFilesError as error:
        raise click.UsageError(str(error)) from None
    configure_logging(settings.log_format, settings.log_level)
    warn_if_key_is_shared(settings)
    try:
        credentials = UpstreamCredentials.from_environment(os.environ)
        config = GatewayConfig(
            service, upstream_url, credentials, upstream_region, cors, suffixes, audit
        )
        app: Any = build_gateway(settings, config)
    except (ValueError, MasterKeyError) as error:
        raise click.UsageError(str(error)) from error
    if settings.otel_exporter != "none":
        from webfed import telemetry  # traces: imported only when asked for

        if telemetry.enabled(settings):
            app = telemetry.instrument_gateway(app, settings)
    import uvicorn

    scheme = "https" if tls_cert else "http"
    click.echo(f"webfed {service} gateway on {scheme}://{host}:{port} -> {upstream_url}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        server_header=False,
        lifespan="on",
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


def _gateway_options(function: Any) -> Any:
    for option in reversed(
        (
            click.option("--listen", help="HOST:PORT to listen on."),
            click.option("--upstream", required=True, help="The upstream's URL."),
            click.option(
                "--upstream-region",
                help="Region to sign upstream requests for (WEBFED_UPSTREAM_REGION).",
            ),
            click.option(
                "--cors-origin",
                multiple=True,
                help="Allowed browser origin, repeatable, * for any (WEBFED_GATEWAY_CORS_ORIGINS).",
            ),
            click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"])),
            click.option(
                "--tls-cert",
                type=click.Path(path_type=Path),
                help="Serve HTTPS: certificate PEM (WEBFED_TLS_CERT).",
            ),
            click.option(
                "--tls-key",
                type=click.Path(path_type=Path),
                help="Serve HTTPS: private key PEM (WEBFED_TLS_KEY).",
            ),
            click.option(
                "--audit",
                type=click.Choice(["all", "errors", "off"]),
                help="Audit events for every request, only refusals and failures (default), "
                "or none (WEBFED_GATEWAY_AUDIT).",
            ),
        )
    ):
        function = option(function)
    return store_options(function)


@click.group()
def gateway() -> None:
    """Verify, authorize and re-sign requests to an S3 or DynamoDB upstream."""


@gateway.command("s3")
@_gateway_options
@click.option(
    "--virtual-host-suffix",
    multiple=True,
    help="Base domain for virtual-hosted-style buckets (BUCKET.SUFFIX); repeatable.",
)
def s3(**options: Any) -> None:
    """Front an S3-compatible upstream (MinIO, Ceph RGW, SeaweedFS, Garage, moto...)."""
    _run("s3", options)


@gateway.command("dynamodb")
@_gateway_options
def dynamodb(**options: Any) -> None:
    """Front a DynamoDB-compatible upstream (DynamoDB Local, ScyllaDB Alternator, moto...)."""
    _run("dynamodb", options)


if __name__ == "__main__":  # the lead registers the group on ``webfed``; tests run it directly
    gateway()

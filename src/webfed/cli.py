"""The ``webfed`` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from webfed import __version__
from webfed.admin import PROFILE, load_or_create_admin_credentials
from webfed.cli_options import resolve_settings, store_options
from webfed.logs import configure_logging, get_logger
from webfed.settings import Settings

__all__ = ["main"]

_log = get_logger("webfed.cli")


def _export_to_workers(settings: Settings, access_key_id: str, secret: str) -> None:
    """Hand the resolved settings to uvicorn's workers, which rebuild them from the environment."""
    for name, value in settings.model_dump(exclude_none=True).items():
        if name in ("admin_secret_access_key", "master_key"):
            continue
        os.environ[f"WEBFED_{name.upper()}"] = str(value)
    os.environ["WEBFED_ADMIN_ACCESS_KEY_ID"] = access_key_id
    os.environ["WEBFED_ADMIN_SECRET_ACCESS_KEY"] = secret


def _check_dev_idp(settings: Settings) -> None:
    """The development provider signs anyone in as anyone: loopback listeners only, unless
    forced; exit code 2 (a usage error) otherwise."""
    from webfed.devidp import MOUNT_PATH, is_loopback_host

    if not is_loopback_host(settings.host) and not settings.dev_idp_force:
        raise click.UsageError(
            f"--dev-idp lets anyone sign in as anyone, so it needs a loopback --host "
            f"(127.0.0.1, ::1, localhost), not {settings.host!r}; "
            "add --dev-idp-force to serve it there anyway"
        )
    _log.warning(
        "development identity provider enabled: NOT for production",
        issuer=settings.effective_public_url + MOUNT_PATH,
    )


@click.group()
@click.version_option(__version__, prog_name="webfed")
def main() -> None:
    """webfed: self-hosted, AWS-compatible web identity federation."""


@main.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8700).")
@store_options
@click.option("--public-url", help="The URL clients use to reach this server.")
@click.option("--workers", type=int, help="Worker processes (default 1).")
@click.option(
    "--allow-http-issuers", is_flag=True, default=None, help="Accept http:// issuers (tests only)."
)
@click.option("--log-format", type=click.Choice(["console", "json"]))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--dev-idp",
    is_flag=True,
    default=None,
    help="Serve a development OpenID provider under /dev-idp (NOT for production).",
)
@click.option(
    "--dev-idp-force",
    is_flag=True,
    default=None,
    help="Allow --dev-idp on a listener that is not a loopback address, and for any Host header.",
)
@click.option("--tls-cert", type=click.Path(path_type=Path), help="Serve HTTPS: certificate PEM.")
@click.option("--tls-key", type=click.Path(path_type=Path), help="Serve HTTPS: private key PEM.")
def serve(**options: Any) -> None:
    """Run the webfed server."""
    settings = resolve_settings(options)
    from webfed.tls import TlsFilesError, uvicorn_tls_options, warn_if_key_is_shared

    try:
        tls_cert, tls_key = uvicorn_tls_options(settings)
    except TlsFilesError as error:
        raise click.UsageError(str(error)) from None
    configure_logging(settings.log_format, settings.log_level)
    warn_if_key_is_shared(settings)
    if settings.dev_idp:
        _check_dev_idp(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from webfed.storage import migrate

    migrate(settings.effective_database_url)
    secret = settings.admin_secret_access_key
    admin, created = load_or_create_admin_credentials(
        settings.data_dir,
        settings.admin_access_key_id,
        secret.get_secret_value() if secret is not None else None,
    )
    if created is not None:
        click.echo(f"Admin credentials written to {created} (profile '{PROFILE}').", err=True)
    from webfed.master_key import load_or_create_master_key

    master_secret = settings.master_key.get_secret_value() if settings.master_key else None
    if load_or_create_master_key(settings.data_dir, master_secret)[1]:
        click.echo(f"Master key created in {settings.data_dir} (keep it; back it up).", err=True)
    if settings.allow_http_issuers:
        _log.warning("http:// issuers are accepted: for local development and tests only")
    if settings.config is not None:
        from webfed.cli_declarative import apply_at_start

        apply_at_start(settings, settings.config)
    _export_to_workers(settings, admin.access_key_id, admin.secret_access_key)
    import uvicorn

    from webfed.http.server_protocol import CoalescingHttpToolsProtocol

    click.echo(f"webfed listening on {settings.effective_public_url}", err=True)
    uvicorn.run(
        "webfed.http.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=CoalescingHttpToolsProtocol,  # one write per response (see its module)
        access_log=False,
        log_level="warning",
        server_header=False,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@store_options
def db_upgrade(**options: Any) -> None:
    """Apply every pending migration."""
    settings = resolve_settings(options)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from webfed.storage import migrate

    migrate(settings.effective_database_url)
    click.echo("database is up to date", err=True)


def _register_subcommands() -> None:
    from webfed.cli_audit import audit
    from webfed.cli_declarative import apply, export
    from webfed.cli_gateway import gateway
    from webfed.cli_keys import keys
    from webfed.cli_ops import backup, restore
    from webfed.cli_policy import policy
    from webfed.cli_sessions import sessions
    from webfed.demo import demo

    main.add_command(policy)
    main.add_command(apply)
    main.add_command(export)
    main.add_command(keys)
    main.add_command(audit)
    main.add_command(gateway)
    main.add_command(demo)
    main.add_command(backup)
    main.add_command(restore)
    main.add_command(sessions)


_register_subcommands()

"""One run of the demo: the ports claimed, the example's file rendered, the children started,
the page served until a signal or a child's death, then everything stopped."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

from webfed.demo.errors import DemoError
from webfed.demo.game import GameFile, render_game_file
from webfed.demo.page import PageConfig, build_page_app, main_listener_allows, page_settings
from webfed.demo.ports import Ports, claim_ports
from webfed.demo.processes import (
    DemoSignals,
    Interrupted,
    Processes,
    child_env,
    exited,
    start_services,
)
from webfed.demo.provider import Provider, ProviderEndpoints
from webfed.demo.relay import RELAY_PATH, TokenRelay

__all__ = ["SignIn", "run_demo"]


@dataclass(frozen=True)
class SignIn:
    """The provider of ``--oidc-issuer`` and its discovered endpoints."""

    provider: Provider
    endpoints: ProviderEndpoints


def run_demo(ports: Ports, data_dir: Path, game_dir: Path, sign_in: SignIn | None = None) -> None:
    """Starts everything, serves the page until a signal, stops everything.

    The ports are claimed first: with one taken, nothing is written or started.
    """
    listener = claim_ports(ports)
    try:
        _run(listener, ports, data_dir, game_dir, sign_in)
    finally:
        listener.close()


def _token_relay_of(ports: Ports, sign_in: SignIn | None) -> TokenRelay | None:
    if sign_in is None or sign_in.provider.client_secret is None:
        return None
    assert sign_in.endpoints.client_authentication is not None  # discovered with the secret
    origin = ports.url("game")
    return TokenRelay(
        token_endpoint=sign_in.endpoints.token_endpoint,
        client_id=sign_in.provider.client_id,
        client_secret=sign_in.provider.client_secret,
        client_authentication=sign_in.endpoints.client_authentication,
        redirect_uris=(f"{origin}/", f"{origin}/index.html"),  # the page's redirectUri()
    )


def _run(
    listener: socket.socket,
    ports: Ports,
    data_dir: Path,
    game_dir: Path,
    sign_in: SignIn | None,
) -> None:
    from webfed.admin import load_or_create_admin_credentials

    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir.resolve()
    provider = sign_in.provider if sign_in is not None else None
    game = render_game_file(
        game_dir / "webfed.yaml", data_dir / "game-webfed.yaml", ports.webfed, provider
    )
    admin, _ = load_or_create_admin_credentials(data_dir, None, None)
    processes = Processes(data_dir / "logs", child_env())
    failures: list[str] = []

    def watchdog() -> str | None:
        gone = exited(processes)
        if gone is not None:
            failures.append(gone)
        return gone

    with DemoSignals(processes) as signals:
        try:
            click.echo(f"webfed demo: starting (logs in {processes.log_dir})", err=True)
            start_services(processes, ports, data_dir, game, provider)
            endpoints = sign_in.endpoints if sign_in is not None else _dev_endpoints(game)
            relay = not main_listener_allows(ports.url("game"), ports.url("webfed"))
            page = PageConfig(
                game_dir=game_dir,
                page_origin=ports.url("game"),
                webfed_url=ports.url("webfed"),
                page=page_settings(ports, game, endpoints, relay, provider),
                admin_key_id=admin.access_key_id,
                admin_secret=admin.secret_access_key,
                relay=relay,
                token_relay=_token_relay_of(ports, sign_in),
            )
            app = build_page_app(page, watchdog)
            _serve_page(app, listener, ports, data_dir, relay, sign_in)
        except Interrupted:
            pass
        finally:
            try:
                signals.stopping()
            except Interrupted:  # arrived in the instant before: it asked for this very stop
                signals.stopping()
            click.echo("webfed demo: stopping", err=True)
            processes.stop()
            click.echo("webfed demo: stopped", err=True)
    if failures:
        raise DemoError(failures[0])


def _discover(issuer: str) -> dict[str, Any]:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=5.0)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise DemoError(
            f"the development identity provider's discovery failed: {url}: {error}"
        ) from error
    return document


def _dev_endpoints(game: GameFile) -> ProviderEndpoints:
    discovery = _discover(game.issuer)
    return ProviderEndpoints(discovery["authorization_endpoint"], discovery["token_endpoint"], None)


def _serve_page(
    app: Any,
    listener: socket.socket,
    ports: Ports,
    data_dir: Path,
    relay: bool,
    sign_in: SignIn | None = None,
) -> None:
    import uvicorn

    # No access log: the token relay's requests carry authorization codes.
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    webfed = "webfed (STS, IAM, Cognito Identity, dev IdP)"
    if sign_in is not None:
        webfed = "webfed (STS, IAM, Cognito Identity)"
    lines = [
        f"  {webfed:<44}  {ports.url('webfed')}",
        f"  S3 gateway                                    {ports.url('s3')}",
        f"  DynamoDB gateway                              {ports.url('dynamodb')}",
        f"  moto (the upstream, in memory)                {ports.url('moto')}",
        f"  administrator credentials                     {data_dir / 'admin-credentials'}"
        " (profile webfed)",
    ]
    if sign_in is not None:
        lines.append(_provider_line(sign_in))
    if relay:
        lines.append(
            "  (webfed answers no CORS preflight: the page reaches Cognito Identity through "
            "its own /cognito-identity)"
        )
    click.echo("\n".join(lines), err=True)
    # One line on standard output, for scripts and tests waiting for the demo.
    click.echo(f"webfed demo ready: {ports.url('game')}/")
    sys.stdout.flush()
    server.run(sockets=[listener])


def _provider_line(sign_in: SignIn) -> str:
    provider = sign_in.provider
    how = "the page calls its token endpoint"
    if provider.client_secret is not None:
        method = sign_in.endpoints.client_authentication
        how = f"token requests through the page's {RELAY_PATH}, with the client secret ({method})"
    return (
        f"  {'OpenID provider':<44}  {provider.issuer}\n"
        f"  {'':<44}  client {provider.client_id}; {how}"
    )

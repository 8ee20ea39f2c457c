"""The ``webfed demo`` click command: its options, checked before anything starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from webfed.demo.errors import DemoError
from webfed.demo.game import find_game_dir
from webfed.demo.ports import DEFAULT_PORTS, Ports
from webfed.demo.provider import DEFAULT_SCOPE, discover_provider, provider_from_options
from webfed.demo.run import SignIn, run_demo

__all__ = ["demo"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _port_option(name: str, what: str) -> Callable[[_F], _F]:
    return click.option(
        f"--{name}-port" if name != "webfed" else "--port",
        f"{name}_port",
        type=click.IntRange(1, 65535),
        default=DEFAULT_PORTS[name],
        show_default=True,
        help=what,
    )


@click.command()
@_port_option("webfed", "webfed serve (STS, IAM, Cognito Identity, the dev IdP).")
@_port_option("s3", "The S3 gateway.")
@_port_option("dynamodb", "The DynamoDB gateway.")
@_port_option("game", "The game page.")
@_port_option("moto", "moto_server, the upstream S3 and DynamoDB.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-data"),
    show_default=True,
    help="webfed's database, keys, admin credentials and the logs.",
)
@click.option(
    "--game-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The game example (default: examples/game of the repository).",
)
@click.option(
    "--oidc-issuer",
    metavar="URL",
    help="Sign players in with this OpenID provider instead of the dev IdP "
    "(https://, or http:// on loopback).",
)
@click.option("--oidc-client-id", metavar="ID", help="The page's client id at that provider.")
@click.option("--oidc-scope", help=f"The scope asked for.  [default: {DEFAULT_SCOPE}]")
@click.option(
    "--oidc-client-secret-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The client's secret (one line): the page's token requests then go through the "
    "demo, which adds it; it never reaches the browser.",
)
def demo(
    webfed_port: int,
    s3_port: int,
    dynamodb_port: int,
    game_port: int,
    moto_port: int,
    data_dir: Path,
    game_dir: Path | None,
    oidc_issuer: str | None,
    oidc_client_id: str | None,
    oidc_scope: str | None,
    oidc_client_secret_file: Path | None,
) -> None:
    """Run the game example: webfed, its dev IdP, S3/DynamoDB gateways, moto and the page."""
    ports = Ports(webfed_port, s3_port, dynamodb_port, game_port, moto_port)
    if len(set(vars(ports).values())) != len(vars(ports)):
        raise click.UsageError("every port must be different")
    provider = provider_from_options(
        oidc_issuer, oidc_client_id, oidc_scope, oidc_client_secret_file
    )
    try:
        import moto  # noqa: F401
    except ImportError as error:
        raise DemoError("moto is needed: pip install 'webfed[demo]'") from error
    game = find_game_dir(game_dir)
    # The provider answers before anything starts: a typo in its URL stops the demo here.
    sign_in = SignIn(provider, discover_provider(provider)) if provider is not None else None
    run_demo(ports, data_dir, game, sign_in)

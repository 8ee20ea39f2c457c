"""The game example of ``examples/game``: where it is, and its declarative file rendered for
the demo's port and provider."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from webfed.demo.errors import DemoError
from webfed.demo.ports import DEFAULT_PORTS, HOST
from webfed.demo.provider import Provider, login_key_of

__all__ = ["BUCKET", "TABLE", "GameFile", "find_game_dir", "render_game_file"]

BUCKET = "game-assets"
TABLE = "game-scores"
# The address examples/game/webfed.yaml is written for (its provider URL and login key).
_FILE_ADDRESS = f"{HOST}:{DEFAULT_PORTS['webfed']}"


def find_game_dir(explicit: Path | None = None) -> Path:
    """``examples/game`` of the repository webfed runs from.

    The example is not part of the installed package: it is found next to the source tree (a
    clone, installed editable or run with ``python -m webfed``), then under the current
    directory (a clone, with webfed installed from elsewhere).
    """
    candidates = (
        [explicit]
        if explicit is not None
        else [
            Path(__file__).resolve().parents[3] / "examples" / "game",
            Path.cwd() / "examples" / "game",
        ]
    )
    for candidate in candidates:
        if (candidate / "webfed.yaml").is_file() and (candidate / "dist" / "game.js").is_file():
            return candidate
    where = ", ".join(str(candidate) for candidate in candidates)
    raise DemoError(
        f"the game example was not found (looked in {where}). Run `webfed demo` from a clone "
        "of the webfed repository, or pass --game-dir DIR (DIR/webfed.yaml and DIR/dist/game.js)."
    )


@dataclass(frozen=True)
class GameFile:
    """What the demo reads from the (rendered) declarative file."""

    path: Path
    pool_id: str
    region: str
    issuer: str
    client_id: str

    @property
    def login_key(self) -> str:
        """The pool's ``Logins`` key for the provider: its URL without the scheme."""
        return login_key_of(self.issuer)


def render_game_file(
    source: Path, target: Path, webfed_port: int, provider: Provider | None = None
) -> GameFile:
    """Writes the example's declarative file for a webfed on ``webfed_port``.

    The file names the development provider by its URL, which contains webfed's address; when
    the demo runs on another port, every ``127.0.0.1:8700`` becomes ``127.0.0.1:PORT``. With
    ``provider`` (``--oidc-issuer``), that provider replaces the development one: it is the
    file's only provider, with the page's client id, and the one the identity pools trust.
    """
    text = source.read_text(encoding="utf-8")
    text = text.replace(_FILE_ADDRESS, f"{HOST}:{webfed_port}")
    if provider is not None:
        text = _with_provider(yaml.safe_load(text), provider, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    document = yaml.safe_load(text)
    wanted = provider.issuer if provider is not None else None
    try:
        pool = document["identity_pools"][0]
        issuer = next(
            entry["url"]
            for entry in document["providers"]
            if entry["url"] == wanted or (wanted is None and str(entry["url"]).endswith("/dev-idp"))
        )
        client_id = next(
            entry["client_ids"][0] for entry in document["providers"] if entry["url"] == issuer
        )
        pool_id = str(pool["id"])
    except (KeyError, IndexError, TypeError, StopIteration) as error:
        raise DemoError(
            f"{source}: expected an identity pool with an id and the /dev-idp provider "
            f"with a client id ({error!r})"
        ) from error
    region = pool_id.split(":", 1)[0]
    return GameFile(target, pool_id, region, str(issuer), str(client_id))


def _with_provider(document: Any, provider: Provider, source: Path) -> str:
    """The example's declarative document with ``provider`` in place of the development one."""
    from webfed.declarative.source import Dumper

    try:
        pools = document["identity_pools"]
        settings = document.setdefault("settings", {})
        for pool in pools:
            pool["openid_connect_providers"] = [provider.issuer]
    except (KeyError, TypeError, AttributeError) as error:
        raise DemoError(f"{source}: expected settings and identity pools ({error!r})") from error
    # Only an http:// issuer (on loopback: checked with the options) needs http issuers.
    settings["allow_http_issuers"] = provider.issuer.startswith("http://")
    document["providers"] = [{"url": provider.issuer, "client_ids": [provider.client_id]}]
    header = (
        f"# {source.name} for webfed demo --oidc-issuer {provider.issuer}: the identity pool\n"
        "# trusts that provider (and no other) for the page's client id. Written by the demo.\n"
    )
    return header + yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True)

"""``webfed demo``: the game example of ``examples/game`` running on this machine, one command.

    webfed demo                 # then open http://127.0.0.1:8710/
    webfed demo --port 9700 --game-port 9710 --data-dir /tmp/demo

It starts, all on 127.0.0.1 and each in its own process:

* ``webfed serve --dev-idp --allow-http-issuers --config examples/game/webfed.yaml`` (8700): the
  development identity provider, the IAM roles and the identity pool of the example;
* ``moto_server`` (8711), the S3 and DynamoDB the game's data lives in (in memory), where the
  demo creates the bucket ``game-assets`` and the table ``game-scores``;
* ``webfed gateway s3`` (8701) and ``webfed gateway dynamodb`` (8702) in front of moto, which
  let the browser in (CORS) with its identity-pool credentials;

and serves the page itself (8710): ``index.html``, the committed bundle ``dist/game.js``,
``/config.json`` (every endpoint the page needs) and ``POST /admin/decode``, which decodes an
encoded authorization message with the administrator's credentials on the server side so that
the page can show *why* a call was refused without ever holding the administrator's keys.

``--oidc-issuer URL --oidc-client-id ID`` signs players in with another OpenID provider instead
of the development one (which is then not started): its discovery document is read before
anything starts, the rendered declarative file registers it as the pool's only provider, and
``config.json`` points the page at it. With ``--oidc-client-secret-file``, the page's token
requests go to ``POST /oidc/token``, which adds the client secret (RFC 6749 section 2.3.1) and
passes them on to the provider: the secret never reaches the browser.

Ctrl-C or SIGTERM stops everything (the children are asked to stop, then killed after ten
seconds; on Linux they are also told to stop should the demo itself die). See docs/demo.md.

The package, one job a module: ``command`` (the options), ``provider`` (``--oidc-*`` and the
provider's discovery), ``game`` (the example and its rendered file), ``ports``, ``processes``
(the children), ``page`` (the page's server), ``relay`` (``POST /oidc/token``) and ``run`` (one
run, from the ports claimed to everything stopped).
"""

from webfed.demo.command import demo
from webfed.demo.errors import DemoError
from webfed.demo.game import GameFile, find_game_dir, render_game_file
from webfed.demo.page import PageConfig, build_page_app
from webfed.demo.ports import DEFAULT_PORTS
from webfed.demo.provider import (
    Provider,
    ProviderEndpoints,
    discover_provider,
    provider_from_options,
)
from webfed.demo.relay import TokenRelay, client_authentication

__all__ = [
    "DEFAULT_PORTS",
    "DemoError",
    "GameFile",
    "PageConfig",
    "Provider",
    "ProviderEndpoints",
    "TokenRelay",
    "build_page_app",
    "client_authentication",
    "demo",
    "discover_provider",
    "find_game_dir",
    "provider_from_options",
    "render_game_file",
]

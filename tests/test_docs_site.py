"""The documentation site builds cleanly and is self-contained: its diagrams draw offline.

``mkdocs.yml`` validates every link, anchor and nav entry at warning level and builds with
``strict: true``, so one broken link fails the build; the first test runs that build in CI.

mkdocs-material draws Mermaid diagrams with a global ``mermaid`` and, when the page has none,
fetches ``mermaid@11`` from unpkg.com, so a site read offline or behind a firewall shows the
diagrams' source text. The site ships its own copy instead (``docs/vendor/`` installs the pinned
npm release, ``extra_javascript`` loads it). The last test serves the built site on 127.0.0.1 to
headless Chromium with every other address refused, and checks that each diagram of
``docs/concepts.md`` became a drawing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import headless_chromium

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "docs" / "vendor"
JAVASCRIPTS = REPO / "docs" / "assets" / "javascripts"
TIMEOUT_MS = 30_000

# dist/mermaid.min.js of https://registry.npmjs.org/mermaid/-/mermaid-11.17.2.tgz, the tarball
# docs/vendor/package-lock.json pins by its sha512. For a new release: bump package.json, run
# `npm install && npm run vendor` in docs/vendor, and put the new file's sha256 here.
MERMAID_VERSION = "11.17.2"
MERMAID_SHA256 = "581ed7d74bd9048d0e3a91363927d72ef22942d7722546b27f7cc29e35390eb8"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built once with ``mkdocs build --strict``; the build must print no warning.

    Never ``--quiet``: it raises mkdocs' log level above WARNING, so warnings are neither
    printed nor counted, and ``--strict`` then passes a site full of broken links.
    """
    directory = tmp_path_factory.mktemp("docs") / "site"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(REPO / "mkdocs.yml"), "-d", str(directory)],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    return directory


def test_site_builds_without_a_single_warning(site: Path) -> None:
    """Every page in the nav, every link and anchor resolves; the npm installer is left out."""
    assert (site / "reference" / "operations" / "index.html").is_file()
    assert (site / "assets" / "javascripts" / "mermaid.min.js").is_file()
    assert not (site / "vendor").exists()


def test_pages_load_nothing_from_other_sites(site: Path) -> None:
    """No page pulls a script, stylesheet, font or image from another host (links are fine)."""
    remote = re.compile(
        r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I
    )
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    offending = {
        page.relative_to(site).as_posix() for page in pages if remote.search(page.read_text())
    }
    assert not offending, offending
    concepts = (site / "concepts" / "index.html").read_text(encoding="utf-8")
    assert '<script src="../assets/javascripts/mermaid.min.js"></script>' in concepts


def test_vendored_mermaid_is_the_pinned_npm_release() -> None:
    """The committed file is the pinned release's, byte for byte, with its MIT licence beside it."""
    pinned = json.loads((VENDOR / "package.json").read_text())["devDependencies"]["mermaid"]
    locked = json.loads((VENDOR / "package-lock.json").read_text())["packages"]
    assert pinned == MERMAID_VERSION == locked["node_modules/mermaid"]["version"]
    assert locked["node_modules/mermaid"]["license"] == "MIT"
    script = (JAVASCRIPTS / "mermaid.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == MERMAID_SHA256
    assert script.rstrip().endswith(
        b'globalThis["mermaid"] = globalThis.__esbuild_esm_mermaid_nm["mermaid"].default;'
    )
    licence = (JAVASCRIPTS / "mermaid.LICENSE").read_text()
    assert licence.startswith("The MIT License (MIT)") and "Knut Sveidqvist" in licence


@pytest.fixture(scope="module")
def served_site(site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1; yields its base URL."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Not on the test's output: a page view is a dozen requests."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_chromium()


def _mermaid_drawings(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The root element of each ``div.mermaid``'s shadow tree, from a CDP DOM snapshot.

    Material attaches each drawing in a *closed* shadow root, out of reach of the page's own
    scripts and of Playwright's locators; the DevTools protocol's ``pierce`` still sees it.
    """
    attributes = node.get("attributes", [])
    classes = dict(zip(attributes[::2], attributes[1::2], strict=True)).get("class", "")
    if node.get("nodeName") == "DIV" and "mermaid" in classes.split():
        for shadow in node.get("shadowRoots", []):
            yield from shadow.get("children", [])
    for child in node.get("children", []) + node.get("shadowRoots", []):
        yield from _mermaid_drawings(child)


def _texts(node: dict[str, Any]) -> Iterator[str]:
    if node.get("nodeType") == 3:  # a text node
        yield node.get("nodeValue", "")
    for child in node.get("children", []):
        yield from _texts(child)


def test_concepts_diagrams_draw_with_no_network_but_the_site(
    browser: Any, served_site: str
) -> None:
    """Each Mermaid fence of concepts.md becomes a sequence-diagram SVG, with the CDN refused."""
    source = (REPO / "docs" / "concepts.md").read_text(encoding="utf-8")
    diagrams = source.count("```mermaid\nsequenceDiagram\n")
    assert diagrams == 3  # AssumeRoleWithWebIdentity, the enhanced flow, the basic flow
    context = browser.new_context()
    refused: list[str] = []
    errors: list[str] = []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(served_site):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", only_the_site)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(served_site + "concepts/")
        page.wait_for_function(
            "n => document.querySelectorAll('div.mermaid').length === n"
            " && !document.querySelector('pre.mermaid')",
            arg=diagrams,
            timeout=TIMEOUT_MS,
        )
        snapshot = context.new_cdp_session(page).send(
            "DOM.getDocument", {"depth": -1, "pierce": True}
        )
    finally:
        context.close()
    drawings = list(_mermaid_drawings(snapshot["root"]))
    assert [drawing["nodeName"] for drawing in drawings] == ["svg"] * diagrams
    for drawing in drawings:
        attributes = drawing["attributes"]
        described = dict(zip(attributes[::2], attributes[1::2], strict=True))
        assert described["aria-roledescription"] == "sequence", described  # not "error"
    drawn = " ".join(" ".join(_texts(drawing)) for drawing in drawings)
    for call in ("AssumeRoleWithWebIdentity", "GetCredentialsForIdentity", "GetOpenIdToken"):
        assert call in drawn
    assert not errors, errors
    assert not refused, refused

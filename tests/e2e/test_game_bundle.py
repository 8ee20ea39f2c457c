"""The committed bundle examples/game/dist/game.js is built from the committed sources.

``webfed demo`` serves the committed bundle, so a change to the page's code that was not
rebuilt would silently not ship. The bundle's first line records a digest of its inputs
(build.mjs, package-lock.json, src/*.js; see build.mjs); this recomputes it with no Node.js.
Where Node.js and examples/game/node_modules are present (CI runs ``npm ci`` there), the
bundle is also rebuilt and must come out byte for byte the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import GAME_DIR

BUNDLE = GAME_DIR / "dist" / "game.js"
BANNER = re.compile(r"^// webfed game example bundle; sources sha256 ([0-9a-f]{64})$")


def sources_digest() -> str:
    """build.mjs's sourcesDigest(): sha256 over "PATH\\nSHA256(CONTENT)\\n", sorted paths."""
    paths = ["build.mjs", "package-lock.json"]
    paths += [f"src/{path.name}" for path in (GAME_DIR / "src").glob("*.js")]
    digest = hashlib.sha256()
    for path in sorted(paths):
        content = hashlib.sha256((GAME_DIR / path).read_bytes()).hexdigest()
        digest.update(f"{path}\n{content}\n".encode())
    return digest.hexdigest()


def test_the_bundle_records_the_digest_of_the_current_sources() -> None:
    first_line = BUNDLE.read_text(encoding="utf-8").split("\n", 1)[0]
    recorded = BANNER.match(first_line)
    assert recorded, f"{BUNDLE} does not start with the build banner: {first_line[:120]}"
    assert recorded.group(1) == sources_digest(), (
        "examples/game changed since dist/game.js was built: run `npm ci && npm run build` "
        "in examples/game and commit dist/game.js"
    )


def test_rebuilding_gives_the_committed_bundle(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (GAME_DIR / "node_modules" / "esbuild").is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must have node and examples/game/node_modules (.ci/run: npm ci)")
        pytest.skip("node or examples/game/node_modules missing (npm ci in examples/game)")
    rebuilt = tmp_path / "game.js"
    subprocess.run(
        [node, "build.mjs", str(rebuilt)],
        cwd=GAME_DIR,
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert rebuilt.read_bytes() == BUNDLE.read_bytes()


def test_the_bundle_is_made_for_browsers() -> None:
    text = BUNDLE.read_text(encoding="utf-8")
    # No Node.js built-ins and no file- or process-based credential providers in the page.
    assert not re.search(r"""from\s*["']node:""", text)
    assert "GetCredentialsForIdentity" in text and "FetchHttpHandler" in text

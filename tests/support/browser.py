"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium``, driven by Playwright.

Playwright's own browser download is not available here, so the tests use the distribution's
Chromium, which ``.ci/run`` installs. Without it a browser test is skipped, except in CI (``CI``
set), where a missing browser is a failure rather than a quiet skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def headless_chromium() -> Iterator[Any]:
    """The body of a browser fixture: a launched Playwright ``Browser``, closed afterwards."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} is missing; CI installs it (.ci/run: apt-get install chromium)"
            )
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()

"""Pytest fixtures for the test OpenID issuer.

Register in a conftest with ``pytest_plugins = ["tests.support.fixtures"]`` (top-level
conftest) or import the fixtures by name. ``oidc_issuer`` is one server per test session,
reset to a fresh key, mode ``normal`` and zero counters before each test;
``fresh_oidc_issuer`` is a server of its own that the test may stop and start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.oidc_issuer import OidcTestIssuer

__all__ = ["fresh_oidc_issuer", "oidc_issuer", "oidc_issuer_server"]


@pytest.fixture(scope="session")
def oidc_issuer_server() -> Iterator[OidcTestIssuer]:
    issuer = OidcTestIssuer().start()
    yield issuer
    issuer.stop()


@pytest.fixture
def oidc_issuer(oidc_issuer_server: OidcTestIssuer) -> OidcTestIssuer:
    oidc_issuer_server.reset()
    return oidc_issuer_server


@pytest.fixture
def fresh_oidc_issuer() -> Iterator[OidcTestIssuer]:
    with OidcTestIssuer() as issuer:
        yield issuer

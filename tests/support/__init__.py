"""Test support shared by every webfed test suite.

* :mod:`tests.support.tokens`: signing keys and token minting, plus forged attack tokens.
* :mod:`tests.support.oidc_issuer`: a real OpenID provider over HTTP on 127.0.0.1.
* :mod:`tests.support.fixtures`: the ``oidc_issuer`` pytest fixture; register it with
  ``pytest_plugins = ["tests.support.fixtures"]`` in a conftest.
"""

"""Google's two spellings of its issuer, through ``AssumeRoleWithWebIdentity`` and boto3.

Google documents that an ID token's ``iss`` is ``https://accounts.google.com`` or, from some of
its flows, the bare ``accounts.google.com``; AWS trusts Google's tokens either way. The IAM
provider registered for ``https://accounts.google.com`` accepts both, with the same keys and
audiences. No other issuer gets that allowance: the same token shape for another provider's
URL without its scheme is an unknown provider.

The provider carries a static key set (the declarative file), so nothing is fetched from
Google: the test stays on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer, running_server
from tests.support.ports import free_port
from tests.support.tokens import generate_signing_key, jwks_document, sign, standard_claims

ACCOUNT = "000000000000"
CLIENT_ID = "123456789012-game.apps.googleusercontent.com"
GOOGLE = "https://accounts.google.com"
OTHER = f"http://127.0.0.1:{free_port()}/other"  # nothing listens: its keys are static too
KEY = generate_signing_key("RS256", "google-1")
OTHER_KEY = generate_signing_key("RS256", "other-1")


def _trust(federated: str, condition_key: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": federated},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {condition_key: CLIENT_ID}},
                }
            ],
        }
    )


OTHER_RESOURCE = OTHER.split("://", 1)[1]
OTHER_TRUST = _trust(
    f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OTHER_RESOURCE}", f"{OTHER_RESOURCE}:aud"
)
CONFIG = f"""\
version: 1
providers:
  - url: {GOOGLE}
    client_ids: [{CLIENT_ID}]
    static_keys_file: google-keys.json
  - url: {OTHER}
    client_ids: [{CLIENT_ID}]
    static_keys_file: other-keys.json
roles:
  - name: google-player
    trust_policy: '{_trust("accounts.google.com", "accounts.google.com:aud")}'
  - name: other-player
    trust_policy: '{OTHER_TRUST}'
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    data_dir = tmp_path_factory.mktemp("webfed")
    (data_dir / "google-keys.json").write_text(json.dumps(jwks_document(KEY)))
    (data_dir / "other-keys.json").write_text(json.dumps(jwks_document(OTHER_KEY)))
    (data_dir / "webfed.yaml").write_text(CONFIG)
    env = {"WEBFED_CONFIG": str(data_dir / "webfed.yaml"), "WEBFED_ALLOW_HTTP_ISSUERS": "true"}
    yield from running_server("sqlite", data_dir, env)


def _assume(server: WebfedServer, role: str, claims: dict[str, Any], key: Any) -> Any:
    return server.client("sts").assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
        RoleSessionName="player",
        WebIdentityToken=sign(claims, key),
    )


@pytest.mark.parametrize("issuer", [GOOGLE, "accounts.google.com"])
def test_google_tokens_are_accepted_with_either_issuer(server: WebfedServer, issuer: str) -> None:
    claims = standard_claims(issuer, audience=CLIENT_ID, subject="110169484474386276334")
    result = _assume(server, "google-player", claims, KEY)
    assert result["SubjectFromWebIdentityToken"] == "110169484474386276334"
    assert result["Provider"] == GOOGLE  # the registered provider, whichever spelling
    assert result["Audience"] == CLIENT_ID


def test_a_bare_google_issuer_still_needs_googles_key_and_audience(server: WebfedServer) -> None:
    for claims, key in (
        (standard_claims("accounts.google.com", audience=CLIENT_ID), OTHER_KEY),
        (standard_claims("accounts.google.com", audience="someone-else"), KEY),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _assume(server, "google-player", claims, key)
        assert refused.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_no_other_issuer_may_drop_its_scheme(server: WebfedServer) -> None:
    assert _assume(server, "other-player", standard_claims(OTHER, audience=CLIENT_ID), OTHER_KEY)
    bare = standard_claims(OTHER_RESOURCE, audience=CLIENT_ID)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        _assume(server, "other-player", bare, OTHER_KEY)
    assert refused.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert "No OpenIDConnect provider found" in refused.value.response["Error"]["Message"]

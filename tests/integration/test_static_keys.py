"""An offline provider: ``webfed serve --config`` with a static key set, through boto3.

The provider's issuer URL names a port nothing listens on, so any discovery or key fetch would
fail (``IDPCommunicationError``). Tokens signed with the static key are accepted by
``AssumeRoleWithWebIdentity``; a token signed with another key, or naming a kid the set lacks,
is ``InvalidIdentityToken`` at once. ``webfed apply`` of a rotated key set (a separate process,
as an administrator would run it) reaches the running server through the IAM revision: the new
key works and the old one is refused, without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer, running_server
from tests.support.ports import free_port
from tests.support.tokens import (
    SigningKey,
    generate_signing_key,
    jwks_document,
    sign,
    standard_claims,
)

ACCOUNT = "000000000000"
CLIENT_ID = "offline-app"
ISSUER_PORT = free_port()  # nothing listens here
ISSUER = f"http://127.0.0.1:{ISSUER_PORT}/offline"
RESOURCE = ISSUER.split("://", 1)[1]
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/offline-reader"
KEY_1 = generate_signing_key("RS256", "offline-1")
KEY_2 = generate_signing_key("ES256", "offline-2")
STRANGER = generate_signing_key("RS256", "offline-1")  # same kid, another key
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{RESOURCE}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{RESOURCE}:aud": CLIENT_ID}},
            }
        ],
    }
)
CONFIG = f"""\
version: 1
providers:
  - url: {ISSUER}
    client_ids: [{CLIENT_ID}]
    static_keys_file: idp-keys.json
roles:
  - name: offline-reader
    trust_policy: '{TRUST}'
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def offline(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebfedServer]:
    data_dir = tmp_path_factory.mktemp("webfed")
    (data_dir / "idp-keys.json").write_text(json.dumps(jwks_document(KEY_1)))
    (data_dir / "webfed.yaml").write_text(CONFIG)
    env = {"WEBFED_CONFIG": str(data_dir / "webfed.yaml"), "WEBFED_ALLOW_HTTP_ISSUERS": "true"}
    yield from running_server(request.param, data_dir, env)


def _assume(server: WebfedServer, key: SigningKey, *, kid: str = "") -> dict[str, Any]:
    token = sign(standard_claims(ISSUER, audience=CLIENT_ID), key, kid=kid)
    result: dict[str, Any] = server.client("sts").assume_role_with_web_identity(
        RoleArn=ROLE_ARN, RoleSessionName="offline", WebIdentityToken=token
    )
    return result


def _refused(server: WebfedServer, key: SigningKey, *, kid: str = "") -> str:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        _assume(server, key, kid=kid)
    return str(refused.value.response["Error"]["Code"])


def _apply(server: WebfedServer) -> None:
    """``webfed apply -f`` against the server's database, as a separate process."""
    config = str(server.data_dir / "webfed.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "webfed", "apply", "-f", config],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "~ set the static key set of" in result.stdout
    assert "-kid=offline-1" in result.stdout and "+kid=offline-2" in result.stdout


def _eventually_accepted(server: WebfedServer, key: SigningKey, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _assume(server, key)
            return
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidIdentityToken"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_static_keys_verify_without_the_network_and_rotate_by_apply(
    offline: WebfedServer,
) -> None:
    assumed = _assume(offline, KEY_1)
    assert assumed["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert _refused(offline, STRANGER) == "InvalidIdentityToken"
    assert _refused(offline, KEY_1, kid="not-in-the-set") == "InvalidIdentityToken"

    (offline.data_dir / "idp-keys.json").write_text(json.dumps(jwks_document(KEY_2)))
    _apply(offline)
    _eventually_accepted(offline, KEY_2, within=5.0)  # the IAM revision poll is 1 s
    assert _refused(offline, KEY_1) == "InvalidIdentityToken"
    assert "IDPCommunicationError" not in offline.log()


def test_the_exported_configuration_carries_the_keys(offline: WebfedServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webfed", "export"],
        env=offline.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "static_keys:" in result.stdout
    assert "kid: offline-" in result.stdout


def test_the_static_keys_stay_off_iams_wire(offline: WebfedServer) -> None:
    iam = offline.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{RESOURCE}"
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    described.pop("ResponseMetadata")
    assert set(described) <= {"Url", "ClientIDList", "ThumbprintList", "CreateDate", "Tags"}

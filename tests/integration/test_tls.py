"""TLS on ``webfed serve`` and ``webfed gateway``: a test CA, a server certificate, real clients.

The test makes its own certificate authority and a certificate for ``127.0.0.1`` and
``localhost`` with ``cryptography``, starts the server with ``--tls-cert``/``--tls-key`` (as
``WEBFED_TLS_CERT``/``WEBFED_TLS_KEY``), and talks to it with boto3 trusting only that CA. The
listener uses webfed's own HTTP protocol class (one write per response), so this also shows that
class works over TLS. Bad certificate files stop the command before anything starts, with one
clear sentence and the usage exit code.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.integration.conftest import ADMIN_KEY_ID, ADMIN_SECRET, WebfedServer
from tests.support.ports import free_port
from webfed.cli import main

NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    other_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _make_pki(directory: Path) -> Pki:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("webfed test CA"))
        .issuer_name(_name("webfed test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=5))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(
        directory / "ca.pem", directory / "server.pem", directory / "server.key",
        directory / "other.key",
    )  # fmt: skip
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.key, server_key)
    _write_key(pki.other_key, ec.generate_private_key(ec.SECP256R1()))
    return pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    # A key readable by the group, as some secret mounts make it: served, with a warning.
    shared_key = tmp_path_factory.mktemp("mounted") / "server.key"
    shared_key.write_bytes(pki.key.read_bytes())
    shared_key.chmod(0o640)
    env = {"WEBFED_TLS_CERT": str(pki.cert), "WEBFED_TLS_KEY": str(shared_key)}
    server = WebfedServer(tmp_path_factory.mktemp("webfed-tls"), None, env)
    server.url = f"https://127.0.0.1:{server.port}"
    # The harness polls /healthz with httpx, which trusts SSL_CERT_FILE: the test CA, here.
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(pki.ca)
    try:
        server.start()
    finally:
        if previous is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = previous
    yield server
    server.stop()


def _trusting(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca))


def test_boto3_trusting_the_ca_talks_to_the_https_listener(
    tls_server: WebfedServer, pki: Pki
) -> None:
    sts = boto3.client(
        "sts",
        endpoint_url=tls_server.url,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        verify=str(pki.ca),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert sts.get_caller_identity()["Account"] == "000000000000"
    # Bodies larger than one TLS record pass through the coalescing transport intact.
    iam = boto3.client(
        "iam",
        endpoint_url=tls_server.url,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        verify=str(pki.ca),
    )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "accounts.google.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                }
            ],
        }
    )
    for index in range(10):
        iam.create_role(
            RoleName=f"tls-{index}", AssumeRolePolicyDocument=trust, Description="d" * 1000
        )
    roles = iam.list_roles()["Roles"]
    assert sorted(role["RoleName"] for role in roles) == sorted(f"tls-{i}" for i in range(10))


def test_the_issuer_and_public_url_become_https(tls_server: WebfedServer, pki: Pki) -> None:
    discovery = httpx.get(
        f"{tls_server.url}/.well-known/openid-configuration", verify=_trusting(pki), timeout=10
    )
    assert discovery.status_code == 200
    assert discovery.json()["issuer"].startswith(f"https://127.0.0.1:{tls_server.port}")
    assert f"webfed listening on https://127.0.0.1:{tls_server.port}" in tls_server.log()


def test_a_key_readable_by_others_is_served_with_a_warning(tls_server: WebfedServer) -> None:
    assert "the TLS key is readable by group or others" in tls_server.log()


def test_plain_http_and_untrusting_clients_are_refused(tls_server: WebfedServer, pki: Pki) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_server.port}/livez", timeout=5)
    with pytest.raises(httpx.ConnectError):  # the system's roots do not include the test CA
        httpx.get(f"{tls_server.url}/livez", verify=ssl.create_default_context(), timeout=5)
    assert httpx.get(f"{tls_server.url}/livez", verify=_trusting(pki), timeout=5).is_success


def test_the_gateway_serves_https_with_the_same_options(tls_server: WebfedServer, pki: Pki) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env.update(
        WEBFED_DATA_DIR=str(tls_server.data_dir),
        WEBFED_UPSTREAM_ACCESS_KEY_ID="AKIAUPSTREAM00000000",
        WEBFED_UPSTREAM_SECRET_ACCESS_KEY="upstream-secret",
    )
    command = [sys.executable, "-m", "webfed", "gateway", "s3", "--listen", f"127.0.0.1:{port}"]
    command += ["--upstream", "http://127.0.0.1:9", "--tls-cert", str(pki.cert)]
    command += ["--tls-key", str(pki.key)]
    log = tls_server.data_dir / "gateway-tls.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"https://127.0.0.1:{port}/__webfed/readyz"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                response = httpx.get(url, verify=_trusting(pki), timeout=2)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert response.json() == {"status": "ok"}
        assert "gateway on https://127.0.0.1" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(("--tls-cert", "{cert}"), "give both or neither", id="cert-without-key"),
        pytest.param(("--tls-key", "{key}"), "give both or neither", id="key-without-cert"),
        pytest.param(
            ("--tls-cert", "{missing}", "--tls-key", "{key}"), "no such file", id="missing-file"
        ),
        pytest.param(
            ("--tls-cert", "{cert}", "--tls-key", "{other_key}"),
            "does not belong to the certificate",
            id="key-of-another-certificate",
        ),
        pytest.param(("--tls-cert", "{ca_key}", "--tls-key", "{key}"), "do not load", id="not-pem"),
    ],
)
@pytest.mark.parametrize("command", [("serve",), ("gateway", "s3")], ids=["serve", "gateway"])
def test_bad_tls_files_stop_the_command_before_it_starts(
    pki: Pki,
    tmp_path: Path,
    command: tuple[str, ...],
    arguments: tuple[str, ...],
    expected: str,
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n", encoding="ascii")
    paths = {
        "cert": pki.cert, "key": pki.key, "other_key": pki.other_key,
        "missing": tmp_path / "missing.pem", "ca_key": garbage,
    }  # fmt: skip
    filled = [argument.format(**{k: str(v) for k, v in paths.items()}) for argument in arguments]
    extra = ["--upstream", "http://127.0.0.1:9"] if command[0] == "gateway" else []
    result = CliRunner().invoke(
        main,
        [*command, "--data-dir", str(tmp_path / "data"), *extra, *filled],
        env={"WEBFED_TLS_CERT": None, "WEBFED_TLS_KEY": None},
    )
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "data" / "webfed.db").exists()  # nothing started


def test_an_encrypted_key_is_refused_rather_than_prompted_for(pki: Pki, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki.key.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    result = CliRunner().invoke(
        main,
        [
            *("serve", "--data-dir", str(tmp_path / "data")),
            *("--tls-cert", str(pki.cert), "--tls-key", str(encrypted)),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "encrypted with a passphrase" in result.output

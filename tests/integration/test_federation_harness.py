"""The shared set-up of the federation suites (no tests of its own).

One :class:`Federation` per test module and database: a real ``webfed serve`` that accepts
``http://127.0.0.1`` issuers, a real OpenID provider (:class:`OidcTestIssuer`) registered as an
IAM OIDC provider with client id ``client-1``, and helpers that create roles and exchange tokens
through the real boto3 client. The suites import :func:`federation` as their module fixture.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.conftest import WebfedServer, fresh_postgres_database
from tests.support.oidc_issuer import OidcTestIssuer

ACCOUNT = "000000000000"
CLIENT_ID = "client-1"
HTTP_ISSUERS = {"WEBFED_ALLOW_HTTP_ISSUERS": "true"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    """The AWS error code and HTTP status of a failed boto3 call."""
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def message_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(caught.value.response["Error"]["Message"])


def encoded_blob(message: str) -> str:
    """The sealed blob after "Encoded authorization failure message: " in an error message."""
    marker = "Encoded authorization failure message: "
    assert marker in message, message
    return message.split(marker, 1)[1].strip()


def statement(
    principal: dict[str, Any],
    actions: str | list[str],
    condition: dict[str, Any] | None = None,
    effect: str = "Allow",
) -> dict[str, Any]:
    item: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": actions}
    if condition:
        item["Condition"] = condition
    return item


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass
class Federation:
    """A server, an issuer registered in it, and the helpers the suites share."""

    server: WebfedServer
    issuer: OidcTestIssuer
    provider_arn: str = ""
    iam: Any = None
    sts: Any = None
    extra_issuers: list[OidcTestIssuer] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """The condition-key prefix of the issuer: its URL without the scheme."""
        return self.issuer.url.removeprefix("http://")

    def register(self, issuer: OidcTestIssuer, client_ids: tuple[str, ...] = (CLIENT_ID,)) -> str:
        created = self.iam.create_open_id_connect_provider(
            Url=issuer.url, ClientIDList=list(client_ids), ThumbprintList=["0" * 40]
        )
        return str(created["OpenIDConnectProviderArn"])

    def web_identity_statement(
        self,
        condition: dict[str, Any] | None = None,
        actions: str | list[str] = "sts:AssumeRoleWithWebIdentity",
        provider_arn: str | None = None,
    ) -> dict[str, Any]:
        """Allow this provider's tokens; by default only for audience ``client-1``."""
        if condition is None:
            condition = {"StringEquals": {f"{self.prefix}:aud": CLIENT_ID}}
        return statement({"Federated": provider_arn or self.provider_arn}, actions, condition)

    def role(
        self,
        *statements: dict[str, Any],
        max_session: int = 3600,
        inline: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> str:
        """A new role trusting ``statements`` (default: this provider with the ``aud`` check)."""
        role_name = name or unique("fed")
        trust = policy_document(*(statements or (self.web_identity_statement(),)))
        arn = self.iam.create_role(
            RoleName=role_name, AssumeRolePolicyDocument=trust, MaxSessionDuration=max_session
        )["Role"]["Arn"]
        if inline is not None:
            self.iam.put_role_policy(
                RoleName=role_name, PolicyName="inline", PolicyDocument=json.dumps(inline)
            )
        return str(arn)

    def token(self, **overrides: Any) -> str:
        return self.issuer.mint(self.issuer.claims(**overrides))

    def assume(self, role_arn: str, token: str, **params: Any) -> dict[str, Any]:
        params.setdefault("RoleSessionName", "app1")
        result: dict[str, Any] = self.sts.assume_role_with_web_identity(
            RoleArn=role_arn, WebIdentityToken=token, **params
        )
        return result

    def session_client(self, service: str, credentials: dict[str, Any]) -> Any:
        return self.server.client(
            service,
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretAccessKey"],
            session_token=credentials["SessionToken"],
        )

    def decode(self, blob: str) -> dict[str, Any]:
        """Decode an authorization message as the administrator."""
        decoded = self.sts.decode_authorization_message(EncodedMessage=blob)["DecodedMessage"]
        result: dict[str, Any] = json.loads(decoded)
        return result

    def new_issuer(self, client_ids: tuple[str, ...] = (CLIENT_ID,)) -> tuple[OidcTestIssuer, str]:
        """Another provider of its own (stopped with the module), registered in webfed."""
        issuer = OidcTestIssuer(client_id=client_ids[0]).start()
        self.extra_issuers.append(issuer)
        return issuer, self.register(issuer, client_ids)

    def wait_for_iam(self, check: Any, timeout: float = 5.0) -> None:
        """Poll until ``check()`` stops raising: the IAM cache refreshes within about a second."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                check()
                return
            except (AssertionError, botocore.exceptions.ClientError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _start(
    data_dir: Any, database_url: str | None, extra_env: dict[str, str]
) -> Iterator[Federation]:
    server = WebfedServer(data_dir, database_url, {**HTTP_ISSUERS, **extra_env})
    issuer = OidcTestIssuer(client_id=CLIENT_ID).start()
    server.start()
    fed = Federation(server, issuer, iam=server.client("iam"), sts=server.client("sts"))
    fed.provider_arn = fed.register(issuer)
    try:
        yield fed
    finally:
        server.stop()
        issuer.stop()
        for extra in fed.extra_issuers:
            extra.stop()


def federation_for(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Federation]:
    """The body of a module fixture parametrized ``sqlite`` / ``postgresql``."""
    data_dir = tmp_path_factory.mktemp("webfed-fed")
    if request.param == "sqlite":
        yield from _start(data_dir, None, extra_env or {})
        return
    with fresh_postgres_database() as url:
        yield from _start(data_dir, url, extra_env or {})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def federation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    yield from federation_for(request, tmp_path_factory)

"""``webfed serve --config FILE`` with an identity pool: boto3 sees it as the file declares it.

The server applies the file at start; Cognito Identity's own operations then describe the pool,
its roles and role mappings, a principal tag map and its tags. A restart applies the same file
again and finds every pool (the one with a fixed id and the one matched by name): no duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import WebfedServer, running_server

ACCOUNT = "000000000000"
POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000001"
ISSUER = "127.0.0.1:8700/dev-idp"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
    '{"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}'
)
CONFIG = f"""\
version: 1
providers:
  - url: http://{ISSUER}
    client_ids: [game]
roles:
  - {{name: GameAuthenticated, trust_policy: '{TRUST}'}}
  - {{name: GameGuest, trust_policy: '{TRUST}'}}
  - {{name: RedTeam, path: /teams/, trust_policy: '{TRUST}'}}
identity_pools:
  - name: game players
    id: {POOL_ID}
    allow_unauthenticated: true
    supported_login_providers: {{accounts.google.com: CLIENT_ID}}
    openid_connect_providers: ["http://{ISSUER}"]
    developer_provider_name: login.game.example
    roles: {{authenticated: GameAuthenticated, unauthenticated: GameGuest}}
    role_mappings:
      "{ISSUER}": {{type: Rules, ambiguous_role_resolution: AuthenticatedRole,
         rules: [{{claim: team, match_type: Equals, value: red, role: RedTeam}}]}}
    principal_tags: {{"{ISSUER}": {{use_defaults: false, tags: {{team: team}}}}}}
    tags: {{env: demo}}
  - name: tools
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def configured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebfedServer]:
    data_dir = tmp_path_factory.mktemp("webfed")
    config = data_dir / "webfed.yaml"
    config.write_text(CONFIG)
    env = {"WEBFED_CONFIG": str(config), "WEBFED_ALLOW_HTTP_ISSUERS": "true"}
    yield from running_server(request.param, data_dir, env)


def _pools(cognito: Any) -> dict[str, str]:
    listed = cognito.list_identity_pools(MaxResults=60)["IdentityPools"]
    return {pool["IdentityPoolId"]: pool["IdentityPoolName"] for pool in listed}


def test_the_pool_is_served_as_declared_and_a_restart_changes_nothing(
    configured: WebfedServer,
) -> None:
    cognito = configured.client("cognito-identity")
    pool = cognito.describe_identity_pool(IdentityPoolId=POOL_ID)
    assert pool["IdentityPoolName"] == "game players"
    assert pool["AllowUnauthenticatedIdentities"] is True
    assert pool["AllowClassicFlow"] is False
    assert pool["SupportedLoginProviders"] == {"accounts.google.com": "CLIENT_ID"}
    assert pool["OpenIdConnectProviderARNs"] == [PROVIDER_ARN]
    assert pool["DeveloperProviderName"] == "login.game.example"
    assert pool["IdentityPoolTags"] == {"env": "demo"}

    roles = cognito.get_identity_pool_roles(IdentityPoolId=POOL_ID)
    assert roles["Roles"] == {
        "authenticated": f"arn:aws:iam::{ACCOUNT}:role/GameAuthenticated",
        "unauthenticated": f"arn:aws:iam::{ACCOUNT}:role/GameGuest",
    }
    assert roles["RoleMappings"] == {
        ISSUER: {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {
                "Rules": [
                    {
                        "Claim": "team",
                        "MatchType": "Equals",
                        "Value": "red",
                        "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/teams/RedTeam",
                    }
                ]
            },
        }
    }
    tag_map = cognito.get_principal_tag_attribute_map(
        IdentityPoolId=POOL_ID, IdentityProviderName=ISSUER
    )
    assert (tag_map["UseDefaults"], tag_map["PrincipalTags"]) == (False, {"team": "team"})

    before = _pools(cognito)
    assert sorted(before.values()) == ["game players", "tools"]
    configured.restart()
    assert _pools(cognito) == before
    log = configured.log()
    assert log.count("Applied 8 changes.") == 1
    assert log.count("No changes: IAM already matches the file.") == 1

"""Identity-pool credential flows through a real ``webfed serve`` and boto3's ``cognito-identity``.

Covers the enhanced flow (``GetId`` -> ``GetCredentialsForIdentity``) for players and guests,
the basic flow (``GetOpenIdToken`` -> STS ``AssumeRoleWithWebIdentity``), linking and merging,
role mappings, principal tags, developer identities and the documented errors, on SQLite and
PostgreSQL. Logins come from a real OpenID provider (:class:`OidcTestIssuer`) registered as an
IAM OIDC provider, exactly as an app's would.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_federation_harness import (
    Federation,
    error_of,
    federation,
    message_of,
    statement,
    unique,
)
from tests.integration.test_issuer import _rotate, _server_keys
from webfed.issuer.tokens import mint_identity_token

__all__ = ["federation"]

COGNITO = "cognito-identity.amazonaws.com"
DEVELOPER = "login.game.example"


def _trust(pool_id: str, amr: str, *, tag_session: bool = False, **extra: Any) -> dict[str, Any]:
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if tag_session else [])
    condition: dict[str, Any] = {
        "StringEquals": {f"{COGNITO}:aud": pool_id, **extra.get("equals", {})},
        "ForAnyValue:StringLike": {f"{COGNITO}:amr": amr},
    }
    return statement({"Federated": COGNITO}, actions, condition)


class Pools:
    """A pool trusting the federation's provider, its two roles, and call helpers."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self.cognito = fed.server.client("cognito-identity")
        self.extra_issuer, self.extra_arn = fed.new_issuer()
        self.pool_id = self.new_pool()
        self.player_role = self.role("authenticated")
        self.guest_role = self.role("unauthenticated")
        self.cognito.set_identity_pool_roles(
            IdentityPoolId=self.pool_id,
            Roles={"authenticated": self.player_role, "unauthenticated": self.guest_role},
        )

    def new_pool(self, **overrides: Any) -> str:
        params: dict[str, Any] = {
            "IdentityPoolName": "game",
            "AllowUnauthenticatedIdentities": True,
            "AllowClassicFlow": True,
            "OpenIdConnectProviderARNs": [self.fed.provider_arn, self.extra_arn],
            "DeveloperProviderName": DEVELOPER,
        }
        params.update(overrides)
        return str(self.cognito.create_identity_pool(**params)["IdentityPoolId"])

    def role(self, amr: str, pool_id: str | None = None, *, tag_session: bool = False) -> str:
        inline = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}
            ],
        }
        trust = _trust(pool_id or self.pool_id, amr, tag_session=tag_session)
        return self.fed.role(trust, inline=inline)

    @property
    def key(self) -> str:
        return self.fed.prefix

    @property
    def extra_key(self) -> str:
        return self.extra_issuer.url.removeprefix("http://")

    def login(self, user: str, **claims: Any) -> dict[str, str]:
        return {self.key: self.fed.token(subject=user, **claims)}

    def extra_login(self, user: str) -> dict[str, str]:
        return {self.extra_key: self.extra_issuer.mint(self.extra_issuer.claims(subject=user))}

    def get_id(self, logins: dict[str, str] | None = None, pool_id: str | None = None) -> str:
        params: dict[str, Any] = {"IdentityPoolId": pool_id or self.pool_id}
        if logins:
            params["Logins"] = logins
        return str(self.cognito.get_id(**params)["IdentityId"])

    def credentials(
        self, identity_id: str, logins: dict[str, str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"IdentityId": identity_id, **extra}
        if logins:
            params["Logins"] = logins
        result: dict[str, Any] = self.cognito.get_credentials_for_identity(**params)
        return result

    def caller_arn(self, credentials: dict[str, Any]) -> str:
        sts = self.fed.server.client(
            "sts",
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretKey"],
            session_token=credentials["SessionToken"],
        )
        return str(sts.get_caller_identity()["Arn"])

    def session_sts(self, credentials: dict[str, Any]) -> Any:
        return self.fed.server.client(
            "sts",
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretKey"],
            session_token=credentials["SessionToken"],
        )

    def describe(self, identity_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.cognito.describe_identity(IdentityId=identity_id)
        return result


@pytest.fixture(scope="module")
def pools(federation: Federation) -> Pools:
    return Pools(federation)


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def _denied_blob(pools: Pools) -> str:
    """An encoded explanation, from a login refused for its audience."""
    with pytest.raises(ClientError) as caught:
        pools.get_id(pools.login(unique("u"), audience="someone-else"))
    message = message_of(caught)
    return message.split("Encoded authorization failure message: ", 1)[1].strip()


# --- the enhanced flow ------------------------------------------------------------------------


def test_a_player_gets_credentials_for_the_authenticated_role(pools: Pools) -> None:
    user = unique("player")
    identity_id = pools.get_id(pools.login(user))
    assert identity_id.startswith("us-east-1:") and len(identity_id) == 46
    assert pools.get_id(pools.login(user)) == identity_id, "one identity per login"
    result = pools.credentials(identity_id, pools.login(user))
    credentials = result["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["SecretKey"] and credentials["SessionToken"]
    lifetime = credentials["Expiration"] - datetime.now(UTC)
    assert timedelta(minutes=58) < lifetime <= timedelta(hours=1)
    arn = pools.caller_arn(credentials)
    assert arn.endswith(f":assumed-role/{_role_name(pools.player_role)}/CognitoIdentityCredentials")
    decoded = pools.session_sts(credentials).decode_authorization_message(
        EncodedMessage=_denied_blob(pools)
    )
    assert json.loads(decoded["DecodedMessage"])["check"] == "audience"
    described = pools.describe(identity_id)
    assert described["Logins"] == [pools.key]


def test_guests_get_new_identities_and_the_scoped_down_guest_role(pools: Pools) -> None:
    first, second = pools.get_id(), pools.get_id()
    assert first != second
    credentials = pools.credentials(first)["Credentials"]
    assert _role_name(pools.guest_role) in pools.caller_arn(credentials)
    # The guest role allows sts:DecodeAuthorizationMessage, but the enhanced flow's scope-down
    # session policy leaves STS out of a guest's reach.
    with pytest.raises(ClientError) as caught:
        pools.session_sts(credentials).decode_authorization_message(
            EncodedMessage=_denied_blob(pools)
        )
    assert error_of(caught) == ("AccessDenied", 403)


def test_guests_are_refused_when_the_pool_does_not_allow_them(pools: Pools) -> None:
    closed = pools.new_pool(AllowUnauthenticatedIdentities=False)
    with pytest.raises(ClientError) as caught:
        pools.get_id(pool_id=closed)
    assert error_of(caught) == ("NotAuthorizedException", 403)
    assert "Unauthenticated access is not supported" in message_of(caught)


def test_a_guest_who_signs_in_keeps_the_identity(pools: Pools) -> None:
    guest = pools.get_id()
    user = unique("convert")
    result = pools.credentials(guest, pools.login(user))
    assert _role_name(pools.player_role) in pools.caller_arn(result["Credentials"])
    assert pools.get_id(pools.login(user)) == guest
    with pytest.raises(ClientError) as caught:
        pools.credentials(guest)  # authenticated now: a login is required
    assert error_of(caught) == ("NotAuthorizedException", 403)
    assert "Logins don't match" in message_of(caught)


def test_logins_of_someone_else_do_not_open_an_identity(pools: Pools) -> None:
    victim = pools.get_id(pools.login(unique("victim")))
    with pytest.raises(ClientError) as caught:
        pools.credentials(victim, pools.login(unique("attacker")))
    assert error_of(caught) == ("NotAuthorizedException", 403)
    assert pools.describe(victim)["Logins"] == [pools.key]


@pytest.mark.parametrize(
    ("logins", "phrase"),
    [
        ({"accounts.google.com": "x.y.z"}, "not from a supported provider"),
        ({"www.amazon.com": "token"}, "OAuth 2.0 access tokens"),
        ({DEVELOPER: "user"}, "GetOpenIdTokenForDeveloperIdentity"),
    ],
)
def test_logins_of_unsupported_providers_are_refused(
    pools: Pools, logins: dict[str, str], phrase: str
) -> None:
    with pytest.raises(ClientError) as caught:
        pools.get_id(logins)
    assert error_of(caught) == ("NotAuthorizedException", 403)
    assert phrase in message_of(caught)


def test_invalid_login_tokens_are_refused_with_an_explanation(pools: Pools) -> None:
    now = int(datetime.now(UTC).timestamp())
    expired = pools.fed.token(subject="late", now=now - 3600, lifetime=600)
    for token in (expired, pools.fed.token(subject="u", audience="other-app"), "not-a-jwt"):
        with pytest.raises(ClientError) as caught:
            pools.get_id({pools.key: token})
        assert error_of(caught) == ("NotAuthorizedException", 403)
        assert message_of(caught).startswith("Invalid login token.")
        assert token not in message_of(caught)


def test_unknown_pools_and_identities_are_not_found(pools: Pools) -> None:
    missing_pool = f"us-east-1:{uuid.uuid4()}"
    with pytest.raises(ClientError) as caught:
        pools.get_id(pool_id=missing_pool)
    assert error_of(caught) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as caught:
        pools.credentials(f"us-east-1:{uuid.uuid4()}")
    assert error_of(caught) == ("ResourceNotFoundException", 404)


# --- linking and merging ------------------------------------------------------------------------


def test_a_second_provider_is_linked_and_unlinked(pools: Pools) -> None:
    user = unique("linker")
    identity_id = pools.get_id(pools.login(user))
    both = {**pools.login(user), **pools.extra_login(user)}
    assert pools.get_id(both) == identity_id
    assert sorted(pools.describe(identity_id)["Logins"]) == sorted([pools.key, pools.extra_key])
    assert pools.get_id(pools.extra_login(user)) == identity_id
    pools.cognito.unlink_identity(
        IdentityId=identity_id, Logins=pools.login(user), LoginsToRemove=[pools.extra_key]
    )
    assert pools.describe(identity_id)["Logins"] == [pools.key]
    assert pools.get_id(pools.extra_login(user)) != identity_id, "the login is free again"


def test_logins_of_two_identities_merge_them(pools: Pools) -> None:
    older_user, newer_user = unique("older"), unique("newer")
    older = pools.get_id(pools.extra_login(older_user))
    newer = pools.get_id(pools.login(newer_user))
    merged = pools.get_id({**pools.login(newer_user), **pools.extra_login(older_user)})
    assert merged == older, "the oldest identity survives"
    listed = pools.cognito.list_identities(
        IdentityPoolId=pools.pool_id, MaxResults=60, HideDisabled=True
    )
    ids = {item["IdentityId"] for item in listed["Identities"]}
    assert older in ids or listed.get("NextToken")
    assert newer not in ids
    assert pools.get_id(pools.login(newer_user)) == older
    # The disabled identity's id leads to the survivor once its login is shown.
    result = pools.cognito.get_credentials_for_identity(
        IdentityId=newer, Logins=pools.login(newer_user)
    )
    assert result["IdentityId"] == older


def test_a_guest_signing_in_with_a_known_login_merges_into_its_identity(pools: Pools) -> None:
    user = unique("returning")
    known = pools.get_id(pools.login(user))
    guest = pools.get_id()
    result = pools.cognito.get_credentials_for_identity(IdentityId=guest, Logins=pools.login(user))
    assert result["IdentityId"] == known


def test_concurrent_first_sign_ins_make_one_identity(pools: Pools) -> None:
    logins = pools.login(unique("racer"))
    with ThreadPoolExecutor(max_workers=8) as executor:
        ids = set(executor.map(lambda _: pools.get_id(logins), range(16)))
    assert len(ids) == 1


# --- role choice ---------------------------------------------------------------------------------


def test_rules_pick_the_role_and_ambiguity_resolves_as_configured(pools: Pools) -> None:
    red = pools.role("authenticated")
    pool = pools.cognito
    mapping = {
        "Type": "Rules",
        "AmbiguousRoleResolution": "Deny",
        "RulesConfiguration": {
            "Rules": [{"Claim": "team", "MatchType": "Equals", "Value": "red", "RoleARN": red}]
        },
    }
    roles = {"authenticated": pools.player_role, "unauthenticated": pools.guest_role}
    pool.set_identity_pool_roles(
        IdentityPoolId=pools.pool_id, Roles=roles, RoleMappings={pools.key: mapping}
    )
    try:
        user = unique("red")
        identity_id = pools.get_id(pools.login(user, team="red"))
        creds = pools.credentials(identity_id, pools.login(user, team="red"))["Credentials"]
        assert _role_name(red) in pools.caller_arn(creds)
        with pytest.raises(ClientError) as caught:
            pools.credentials(identity_id, pools.login(user, team="blue"))
        assert error_of(caught) == ("NotAuthorizedException", 403)
        assert "AmbiguousRoleResolution is Deny" in message_of(caught)
        with pytest.raises(ClientError) as caught:
            pools.credentials(
                identity_id, pools.login(user, team="red"), CustomRoleArn=pools.player_role
            )
        assert error_of(caught) == ("NotAuthorizedException", 403)
        mapping["AmbiguousRoleResolution"] = "AuthenticatedRole"
        pool.set_identity_pool_roles(
            IdentityPoolId=pools.pool_id, Roles=roles, RoleMappings={pools.key: mapping}
        )
        creds = pools.credentials(identity_id, pools.login(user, team="blue"))["Credentials"]
        assert _role_name(pools.player_role) in pools.caller_arn(creds)
    finally:
        pool.set_identity_pool_roles(IdentityPoolId=pools.pool_id, Roles=roles)


def test_token_mappings_use_the_preferred_role_or_a_listed_custom_role(pools: Pools) -> None:
    first, second = pools.role("authenticated"), pools.role("authenticated")
    roles = {"authenticated": pools.player_role, "unauthenticated": pools.guest_role}
    mapping = {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}
    pools.cognito.set_identity_pool_roles(
        IdentityPoolId=pools.pool_id, Roles=roles, RoleMappings={pools.key: mapping}
    )
    try:
        user = unique("grouped")
        claims = {"cognito:roles": [first, second], "cognito:preferred_role": first}
        identity_id = pools.get_id(pools.login(user, **claims))
        creds = pools.credentials(identity_id, pools.login(user, **claims))["Credentials"]
        assert _role_name(first) in pools.caller_arn(creds)
        chosen = pools.credentials(identity_id, pools.login(user, **claims), CustomRoleArn=second)[
            "Credentials"
        ]
        assert _role_name(second) in pools.caller_arn(chosen)
        with pytest.raises(ClientError) as caught:
            pools.credentials(
                identity_id, pools.login(user, **claims), CustomRoleArn=pools.guest_role
            )
        assert error_of(caught) == ("NotAuthorizedException", 403)
    finally:
        pools.cognito.set_identity_pool_roles(IdentityPoolId=pools.pool_id, Roles=roles)


def test_a_missing_or_untrusting_role_is_a_pool_configuration_error(pools: Pools) -> None:
    other_pool = pools.new_pool()
    untrusting = pools.role("authenticated")  # trusts pools.pool_id, not other_pool
    missing = f"arn:aws:iam::000000000000:role/{unique('absent')}"
    for role, phrase in ((missing, "does not exist"), (untrusting, "trust policy of role")):
        pools.cognito.set_identity_pool_roles(
            IdentityPoolId=other_pool, Roles={"authenticated": role}
        )
        user = unique("misconfigured")
        identity_id = pools.get_id(pools.login(user), pool_id=other_pool)
        with pytest.raises(ClientError) as caught:
            pools.credentials(identity_id, pools.login(user))
        assert error_of(caught) == ("InvalidIdentityPoolConfigurationException", 400)
        assert phrase in message_of(caught) and role in message_of(caught)
    with pytest.raises(ClientError) as caught:
        pools.credentials(pools.get_id(pool_id=other_pool))
    assert error_of(caught) == ("InvalidIdentityPoolConfigurationException", 400)
    assert "no unauthenticated role" in message_of(caught)


def test_principal_tags_need_tag_session_and_reach_the_trust_policy(pools: Pools) -> None:
    pool_id = pools.new_pool()
    tagged = pools.fed.role(
        _trust(pool_id, "authenticated", tag_session=True, equals={"aws:RequestTag/team": "red"})
    )
    plain = pools.role("authenticated", pool_id)
    pools.cognito.set_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName=pools.key, PrincipalTags={"team": "team"}
    )
    user = unique("tagged")
    identity_id = pools.get_id(pools.login(user, team="red"), pool_id=pool_id)
    pools.cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": tagged})
    creds = pools.credentials(identity_id, pools.login(user, team="red"))["Credentials"]
    assert _role_name(tagged) in pools.caller_arn(creds)
    pools.cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": plain})
    with pytest.raises(ClientError) as caught:
        pools.credentials(identity_id, pools.login(user, team="red"))
    assert error_of(caught) == ("InvalidIdentityPoolConfigurationException", 400)
    assert "sts:TagSession" in message_of(caught)


# --- the basic flow ------------------------------------------------------------------------------


def test_the_basic_flow_token_is_accepted_by_sts(pools: Pools) -> None:
    user = unique("classic")
    identity_id = pools.get_id(pools.login(user))
    result = pools.cognito.get_open_id_token(IdentityId=identity_id, Logins=pools.login(user))
    assert result["IdentityId"] == identity_id
    token = result["Token"]
    claims = json.loads(_payload(token))
    assert claims["exp"] - claims["iat"] == 600, "GetOpenIdToken's tokens last 10 minutes"
    assert claims["aud"] == pools.pool_id and claims["sub"] == identity_id
    assert claims["amr"][:2] == ["authenticated", pools.key]
    assumed = pools.fed.assume(pools.player_role, token)
    assert assumed["SubjectFromWebIdentityToken"] == identity_id
    assert assumed["Audience"] == pools.pool_id
    assert assumed["AssumedRoleUser"]["Arn"].endswith(f"/{_role_name(pools.player_role)}/app1")
    with pytest.raises(ClientError) as caught:
        pools.fed.assume(pools.guest_role, token)  # amr authenticated: the guest role refuses
    assert error_of(caught) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        pools.fed.assume(pools.player_role, token, DurationSeconds=7200)
    assert error_of(caught) == ("ValidationError", 400)
    guest = pools.get_id()
    guest_token = pools.cognito.get_open_id_token(IdentityId=guest)["Token"]
    assert pools.fed.assume(pools.guest_role, guest_token)["Credentials"]["AccessKeyId"]


def test_identity_tokens_survive_an_issuer_key_rotation(pools: Pools) -> None:
    """A rotation publishes the new key at once and signs with it only later: tokens minted
    before and after the rotation are accepted, by STS and by the enhanced flow."""
    user = unique("rotating")
    identity_id = pools.get_id(pools.login(user))
    before = pools.cognito.get_open_id_token(IdentityId=identity_id, Logins=pools.login(user))
    _rotate(pools.fed.server)
    pools.fed.server.restart()  # reload the keys now rather than within the minute
    after = pools.cognito.get_open_id_token(IdentityId=identity_id, Logins=pools.login(user))
    for token in (before["Token"], after["Token"]):
        assert pools.fed.assume(pools.player_role, token)["SubjectFromWebIdentityToken"] == (
            identity_id
        )


def test_the_basic_flow_needs_the_classic_flow_and_tokens_expire(pools: Pools) -> None:
    enhanced_only = pools.new_pool(AllowClassicFlow=False)
    with pytest.raises(ClientError) as caught:
        pools.cognito.get_open_id_token(IdentityId=pools.get_id(pool_id=enhanced_only))
    assert error_of(caught) == ("InvalidParameterException", 400)
    assert "Basic (classic) flow is not enabled" in message_of(caught)
    # A token the server's own key signed, expired beyond the 5-minute grace.
    past = datetime.now(UTC) - timedelta(minutes=20)
    keys = _server_keys(pools.fed.server, past)
    expired = mint_identity_token(
        issuer=pools.fed.server.url,
        pool_id=pools.pool_id,
        identity_id=pools.get_id(),
        amr=["unauthenticated"],
        lifetime=timedelta(minutes=10),
        now=past,
        key=keys.signing_key(datetime.now(UTC)),
    )
    with pytest.raises(ClientError) as caught:
        pools.fed.assume(pools.guest_role, expired)
    assert error_of(caught) == ("ExpiredTokenException", 400)


# --- developer identities ------------------------------------------------------------------------


def _developer_token(pools: Pools, user: str, **params: Any) -> dict[str, Any]:
    logins = {DEVELOPER: user, **params.pop("logins", {})}
    result: dict[str, Any] = pools.cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pools.pool_id, Logins=logins, **params
    )
    return result


def test_developer_identities_lookup_link_merge_and_unlink(pools: Pools) -> None:
    alice, bob, alias = unique("alice"), unique("bob"), unique("alias")
    first = _developer_token(pools, alice, TokenDuration=120)
    identity_id = first["IdentityId"]
    claims = json.loads(_payload(first["Token"]))
    assert claims["exp"] - claims["iat"] == 120
    assert claims["amr"][:2] == ["authenticated", DEVELOPER]
    assert _developer_token(pools, alice)["IdentityId"] == identity_id
    _developer_token(pools, alias, IdentityId=identity_id)
    looked = pools.cognito.lookup_developer_identity(
        IdentityPoolId=pools.pool_id, DeveloperUserIdentifier=alice, MaxResults=1
    )
    assert looked["IdentityId"] == identity_id
    assert len(looked["DeveloperUserIdentifierList"]) == 1 and looked["NextToken"]
    rest = pools.cognito.lookup_developer_identity(
        IdentityPoolId=pools.pool_id,
        IdentityId=identity_id,
        NextToken=looked["NextToken"],
        MaxResults=10,
    )
    assert sorted(
        looked["DeveloperUserIdentifierList"] + rest["DeveloperUserIdentifierList"]
    ) == sorted([alice, alias])
    bob_id = _developer_token(pools, bob)["IdentityId"]
    with pytest.raises(ClientError) as caught:
        _developer_token(pools, bob, IdentityId=identity_id)
    assert error_of(caught)[0] == "DeveloperUserAlreadyRegisteredException"
    with pytest.raises(ClientError) as caught:
        pools.cognito.lookup_developer_identity(
            IdentityPoolId=pools.pool_id, IdentityId=identity_id, DeveloperUserIdentifier=bob
        )
    assert error_of(caught) == ("ResourceConflictException", 409)
    merged = pools.cognito.merge_developer_identities(
        SourceUserIdentifier=bob,
        DestinationUserIdentifier=alice,
        DeveloperProviderName=DEVELOPER,
        IdentityPoolId=pools.pool_id,
    )
    assert merged["IdentityId"] == identity_id
    assert _developer_token(pools, bob)["IdentityId"] == identity_id
    assert bob_id != identity_id
    pools.cognito.unlink_developer_identity(
        IdentityId=identity_id,
        IdentityPoolId=pools.pool_id,
        DeveloperProviderName=DEVELOPER,
        DeveloperUserIdentifier=alias,
    )
    remaining = pools.cognito.lookup_developer_identity(
        IdentityPoolId=pools.pool_id, IdentityId=identity_id, MaxResults=60
    )["DeveloperUserIdentifierList"]
    assert sorted(remaining) == sorted([alice, bob])


def test_developer_tokens_work_in_both_flows_with_their_principal_tags(pools: Pools) -> None:
    plain = _developer_token(pools, unique("devplayer"))
    result = pools.credentials(plain["IdentityId"], {COGNITO: plain["Token"]})
    assert _role_name(pools.player_role) in pools.caller_arn(result["Credentials"])
    issued = _developer_token(pools, unique("gold"), PrincipalTags={"tier": "gold"})
    identity_id, token = issued["IdentityId"], issued["Token"]
    with pytest.raises(ClientError) as caught:  # the pool's role does not allow sts:TagSession
        pools.credentials(identity_id, {COGNITO: token})
    assert error_of(caught) == ("InvalidIdentityPoolConfigurationException", 400)
    assert "sts:TagSession" in message_of(caught)
    tagged = pools.fed.role(
        _trust(
            pools.pool_id,
            "authenticated",
            tag_session=True,
            equals={"aws:RequestTag/tier": "gold"},
        )
    )
    assert pools.fed.assume(tagged, token)["SubjectFromWebIdentityToken"] == identity_id
    with pytest.raises(ClientError) as caught:
        pools.fed.assume(pools.player_role, token)  # no sts:TagSession for the tags
    assert error_of(caught) == ("AccessDenied", 403)


def test_developer_operations_need_the_administrator(pools: Pools) -> None:
    unsigned = pools.fed.server.client("cognito-identity")
    unsigned.meta.events.register_first("choose-signer.cognito-identity.*", _no_signing)
    with pytest.raises(ClientError) as caught:
        unsigned.get_open_id_token_for_developer_identity(
            IdentityPoolId=pools.pool_id, Logins={DEVELOPER: "x"}
        )
    assert error_of(caught)[1] in (400, 403)


def _no_signing(**_: Any) -> Any:
    from botocore import UNSIGNED

    return UNSIGNED


def _payload(token: str) -> str:
    import base64

    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()

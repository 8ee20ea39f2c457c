"""Role selection of the enhanced flow (pure): defaults, Token and Rules mappings, ambiguity,
``CustomRoleArn``; and the rule matcher, with Hypothesis for the match types' laws."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.api.cognito_identity.logins import VerifiedLogin
from webfed.api.cognito_identity.role_choice import choose_role, rule_matches
from webfed.core.oidc import ValidatedToken
from webfed.core.oidc.session_claims import SessionClaims
from webfed.errors import InvalidIdentityPoolConfiguration, NotAuthorized
from webfed.storage.identity_models import (
    IdentityPool,
    IdentityPoolConfig,
    MappingRule,
    RoleMapping,
    frozen_map,
)

ACCOUNT = "000000000000"
PLAYER = f"arn:aws:iam::{ACCOUNT}:role/player"
GUEST = f"arn:aws:iam::{ACCOUNT}:role/guest"
RED = f"arn:aws:iam::{ACCOUNT}:role/red"
BLUE = f"arn:aws:iam::{ACCOUNT}:role/blue"
PROVIDER = "login.example.com"
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def _pool(
    mappings: dict[str, RoleMapping] | None = None, roles: dict[str, str] | None = None
) -> IdentityPool:
    return IdentityPool(
        pool_id="us-east-1:00000000-0000-4000-8000-000000000001",
        account_id=ACCOUNT,
        arn="arn:aws:cognito-identity:us-east-1:000000000000:identitypool/x",
        config=IdentityPoolConfig(name="game", allow_unauthenticated=True),
        roles=frozen_map(
            {"authenticated": PLAYER, "unauthenticated": GUEST} if roles is None else roles
        ),
        role_mappings=MappingProxyType(mappings or {}),
        tags=frozen_map(),
        create_date=NOW,
        update_date=NOW,
    )


def _login(provider: str = PROVIDER, **claims: Any) -> VerifiedLogin:
    frozen = {
        key: tuple(value) if isinstance(value, list) else value for key, value in claims.items()
    }
    token = ValidatedToken(
        issuer=f"https://{provider}",
        subject="user",
        audience="app",
        audiences=("app",),
        authorized_party=None,
        amr=(),
        issued_at=None,
        expires_at=0,
        not_before=None,
        claims=MappingProxyType({"sub": "user", **frozen}),
        session=SessionClaims(MappingProxyType({}), (), None),
        key_id=None,
        algorithm="RS256",
        fingerprint="0" * 16,
    )
    return VerifiedLogin(provider, "user", token)


def _rules(resolution: str = "Deny") -> RoleMapping:
    return RoleMapping(
        "Rules",
        resolution,
        (
            MappingRule("team", "Equals", "red", RED),
            MappingRule("email", "StartsWith", "blue", BLUE),
            MappingRule("groups", "Contains", "admin", RED),
        ),
    )


def test_defaults_for_guests_and_players() -> None:
    assert choose_role(_pool(), [], None).role_arn == GUEST
    assert choose_role(_pool(), [_login()], None).role_arn == PLAYER


def test_a_missing_default_role_is_a_configuration_error() -> None:
    with pytest.raises(InvalidIdentityPoolConfiguration, match="no unauthenticated role"):
        choose_role(_pool(roles={"authenticated": PLAYER}), [], None)


def test_rules_first_match_wins_and_custom_may_pick_any_match() -> None:
    pool = _pool({PROVIDER: _rules()})
    login = _login(team="red", email="blue@example.com")
    assert choose_role(pool, [login], None).role_arn == RED
    assert choose_role(pool, [login], BLUE).role_arn == BLUE
    with pytest.raises(NotAuthorized, match="CustomRoleArn"):
        choose_role(pool, [login], PLAYER)


def test_no_match_resolves_by_ambiguous_role_resolution() -> None:
    with pytest.raises(NotAuthorized, match="AmbiguousRoleResolution is Deny"):
        choose_role(_pool({PROVIDER: _rules("Deny")}), [_login(team="green")], None)
    chosen = choose_role(_pool({PROVIDER: _rules("AuthenticatedRole")}), [_login()], None)
    assert chosen.role_arn == PLAYER


def test_token_mappings() -> None:
    pool = _pool({PROVIDER: RoleMapping("Token", "Deny", None)})
    login = _login(**{"cognito:roles": [RED, BLUE], "cognito:preferred_role": BLUE})
    assert choose_role(pool, [login], None).role_arn == BLUE
    assert choose_role(pool, [login], RED).role_arn == RED
    with pytest.raises(NotAuthorized):
        choose_role(pool, [login], PLAYER)
    with pytest.raises(NotAuthorized):
        choose_role(pool, [_login()], None)


def test_the_first_login_with_a_mapping_decides() -> None:
    pool = _pool({"other.example.com": _rules()})
    logins = [_login(), _login("other.example.com", team="red")]
    assert choose_role(pool, logins, None).role_arn == RED


def test_custom_role_without_mapping_must_be_the_default() -> None:
    assert choose_role(_pool(), [_login()], PLAYER).role_arn == PLAYER
    with pytest.raises(NotAuthorized):
        choose_role(_pool(), [_login()], RED)


def test_absent_claims_and_objects_never_match() -> None:
    for match_type in ("Equals", "NotEqual", "StartsWith", "Contains"):
        rule = MappingRule("team", match_type, "red", RED)
        assert not rule_matches(rule, {})
        assert not rule_matches(rule, {"team": MappingProxyType({"a": "b"})})


def test_numbers_and_booleans_compare_as_json_text() -> None:
    assert rule_matches(MappingRule("level", "Equals", "3", RED), {"level": 3})
    assert rule_matches(MappingRule("vip", "Equals", "true", RED), {"vip": True})


_text = st.text(max_size=8)


@given(_text, _text)
def test_equals_and_not_equal_are_complements_on_strings(value: str, claim: str) -> None:
    claims = {"c": claim}
    equals = rule_matches(MappingRule("c", "Equals", value, RED), claims)
    differs = rule_matches(MappingRule("c", "NotEqual", value, RED), claims)
    assert equals != differs
    assert equals == (claim == value)


@given(_text, _text, _text)
def test_starts_with_and_contains_agree_with_python(prefix: str, middle: str, rest: str) -> None:
    claim = prefix + middle + rest
    assert rule_matches(MappingRule("c", "StartsWith", prefix, RED), {"c": claim})
    assert rule_matches(MappingRule("c", "Contains", middle, RED), {"c": claim})


@given(st.lists(_text, min_size=1, max_size=4), _text)
def test_arrays_match_when_any_element_does(values: list[str], wanted: str) -> None:
    claims = {"c": tuple(values)}
    assert rule_matches(MappingRule("c", "Equals", wanted, RED), claims) == (wanted in values)
    assert rule_matches(MappingRule("c", "NotEqual", wanted, RED), claims) == (wanted not in values)

"""Revocation rules: what each kind matches, "issued before" at whole seconds, and the inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.authorize.helpers import ACCOUNT, IDENTITY, NOW, game_session
from webfed.core.credentials import SessionContext, WebIdentity
from webfed.errors import InvalidClientTokenId
from webfed.revocation import (
    PRUNE_AFTER,
    RevocationKind,
    RevocationRule,
    RevocationSet,
    normalize_provider,
    parse_role_target,
    revocation_moment,
    validate_access_key_id,
    validate_subject,
)

KEY_ID = "ASIAREVOKETESTKEY234"
OTHER_KEY_ID = "ASIAREVOKETESTKEY567"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/game/GamePlayer"
COGNITO = "cognito-identity.amazonaws.com"


def rule(
    kind: RevocationKind, target: str, *, before: datetime = NOW, **extra: object
) -> RevocationRule:
    values: dict[str, object] = {
        "rule_id": 1,
        "account_id": ACCOUNT,
        "kind": kind,
        "target": target,
        "issued_before": before,
        "created_at": before,
    }
    values.update(extra)
    return RevocationRule(**values)  # type: ignore[arg-type]


def revoked(rules: list[RevocationRule], session: SessionContext, key_id: str = KEY_ID) -> bool:
    return RevocationSet(rules).revoked_by(key_id, session) is not None


SESSION = game_session()  # issued five minutes before NOW


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([rule(RevocationKind.ACCESS_KEY, KEY_ID)], True),
        ([rule(RevocationKind.ACCESS_KEY, OTHER_KEY_ID)], False),
        ([rule(RevocationKind.SUBJECT, IDENTITY)], True),
        ([rule(RevocationKind.SUBJECT, IDENTITY, provider=COGNITO)], True),
        ([rule(RevocationKind.SUBJECT, IDENTITY, provider="accounts.google.com")], False),
        ([rule(RevocationKind.SUBJECT, "someone-else")], False),
        ([rule(RevocationKind.ROLE, ROLE_ARN)], True),
        ([rule(RevocationKind.ROLE, f"arn:aws:iam::{ACCOUNT}:role/GAMEPLAYER")], True),
        ([rule(RevocationKind.ROLE, f"arn:aws:iam::{ACCOUNT}:role/Other")], False),
        ([rule(RevocationKind.ALL, "*")], True),
        ([rule(RevocationKind.ALL, "*", account_id="999999999999")], False),
        ([rule(RevocationKind.ROLE, ROLE_ARN, account_id="999999999999")], False),
        ([rule(RevocationKind.SUBJECT, IDENTITY, account_id="999999999999")], False),
        ([], False),
    ],
    ids=[
        "access-key",
        "other-access-key",
        "subject-any-provider",
        "subject-same-provider",
        "subject-other-provider",
        "other-subject",
        "role-by-arn",
        "role-name-any-case",
        "other-role",
        "all",
        "all-of-another-account",
        "role-of-another-account",
        "subject-of-another-account",
        "no-rules",
    ],
)
def test_what_each_kind_matches(rules: list[RevocationRule], expected: bool) -> None:
    assert revoked(rules, SESSION) is expected


@pytest.mark.parametrize("kind", list(RevocationKind), ids=str)
def test_sessions_issued_at_or_after_the_moment_are_not_revoked(kind: RevocationKind) -> None:
    target = {"access-key": KEY_ID, "subject": IDENTITY, "role": ROLE_ARN, "all": "*"}[kind]
    moment = SESSION.issued_at
    assert not revoked([rule(kind, target, before=moment)], SESSION)
    assert revoked([rule(kind, target, before=moment + timedelta(seconds=1))], SESSION)


def test_a_session_without_a_web_identity_is_not_matched_by_subject() -> None:
    session = replace(SESSION, web_identity=None)
    assert not revoked([rule(RevocationKind.SUBJECT, IDENTITY)], session)
    assert revoked([rule(RevocationKind.ROLE, ROLE_ARN)], session)


def test_the_furthest_reaching_rule_per_target_wins() -> None:
    early = rule(RevocationKind.ROLE, ROLE_ARN, before=SESSION.issued_at - timedelta(hours=1))
    late = rule(RevocationKind.ROLE, ROLE_ARN, before=NOW, rule_id=2)
    for order in ([early, late], [late, early]):
        found = RevocationSet(order).revoked_by(KEY_ID, SESSION)
        assert found is not None
        assert found.rule_id == 2


def test_check_raises_the_aws_error_with_an_explanation_naming_the_rule() -> None:
    target = rule(RevocationKind.SUBJECT, IDENTITY, provider=COGNITO, reason="stolen phone")
    with pytest.raises(InvalidClientTokenId) as caught:
        RevocationSet([target]).check(KEY_ID, SESSION)
    error = caught.value
    assert error.message == "The security token included in the request is invalid."
    explanation = error.explanation or {}
    assert explanation["check"] == "session-token"  # S3 spells it InvalidToken
    assert "revoked by rule 1" in str(explanation["reason"])
    assert explanation["revocation"] == {
        "rule": 1,
        "kind": "subject",
        "target": IDENTITY,
        "provider": COGNITO,
        "issuedBefore": NOW.isoformat(),
        "sessionIssuedAt": SESSION.issued_at.isoformat(),
        "revokedAt": NOW.isoformat(),
        "note": "stolen phone",
    }


def test_an_empty_set_checks_nothing() -> None:
    empty = RevocationSet()
    assert len(empty) == 0
    empty.check(KEY_ID, SESSION)  # returns: nothing to refuse
    assert repr(RevocationSet([rule(RevocationKind.ALL, "*")])) == "RevocationSet(1 rules)"


def test_rules_become_prunable_after_the_longest_session_plus_skew() -> None:
    assert timedelta(hours=13) == PRUNE_AFTER
    assert rule(RevocationKind.ALL, "*").prunable_after == NOW + timedelta(hours=13)


def test_rule_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rule(RevocationKind.ALL, "*", before=NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC), datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)),
        (
            datetime(2026, 11, 26, 9, 0, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 26, 9, 0, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 11, 26, 10, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC),
        ),
    ],
    ids=["whole", "just-after", "other-zone"],
)
def test_the_moment_is_rounded_up_to_a_whole_second(moment: datetime, expected: datetime) -> None:
    assert revocation_moment(moment) == expected
    assert revocation_moment(moment).tzinfo is UTC


def test_a_session_minted_in_the_second_of_the_revocation_is_revoked_too() -> None:
    revoked_at = NOW + timedelta(microseconds=400_000)
    minted_after = replace(SESSION, issued_at=NOW)  # minted at NOW + 0.7 s, stored whole
    assert revoked(
        [rule(RevocationKind.ALL, "*", before=revocation_moment(revoked_at))], minted_after
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        revocation_moment(NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://accounts.google.com", "accounts.google.com"),
        ("accounts.google.com/", "accounts.google.com"),
        ("http://127.0.0.1:5556/realms/game/", "127.0.0.1:5556/realms/game"),
        (
            "arn:aws:iam::123456789012:oidc-provider/login.example.com/oidc",
            "login.example.com/oidc",
        ),
        (" cognito-identity.amazonaws.com ", "cognito-identity.amazonaws.com"),
    ],
    ids=["url", "trailing-slash", "http-with-path", "provider-arn", "cognito"],
)
def test_providers_are_written_as_sessions_record_them(given: str, expected: str) -> None:
    assert normalize_provider(given) == expected


@pytest.mark.parametrize("bad", ["", "https://", "a\nb"], ids=["empty", "scheme-only", "control"])
def test_bad_providers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a provider"):
        normalize_provider(bad)


def test_access_key_ids_and_subjects_are_checked() -> None:
    assert validate_access_key_id(KEY_ID) == KEY_ID
    for bad in ("AKIAREVOKETESTKEY234", "ASIA", "asiarevoketestkey234", KEY_ID + "A"):
        with pytest.raises(ValueError, match="ASIA"):
            validate_access_key_id(bad)
    assert validate_subject("user|42") == "user|42"
    for bad in ("", "x" * 256, "a\x00b"):
        with pytest.raises(ValueError, match="printable"):
            validate_subject(bad)


def test_role_targets() -> None:
    assert parse_role_target("GamePlayer", ACCOUNT) == ("GamePlayer", None)
    assert parse_role_target(ROLE_ARN, ACCOUNT) == ("GamePlayer", ROLE_ARN)
    with pytest.raises(ValueError, match="not in account"):
        parse_role_target(ROLE_ARN, "999999999999")
    for bad in ("", "a/b", "x" * 65, f"arn:aws:iam::{ACCOUNT}:user/GamePlayer"):
        with pytest.raises(ValueError, match="not a role"):
            parse_role_target(bad, ACCOUNT)


def test_rules_describe_themselves() -> None:
    assert (
        rule(RevocationKind.ALL, "*").describe().startswith(f"every session of account {ACCOUNT}")
    )
    assert f"access key {KEY_ID}" in rule(RevocationKind.ACCESS_KEY, KEY_ID).describe()
    assert f"role {ROLE_ARN}" in rule(RevocationKind.ROLE, ROLE_ARN).describe()
    described = rule(RevocationKind.SUBJECT, "alice", provider=COGNITO).describe()
    assert (
        described == f"sessions of subject 'alice' from {COGNITO} issued before {NOW.isoformat()}"
    )


# --- the index agrees with reading every rule --------------------------------------------------

_ACCOUNTS = st.sampled_from([ACCOUNT, "999999999999"])
_SUBJECTS = st.sampled_from(["alice", "bob", IDENTITY])
_PROVIDERS = st.sampled_from(["accounts.google.com", COGNITO])
_ROLES = st.sampled_from(["GamePlayer", "gameplayer", "Admin"])
_KEYS = st.sampled_from([KEY_ID, OTHER_KEY_ID])
_OFFSETS = st.integers(min_value=-5, max_value=5).map(
    lambda seconds: NOW + timedelta(seconds=seconds)
)


@st.composite
def _rules(draw: st.DrawFn) -> RevocationRule:
    kind = draw(st.sampled_from(list(RevocationKind)))
    account = draw(_ACCOUNTS)
    provider = None
    if kind is RevocationKind.ACCESS_KEY:
        target = draw(_KEYS)
    elif kind is RevocationKind.SUBJECT:
        target = draw(_SUBJECTS)
        provider = draw(st.none() | _PROVIDERS)
    elif kind is RevocationKind.ROLE:
        target = f"arn:aws:iam::{account}:role/{draw(_ROLES)}"
    else:
        target = "*"
    before = draw(_OFFSETS)
    return RevocationRule(draw(st.integers(1, 99)), account, kind, target, before, before, provider)


@st.composite
def _sessions(draw: st.DrawFn) -> SessionContext:
    web = None
    if draw(st.booleans()):
        web = WebIdentity(draw(_PROVIDERS), "aud", draw(_SUBJECTS))
    return replace(
        SESSION,
        account_id=draw(_ACCOUNTS),
        role_name=draw(_ROLES),
        issued_at=draw(_OFFSETS),
        web_identity=web,
    )


def _matches(candidate: RevocationRule, key_id: str, session: SessionContext) -> bool:
    """One rule read the slow, obvious way."""
    if session.issued_at >= candidate.issued_before:
        return False
    if candidate.kind is RevocationKind.ACCESS_KEY:
        return candidate.target == key_id
    if candidate.account_id != session.account_id:
        return False
    if candidate.kind is RevocationKind.ALL:
        return True
    if candidate.kind is RevocationKind.ROLE:
        return candidate.target.rsplit("/", 1)[1].lower() == session.role_name.lower()
    web = session.web_identity
    if web is None or web.sub != candidate.target:
        return False
    return candidate.provider is None or candidate.provider == web.provider


@settings(max_examples=300, deadline=None)
@given(st.lists(_rules(), max_size=8), _sessions(), _KEYS)
def test_the_index_agrees_with_a_linear_scan(
    rules: list[RevocationRule], session: SessionContext, key_id: str
) -> None:
    expected = any(_matches(candidate, key_id, session) for candidate in rules)
    found = RevocationSet(rules).revoked_by(key_id, session)
    assert (found is not None) is expected
    if found is not None:
        assert _matches(found, key_id, session)

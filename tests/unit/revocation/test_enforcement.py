"""Revocation on the request path: the verifier refuses revoked sessions (every signing form),
the refusal's spelling per protocol, and how a process's rule set follows the stored rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from tests.unit.authorize.helpers import (
    ACCOUNT,
    ADMIN,
    IDENTITY,
    NOW,
    Clock,
    game_session,
    mint,
    ring,
    sign_with,
)
from tests.unit.sigv4.botocore_signer import Signer
from webfed.core.credentials import SessionTokenCache
from webfed.core.sigv4 import S3_RULES, STANDARD_RULES
from webfed.errors import InvalidClientTokenId
from webfed.revocation import (
    RevocationKind,
    RevocationRule,
    Revocations,
    RevocationSet,
)
from webfed.verify import RequestVerifier, json_error_code, s3_error

COGNITO = "cognito-identity.amazonaws.com"


def _rule(kind: RevocationKind, target: str, rule_id: int = 7, **extra: object) -> RevocationRule:
    values: dict[str, object] = {
        "rule_id": rule_id,
        "account_id": ACCOUNT,
        "kind": kind,
        "target": target,
        "issued_before": NOW,
        "created_at": NOW,
    }
    values.update(extra)
    return RevocationRule(**values)  # type: ignore[arg-type]


@dataclass
class _Holder:
    """What the runtime hands the verifier: the current set, swapped whole."""

    current: RevocationSet = field(default_factory=RevocationSet)

    def get(self) -> RevocationSet:
        return self.current


def _verifier(holder: _Holder) -> RequestVerifier:
    current = ring()
    return RequestVerifier(
        lambda: current,
        SessionTokenCache(),
        clock=Clock(),
        admin=ADMIN,
        account_id=ACCOUNT,
        revocations=holder.get,
    )


@pytest.mark.parametrize("signer", ["header", "query", "s3", "s3-query"])
def test_a_revoked_session_is_refused_in_every_signing_form(signer: Signer) -> None:
    credentials = mint()
    holder = _Holder()
    checker = _verifier(holder)
    rules = S3_RULES if signer.startswith("s3") else STANDARD_RULES
    request = sign_with(credentials, signer=signer)
    assert checker.verify(request, rules=rules).access_key_id == credentials.access_key_id
    holder.current = RevocationSet([_rule(RevocationKind.SUBJECT, IDENTITY, provider=COGNITO)])
    with pytest.raises(InvalidClientTokenId) as caught:
        checker.verify(request, rules=rules)  # the same request: the unseal cache does not help
    explanation = caught.value.explanation or {}
    assert explanation["check"] == "session-token"
    assert explanation["presigned"] is signer.endswith("query")
    assert explanation["accessKeyId"] == credentials.access_key_id
    assert "rule 7" in str(explanation["reason"])
    text = repr(explanation)
    assert credentials.secret_access_key not in text
    assert credentials.session_token not in text
    holder.current = RevocationSet()
    assert checker.verify(request, rules=rules).session is not None  # rules dropped: works again


def test_the_refusal_in_s3_and_json_spelling() -> None:
    credentials = mint()
    holder = _Holder(RevocationSet([_rule(RevocationKind.ACCESS_KEY, credentials.access_key_id)]))
    with pytest.raises(InvalidClientTokenId) as caught:
        _verifier(holder).verify(sign_with(credentials, signer="s3"), rules=S3_RULES)
    spelled = s3_error(caught.value)
    assert (spelled.code, spelled.status) == ("InvalidToken", 400)
    assert json_error_code(caught.value) == "UnrecognizedClientException"


def test_later_sessions_of_the_same_subject_and_other_sessions_pass() -> None:
    holder = _Holder(RevocationSet([_rule(RevocationKind.SUBJECT, IDENTITY)]))
    checker = _verifier(holder)
    later = mint(game_session(issued_at=NOW))
    assert checker.verify(sign_with(later), rules=STANDARD_RULES).session is not None
    other = mint(game_session(web_identity=None))
    assert checker.verify(sign_with(other), rules=STANDARD_RULES).session is not None


def test_the_administrator_is_never_revoked() -> None:
    holder = _Holder(RevocationSet([_rule(RevocationKind.ALL, "*")]))
    caller = _verifier(holder).verify(sign_with(ADMIN), rules=STANDARD_RULES)
    assert caller.is_admin


def test_without_revocations_the_verifier_checks_none() -> None:
    current = ring()
    checker = RequestVerifier(lambda: current, SessionTokenCache(), clock=Clock())
    assert checker.verify(sign_with(mint()), rules=STANDARD_RULES).session is not None


def test_credentials_is_the_public_first_half_of_verification() -> None:
    """The gateway's streaming path calls it and must get the revocation check too."""
    from webfed.core import sigv4

    credentials = mint()
    holder = _Holder(
        RevocationSet([_rule(RevocationKind.ROLE, f"arn:aws:iam::{ACCOUNT}:role/game/GamePlayer")])
    )
    request = sign_with(credentials)
    parsed = sigv4.parse_authorization(request)
    with pytest.raises(InvalidClientTokenId):
        _verifier(holder).credentials(parsed, NOW)
    caller, secret = _verifier(_Holder()).credentials(parsed, NOW)
    assert secret == credentials.secret_access_key
    assert caller.access_key_id == credentials.access_key_id


# --- a process's rule set follows the stored rules ---------------------------------------------


class _Source:
    """Rules in memory, with the repository's version contract: (count, highest id)."""

    def __init__(self) -> None:
        self.rules: list[RevocationRule] = []
        self.loads = 0
        self._next_id = 1

    def add(self, kind: RevocationKind, target: str, before: datetime = NOW) -> None:
        self.rules.append(_rule(kind, target, self._next_id, issued_before=before))
        self._next_id += 1

    async def version(self) -> tuple[int, int]:
        return len(self.rules), max((rule.rule_id for rule in self.rules), default=0)

    async def active(self, now: datetime) -> Sequence[RevocationRule]:
        self.loads += 1
        return [rule for rule in self.rules if rule.prunable_after > now]


async def test_refresh_reloads_only_when_the_rules_change() -> None:
    source = _Source()
    revocations = Revocations(source, Clock())
    assert await revocations.refresh()  # first load
    assert len(revocations.get()) == 0
    assert not await revocations.refresh()
    assert source.loads == 1
    source.add(RevocationKind.ALL, "*")
    assert await revocations.refresh()
    assert len(revocations.get()) == 1
    assert not await revocations.refresh()
    assert source.loads == 2
    source.rules.clear()  # pruned
    assert await revocations.refresh()
    assert len(revocations.get()) == 0
    assert "0 rules" in repr(revocations)


async def test_rules_past_their_horizon_are_not_loaded() -> None:
    source = _Source()
    source.add(RevocationKind.ALL, "*", before=NOW - timedelta(hours=14))
    source.add(RevocationKind.ROLE, f"arn:aws:iam::{ACCOUNT}:role/GamePlayer")
    revocations = Revocations(source, Clock())
    await revocations.refresh()
    assert len(revocations.get()) == 1
    old_session = replace(game_session(), issued_at=NOW - timedelta(hours=15))
    rule = revocations.get().revoked_by("ASIAREVOKETESTKEY234", old_session)
    assert rule is not None
    assert rule.kind is RevocationKind.ROLE

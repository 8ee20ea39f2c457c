"""Shared values for the credentials tests: a fixed clock, seeded randomness, one key ring."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from webfed.core.credentials import SessionContext, WebIdentity
from webfed.core.keys import KeyRing, SealingKey

NOW = datetime(2026, 11, 26, 6, 0, 0, tzinfo=UTC)
FIXED_KEY = SealingKey("GOLDENAA", bytes(range(32)), NOW - timedelta(days=1))


def full_session() -> SessionContext:
    """A context with every field set to something distinctive."""
    return SessionContext(
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/games/GameRole",
        role_id="AROACLKWSDQRAOEXAMPLE",
        role_name="GameRole",
        session_name="player-42@example.com",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        session_policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":"s3:GetObject","Resource":"arn:aws:s3:::scores/${aws:userid}/*"}]}',
        session_policy_arns=("arn:aws:iam::123456789012:policy/ReadScores",),
        session_tags=(("Project", "Automation"), ("CostCenter", "987654"), ("Team", "")),
        transitive_tag_keys=("Project", "CostCenter"),
        source_identity="Saanvi",
        web_identity=WebIdentity(
            provider="www.amazon.com",
            aud="client.5498841531868486423.1548@apps.example.com",
            sub="amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A",
            amr=("authenticated", "www.amazon.com"),
            id="amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A",
            federated_provider="www.amazon.com",
        ),
        chained=True,
    )


def minimal_session() -> SessionContext:
    return SessionContext(
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/Minimal",
        role_id="AROAMINIMALEXAMPLE123",
        role_name="Minimal",
        session_name="s1",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261126)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing([FIXED_KEY], NOW)

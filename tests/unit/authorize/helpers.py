"""Shared values for the request-authorization tests: a fixed clock, keys, minted sessions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.sigv4.botocore_signer import Signer, botocore_signed
from webfed.admin import AdminCredentials
from webfed.core.credentials import (
    SessionContext,
    SessionTokenCache,
    TemporaryCredentials,
    WebIdentity,
    mint_credentials,
)
from webfed.core.keys import KeyRing, SealingKey
from webfed.core.sigv4 import HttpRequest
from webfed.verify import RequestVerifier

NOW = datetime(2026, 11, 26, 6, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
KEY = SealingKey("AUTHZKEY", bytes(range(32)), NOW - timedelta(days=1))
OTHER_KEY = SealingKey("OTHERKEY", bytes(range(1, 33)), NOW - timedelta(days=1))
ADMIN = AdminCredentials("AKIAWEBFEDADMINTEST1", "admin-secret-for-the-authorize-tests-0000")
POOL = "us-east-1:4f9a5b2e-0000-4000-8000-000000000001"
IDENTITY = "us-east-1:0b8a7e3c-1111-4111-8111-111111111111"


def ring(*keys: SealingKey) -> KeyRing:
    return KeyRing(keys or (KEY,), NOW)


def game_session(**overrides: Any) -> SessionContext:
    """A mobile-game player's session from a Cognito identity pool."""
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/game/GamePlayer",
        "role_id": "AROAGAMEPLAYEREXAMPLE",
        "role_name": "GamePlayer",
        "session_name": "player-42",
        "issued_at": NOW - timedelta(minutes=5),
        "expires_at": NOW + timedelta(hours=1),
        "session_tags": (("team", "red"),),
        "source_identity": "player-42@example.com",
        "web_identity": WebIdentity(
            provider="cognito-identity.amazonaws.com",
            aud=POOL,
            sub=IDENTITY,
            amr=("authenticated", "accounts.google.com"),
            federated_provider="cognito-identity.amazonaws.com",
        ),
    }
    values.update(overrides)
    return SessionContext(**values)


def mint(
    session: SessionContext | None = None, key_ring: KeyRing | None = None
) -> TemporaryCredentials:
    return mint_credentials(
        session or game_session(), key_ring=key_ring or ring(), rng=random.Random(7)
    )


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def verifier(clock: Clock | None = None, key_ring: KeyRing | None = None) -> RequestVerifier:
    current = key_ring or ring()
    return RequestVerifier(
        lambda: current,
        SessionTokenCache(),
        clock=clock or Clock(),
        admin=ADMIN,
        account_id=ACCOUNT,
    )


def sign_with(
    credentials: TemporaryCredentials | AdminCredentials,
    *,
    signer: Signer = "header",
    signed_at: datetime = NOW,
    service: str = "execute-api",
    params: Sequence[tuple[str, str]] = (),
    **kwargs: Any,
) -> HttpRequest:
    """A request signed by botocore with webfed credentials (temporary or the admin's)."""
    token = getattr(credentials, "session_token", None)
    return botocore_signed(
        signer=signer,
        signed_at=signed_at,
        access_key_id=credentials.access_key_id,
        secret=credentials.secret_access_key,
        service=service,
        token=token,
        params=params,
        **kwargs,
    )

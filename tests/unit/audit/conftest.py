"""Audit tests: event builders, a recording logger, and a migrated Store per backend."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from webfed.audit import AuditEvent, web_identity_data, web_identity_user
from webfed.storage import Store, migrate

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PROVIDER = "accounts.example.com"
AUDIENCE = "my-game-app"
ROLE_ARN = "arn:aws:iam::123456789012:role/Players"


def federation_event(
    account_id: str = "123456789012",
    *,
    index: int = 0,
    subject: str = "player-1",
    error_code: str | None = None,
    event_name: str = "AssumeRoleWithWebIdentity",
    token: str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSJ9.c2lnbmF0dXJl",
) -> AuditEvent:
    """An AssumeRoleWithWebIdentity event, ``index`` seconds after NOW."""
    return AuditEvent(
        event_time=NOW + timedelta(seconds=index),
        event_source="sts.amazonaws.com",
        event_name=event_name,
        account_id=account_id,
        request_id=f"req-{index}",
        source_ip="203.0.113.7",
        user_agent="aws-cli/2.15 Python/3.11",
        error_code=error_code,
        error_message="Incorrect token audience." if error_code else None,
        user_identity=web_identity_user(provider=PROVIDER, audience=AUDIENCE, subject=subject),
        request_parameters={
            "roleArn": ROLE_ARN,
            "roleSessionName": f"session-{index}",
            "webIdentityToken": token,
        },
        additional_event_data=web_identity_data(
            provider=PROVIDER, audience=AUDIENCE, subject=subject, token=token
        ),
    )


class RecordingLogger:
    """Stands in for the structlog logger: keeps (level, message, fields) of each call."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, message: str, **fields: Any) -> None:
        self.lines.append(("info", message, fields))

    def warning(self, message: str, **fields: Any) -> None:
        self.lines.append(("warning", message, fields))

    def error(self, message: str, **fields: Any) -> None:
        self.lines.append(("error", message, fields))

    def levels(self, level: str) -> list[tuple[str, dict[str, Any]]]:
        return [(message, fields) for lvl, message, fields in self.lines if lvl == level]


@pytest.fixture
def logger() -> RecordingLogger:
    return RecordingLogger()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    migrate(database_url)
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def account() -> str:
    return str(random.SystemRandom().randrange(10**11, 10**12))

"""Micro-benchmark of the audit trail's costs, without a server.

Prints, for an ``AssumeRoleWithWebIdentity`` event shaped as the HTTP hook builds it:

* events/s built and scrubbed (``AuditEvent(...)``);
* records/s rendered to the row's JSON text;
* rows/s stored by ``AuditRepository.insert_many`` in batches of 500, on a SQLite file and, when
  ``--postgres URL`` (or ``WEBFED_TEST_DATABASE_URL``) names one, on PostgreSQL (the table is
  migrated there and the benchmark's rows deleted afterwards).

Usage: ``.venv/bin/python bench/audit.py [--events N] [--postgres URL]``. Numbers from a shared
machine are noisy: compare runs taken back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from webfed.audit import AuditEvent, web_identity_data, web_identity_user
from webfed.storage import Store, migrate
from webfed.storage.audit import audit_events, record_json

PROVIDER = "https://accounts.example.com"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSJ9.c2lnbmF0dXJl"
BATCH = 500


def build_event(index: int, account_id: str = "123456789012") -> AuditEvent:
    """What ``webfed.http.auditing.audit_event`` builds for a successful federation call."""
    subject = f"player-{index}"
    return AuditEvent(
        event_time=datetime.now(UTC),
        event_source="sts.amazonaws.com",
        event_name="AssumeRoleWithWebIdentity",
        account_id=account_id,
        request_id=f"req-{index}",
        source_ip="127.0.0.1",
        user_agent="Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 lang/python#3.11.9",
        user_identity=web_identity_user(provider=PROVIDER, audience="app", subject=subject),
        request_parameters={
            "roleArn": "arn:aws:iam::123456789012:role/Players",
            "roleSessionName": f"session-{index}",
            "webIdentityToken": TOKEN,
            "durationSeconds": 3600,
        },
        response_elements={
            "subjectFromWebIdentityToken": subject,
            "audience": "app",
            "provider": PROVIDER,
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::123456789012:assumed-role/Players/session-{index}",
                "assumedRoleId": f"AROAEXAMPLEROLEID0000:session-{index}",
            },
            "credentials": {"accessKeyId": "ASIAEXAMPLEKEY000000", "expiration": "2026-01-01"},
        },
        additional_event_data=web_identity_data(
            provider=PROVIDER, audience="app", subject=subject, token=TOKEN
        ),
        event_id=str(uuid.uuid4()),
    )


def rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


async def store_rate(url: str, events: list[AuditEvent]) -> float:
    migrate(url)
    store = await Store.open(url)
    try:
        await store.audit.insert_many(events[:BATCH])  # warm: connections, compiled statements
        started = time.perf_counter()
        for start in range(0, len(events), BATCH):
            await store.audit.insert_many(events[start : start + BATCH])
        elapsed = time.perf_counter() - started
        accounts = {event.account_id for event in events}
        async with store._db.plain_write() as connection:
            await connection.execute(
                sa.delete(audit_events).where(audit_events.c.account_id.in_(accounts))
            )
        return len(events) / elapsed
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("WEBFED_TEST_DATABASE_URL"))
    args = parser.parse_args()
    count = args.events
    build_event(0)
    built = rate(count, lambda: [build_event(index) for index in range(count)])
    print(f"built+scrubbed       {built:>10,.0f} events/s ({1e6 / built:.1f} us each)")
    events = [build_event(index, account_id="999999999999") for index in range(count)]
    rendered = rate(count, lambda: [record_json(event) for event in events])
    # Fresh events for storing: each renders its record there, as without a log line.
    events = [build_event(index, account_id="999999999999") for index in range(count)]
    print(f"record JSON          {rendered:>10,.0f} records/s ({1e6 / rendered:.1f} us each)")
    with tempfile.TemporaryDirectory(prefix="webfed-bench-audit-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'webfed.db'}"
        stored = asyncio.run(store_rate(url, events))
        print(f"stored, SQLite file  {stored:>10,.0f} rows/s ({1e6 / stored:.1f} us each)")
    if args.postgres:
        stored = asyncio.run(store_rate(args.postgres, events))
        print(f"stored, PostgreSQL   {stored:>10,.0f} rows/s ({1e6 / stored:.1f} us each)")
    print("(a shared machine: compare runs taken back to back)")


if __name__ == "__main__":
    main()

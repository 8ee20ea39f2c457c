"""``webfed audit tail``: the newest audit events of the account, as a table or CloudTrail JSON;
``webfed audit prune --older-than DAYS``: retention.

Takes the store options of ``webfed serve`` (``--data-dir``, ``--database-url``,
``--account-id``, ``--region``, ``--config``), each also a ``WEBFED_*`` variable. ``--follow``
polls the table every second and prints what arrived since, until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy.exc as sa_exc
from rich.console import Console
from rich.table import Table

from webfed.cli_options import resolve_settings, store_options
from webfed.settings import Settings

if TYPE_CHECKING:
    from webfed.storage import Store
    from webfed.storage.audit import StoredAuditEvent

__all__ = ["audit"]

_FOLLOW_INTERVAL = 1.0
_FOLLOW_PAGE = 500
# Fixed widths, so the batches printed while following line up under one header.
_COLUMNS = (
    ("time", 19),
    ("event", 26),
    ("principal / session", 36),
    ("provider", 22),
    ("sub", 20),
    ("source IP", 15),
    ("error", 16),
)
_PIPE_WIDTH = 200  # when the output is not a terminal, do not squeeze to 80 columns


@dataclass(frozen=True, slots=True)
class _Query:
    account_id: str
    lines: int
    event_name: str | None
    errors_only: bool


@click.group()
def audit() -> None:
    """Read the audit trail."""


@audit.command()
@click.option("-n", "--lines", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events as they arrive.")
@click.option("--json", "as_json", is_flag=True, help="Raw CloudTrail records, one per line.")
@click.option("--errors", is_flag=True, help="Only failed calls.")
@click.option("--event", "event_name", help="Only this operation (e.g. AssumeRoleWithWebIdentity).")
@click.option("--poll-interval", type=float, default=_FOLLOW_INTERVAL, hidden=True)
@click.option("--max-polls", type=click.IntRange(min=1), default=None, hidden=True)
@store_options
def tail(
    lines: int,
    follow: bool,
    as_json: bool,
    errors: bool,
    event_name: str | None,
    poll_interval: float,
    max_polls: int | None,
    **options: Any,
) -> None:
    """Show the newest audit events (oldest first, like tail)."""
    settings = resolve_settings(options)
    _require_database(settings)
    query = _Query(settings.account_id, lines, event_name, errors)
    printer = _Printer(as_json)
    polls = max_polls if follow else 0
    with _database_errors(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(settings.effective_database_url, query, printer, poll_interval, polls))


@audit.command()
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    required=True,
    metavar="DAYS",
    help="Delete events older than this many days (every account).",
)
@store_options
def prune(days: int, **options: Any) -> None:
    """Delete old audit events (retention); run it from cron or a timer."""
    settings = resolve_settings(options)
    _require_database(settings)
    before = datetime.now(UTC) - timedelta(days=days)
    with _database_errors():
        deleted = asyncio.run(_prune(settings.effective_database_url, before))
    click.echo(f"deleted {deleted} audit events older than {before:%Y-%m-%dT%H:%M:%SZ}", err=True)


async def _prune(url: str, before: datetime) -> int:
    from webfed.storage import Store

    store = await Store.open(url)
    try:
        return await store.audit.prune(before)
    finally:
        await store.close()


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be reached or has no audit table: a short message, no trace."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
        raise click.ClickException(
            f"cannot use the audit table ({type(error).__name__}); "
            "is the database reachable and upgraded (webfed db upgrade)?"
        ) from None


def _require_database(settings: Settings) -> None:
    if settings.database_url is None:
        path = Path(settings.data_dir) / "webfed.db"
        if not path.is_file():
            raise click.ClickException(f"no webfed database at {path}")


async def _tail(
    url: str, query: _Query, printer: _Printer, interval: float, polls: int | None
) -> None:
    """Print the newest events; then, while ``polls`` allows (None: forever), what arrives."""
    from webfed.storage import Store

    store = await Store.open(url)
    try:
        events = await _read(store, query, after_id=None)
        printer.show(events)
        last_id = events[-1].id if events else await _newest_id(store, query)
        while polls is None or polls > 0:
            polls = None if polls is None else polls - 1
            await asyncio.sleep(interval)
            last_id = await _catch_up(store, query, printer, last_id)
    finally:
        await store.close()


async def _catch_up(store: Store, query: _Query, printer: _Printer, last_id: int) -> int:
    """Print every event stored after ``last_id``, page by page; return the new last id."""
    while True:
        events = await _read(store, query, after_id=last_id)
        printer.show(events)
        if not events:
            return last_id
        last_id = events[-1].id
        if len(events) < _FOLLOW_PAGE:
            return last_id


async def _read(store: Store, query: _Query, after_id: int | None) -> list[StoredAuditEvent]:
    return await store.audit.tail(
        query.account_id,
        query.lines if after_id is None else _FOLLOW_PAGE,
        after_id=after_id,
        event_name=query.event_name,
        errors_only=query.errors_only,
    )


async def _newest_id(store: Store, query: _Query) -> int:
    """Where following starts when nothing matched yet: after the newest event of any kind."""
    newest = await store.audit.tail(query.account_id, 1)
    return newest[-1].id if newest else 0


class _Printer:
    """A rich table (header once, fixed widths so followed batches line up) or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self._as_json = as_json
        width = None if sys.stdout.isatty() else _PIPE_WIDTH
        self._console = Console(highlight=False, width=width)
        self._header = True

    def show(self, events: list[StoredAuditEvent]) -> None:
        if self._as_json:
            for event in events:
                click.echo(event.record_json)
            return
        if not events and not self._header:
            return
        table = Table(box=None, show_header=self._header, pad_edge=False)
        for title, width in _COLUMNS:
            table.add_column(title, width=width, no_wrap=True, overflow="ellipsis")
        for event in events:
            table.add_row(*_cells(event))
        self._console.print(table)
        self._header = False


def _who(event: StoredAuditEvent) -> str:
    """A federation call shows the role and session asked for; other calls, the caller."""
    session = event.session_name
    if event.role_arn:
        role = event.role_arn.rsplit("/", 1)[-1]
        return f"{role} / {session}" if session else role
    if event.principal and session:
        return f"{event.principal} / {session}"
    return event.principal or session or "-"


def _cells(event: StoredAuditEvent) -> tuple[str, ...]:
    return (
        event.event_time.strftime("%Y-%m-%d %H:%M:%S"),
        event.event_name,
        _who(event),
        event.provider or "-",
        event.subject or "-",
        event.source_ip or "-",
        event.error_code or "",
    )

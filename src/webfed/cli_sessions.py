"""``webfed sessions``: revoke live temporary credentials, list the rules, prune old ones.

``revoke`` stores a rule (``docs/revocation.md``) that every node loads within about two seconds
and checks on every signed request: by one session's access key id, by web identity subject
(optionally of one provider), by role, or every session of the account, each for the sessions
issued before ``--issued-before`` (default: now). Each revocation is also an audit event
(``eventSource`` ``webfed``, ``eventName`` ``RevokeSessions``). The commands take the store
options of ``webfed serve``; they need no master key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
import sqlalchemy.exc as sa_exc
from rich.console import Console
from rich.table import Table

from webfed import __version__
from webfed.audit import AuditEvent, root_user
from webfed.cli_options import resolve_settings, store_options
from webfed.revocation import (
    MAX_REASON_LENGTH,
    RevocationKind,
    RevocationRule,
    normalize_provider,
    parse_role_target,
    revocation_moment,
    validate_access_key_id,
    validate_subject,
)
from webfed.settings import Settings
from webfed.storage import Store, migrate

__all__ = ["sessions"]

ENFORCEMENT_BOUND = "2 seconds"
EVENT_SOURCE = "webfed"


@dataclass(frozen=True, slots=True)
class _Request:
    """One checked ``revoke`` command line; ``role_name`` is looked up to store the role's ARN."""

    kind: RevocationKind
    target: str
    provider: str | None
    role_name: str | None
    issued_before: datetime
    reason: str | None


@click.group()
def sessions() -> None:
    """Revoke temporary credentials before they expire."""


@sessions.command()
@click.option("--access-key-id", help="Revoke the one session of this access key id (ASIA…).")
@click.option("--sub", help="Revoke the sessions of this web identity subject.")
@click.option("--provider", help="With --sub: only sessions from this provider (URL or ARN).")
@click.option("--role", help="Revoke the sessions of this role (ARN or name).")
@click.option("--all", "everything", is_flag=True, help="Revoke every session of the account.")
@click.option(
    "--issued-before",
    default="now",
    show_default=True,
    metavar="ISO8601|now",
    help="Revoke only sessions issued before this moment (with a time zone, e.g. …Z).",
)
@click.option("--reason", help=f"A note kept with the rule (at most {MAX_REASON_LENGTH}).")
@store_options
def revoke(
    access_key_id: str | None,
    sub: str | None,
    provider: str | None,
    role: str | None,
    everything: bool,
    issued_before: str,
    reason: str | None,
    **options: Any,
) -> None:
    """Revoke sessions: every node refuses them within two seconds."""
    now = datetime.now(UTC)
    settings = resolve_settings(options)
    selectors = [
        name
        for name, given in (
            ("--access-key-id", access_key_id),
            ("--sub", sub),
            ("--role", role),
            ("--all", everything or None),
        )
        if given is not None
    ]
    if len(selectors) != 1:
        raise click.UsageError(
            "give exactly one of --access-key-id, --sub, --role, --all"
            + (f" (got {', '.join(selectors)})" if selectors else "")
        )
    if provider is not None and sub is None:
        raise click.UsageError("--provider narrows --sub; give it with --sub only")
    kind, target, source, role_name = _target(
        (access_key_id, sub, provider, role), settings.account_id
    )
    request = _Request(
        kind, target, source, role_name, _moment(issued_before, now), _reason(reason)
    )
    store_url = _prepare(settings)
    with _database_errors():
        rule, pruned, warning = asyncio.run(_revoke(store_url, settings, now, request))
    if warning:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"revoked (rule {rule.rule_id}): {rule.describe()}")
    click.echo(f"every node refuses these sessions within {ENFORCEMENT_BOUND}", err=True)
    if pruned:
        click.echo(f"pruned {pruned} expired rules", err=True)


@sessions.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule.")
@store_options
def list_rules(as_json: bool, **options: Any) -> None:
    """Show the account's revocation rules (reads only)."""
    settings = resolve_settings(options)
    _require_database(settings)
    with _database_errors():
        rules = asyncio.run(_list(settings.effective_database_url, settings.account_id))
    now = datetime.now(UTC)
    if as_json:
        for rule in rules:
            click.echo(json.dumps(_as_json(rule, now), sort_keys=True))
        return
    if not rules:
        click.echo("no revocation rules")
        return
    table = Table("rule", "kind", "target", "provider", "issued before", "revoked at", "note")
    for rule in rules:
        expired = " (prunable)" if rule.prunable_after <= now else ""
        table.add_row(
            str(rule.rule_id),
            str(rule.kind),
            rule.target,
            rule.provider or "-",
            rule.issued_before.isoformat() + expired,
            rule.created_at.isoformat(),
            rule.reason or "",
        )
    Console(width=200, highlight=False).print(table)


@sessions.command()
@store_options
def prune(**options: Any) -> None:
    """Delete the rules whose sessions have all expired (13 hours after --issued-before)."""
    settings = resolve_settings(options)
    _require_database(settings)
    with _database_errors():
        deleted = asyncio.run(_prune(settings.effective_database_url, datetime.now(UTC)))
    click.echo(f"deleted {deleted} expired revocation rules")


# --- checking the command line ----------------------------------------------------------------


def _moment(text: str, now: datetime) -> datetime:
    """``now`` or an ISO 8601 moment with a time zone, not in the future; whole seconds up."""
    if text.strip().lower() == "now":
        return revocation_moment(now)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-11-26T09:00:00Z) or 'now'",
            param_hint="--issued-before",
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            "give a time zone (e.g. 2026-11-26T09:00:00Z)", param_hint="--issued-before"
        )
    if moment > now:
        raise click.BadParameter(
            "must not be in the future: a rule revokes sessions that already exist",
            param_hint="--issued-before",
        )
    return revocation_moment(moment)


def _reason(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_REASON_LENGTH:
        raise click.BadParameter(f"at most {MAX_REASON_LENGTH} characters", param_hint="--reason")
    return text.strip()


def _target(
    selectors: tuple[str | None, str | None, str | None, str | None], account_id: str
) -> tuple[RevocationKind, str, str | None, str | None]:
    """(kind, target, provider, role name to look up) from the selectors; raise BadParameter."""
    access_key_id, sub, provider, role = selectors
    option = "--access-key-id"
    try:
        if access_key_id is not None:
            return RevocationKind.ACCESS_KEY, validate_access_key_id(access_key_id), None, None
        if sub is not None:
            option = "--provider"
            source = normalize_provider(provider) if provider is not None else None
            option = "--sub"
            return RevocationKind.SUBJECT, validate_subject(sub), source, None
        if role is not None:
            option = "--role"
            name, arn = parse_role_target(role, account_id)
            return RevocationKind.ROLE, arn or "", None, name
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None
    return RevocationKind.ALL, "*", None, None


# --- the database -----------------------------------------------------------------------------


def _require_database(settings: Settings) -> None:
    """Never revoke into (or read) a database that a mistyped --data-dir would create."""
    if settings.database_url is None and not (settings.data_dir / "webfed.db").is_file():
        raise click.UsageError(f"no webfed database in {settings.data_dir}")


def _prepare(settings: Settings) -> str:
    _require_database(settings)
    with _database_errors():
        migrate(settings.effective_database_url)
    return settings.effective_database_url


async def _revoke(
    url: str, settings: Settings, now: datetime, request: _Request
) -> tuple[RevocationRule, int, str | None]:
    """Store the rule (pruning expired ones) and its audit event; a warning, if any."""
    account_id = settings.account_id
    target = request.target
    store = await Store.open(url)
    try:
        if not await store.keys.list():
            raise click.ClickException(
                "no webfed server has used this database yet (it has no sealing keys), so it "
                "has no sessions to revoke: check --database-url / --data-dir"
            )
        warning = None
        if request.role_name is not None:
            target, warning = await _role_arn(store, account_id, request.role_name, target)
        rule, pruned = await store.revocations.add(
            account_id=account_id,
            kind=request.kind,
            target=target,
            provider=request.provider,
            issued_before=request.issued_before,
            now=now,
            reason=request.reason,
        )
        await store.audit.insert_many([_audit_event(rule, settings)])
    finally:
        await store.close()
    return rule, pruned, warning


async def _role_arn(
    store: Store, account_id: str, name: str, given_arn: str
) -> tuple[str, str | None]:
    """The role's ARN as stored; a role that does not exist (now) still gets its rule."""
    found = await store.iam.roles.find(account_id, name)
    if found is not None:
        return found.arn, None
    arn = given_arn or f"arn:aws:iam::{account_id}:role/{name}"
    return arn, f"no role named {name} exists now; the rule still covers its earlier sessions"


def _audit_event(rule: RevocationRule, settings: Settings) -> AuditEvent:
    parameters: dict[str, object] = {
        "kind": str(rule.kind),
        "target": rule.target,
        "issuedBefore": rule.issued_before.isoformat(),
    }
    if rule.provider is not None:
        parameters["provider"] = rule.provider
    if rule.reason is not None:
        parameters["reason"] = rule.reason
    return AuditEvent(
        event_time=rule.created_at,
        event_source=EVENT_SOURCE,
        event_name="RevokeSessions",
        account_id=rule.account_id,
        user_agent=f"webfed-cli/{__version__}",
        user_identity=root_user(rule.account_id),
        request_parameters=parameters,
        response_elements={"ruleId": rule.rule_id},
        additional_event_data={"host": socket.gethostname(), "command": "webfed sessions revoke"},
        aws_region=settings.region,
    )


async def _list(url: str, account_id: str) -> tuple[RevocationRule, ...]:
    store = await Store.open(url)
    try:
        return await store.revocations.list(account_id)
    finally:
        await store.close()


async def _prune(url: str, now: datetime) -> int:
    store = await Store.open(url)
    try:
        return await store.revocations.prune(now)
    finally:
        await store.close()


def _as_json(rule: RevocationRule, now: datetime) -> dict[str, object]:
    return {
        "rule": rule.rule_id,
        "account": rule.account_id,
        "kind": str(rule.kind),
        "target": rule.target,
        "provider": rule.provider,
        "issuedBefore": rule.issued_before.isoformat(),
        "revokedAt": rule.created_at.isoformat(),
        "prunableAfter": rule.prunable_after.isoformat(),
        "prunable": rule.prunable_after <= now,
        "reason": rule.reason,
    }


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be reached or is not upgraded: a short message, no trace."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
        raise click.ClickException(
            f"cannot use the database ({type(error).__name__}); is it reachable and upgraded "
            "(webfed db upgrade)?"
        ) from None

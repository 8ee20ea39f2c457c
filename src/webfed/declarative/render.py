"""Showing a plan, a report and a list of problems to a person (rich)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from webfed.declarative.apply import ApplyReport
from webfed.declarative.changes import (
    Change,
    CreatePolicyVersion,
    Effect,
    PutInlinePolicy,
    SetStaticKeys,
    UpdateTrustPolicy,
)
from webfed.declarative.json_text import dumps
from webfed.declarative.model import PolicyDocument
from webfed.declarative.plan import Plan
from webfed.jwks.static import describe_keys

__all__ = ["document_diff", "render_plan", "render_problems", "render_report", "summary"]

_MARKS = {
    Effect.CREATE: ("+", "green"),
    Effect.UPDATE: ("~", "yellow"),
    Effect.DELETE: ("-", "red"),
}


def _line(change: Change) -> str:
    mark, colour = _MARKS[change.effect]
    return f"[{colour}]{mark} {escape(change.describe())}[/{colour}]"


def document_diff(change: Change) -> list[str]:
    """The lines a changed policy document gains and loses (JSON, two-space indent); for a
    static key set, the keys it gains and loses (one line each: kid, type, alg, thumbprint)."""
    if isinstance(change, SetStaticKeys):
        return _key_set_diff(change)
    if not isinstance(change, UpdateTrustPolicy | CreatePolicyVersion | PutInlinePolicy):
        return []
    if change.previous is None:
        return []
    before = _pretty(change.previous).splitlines()
    after = _pretty(change.document).splitlines()
    return _unified(before, after)


def _unified(before: list[str], after: list[str]) -> list[str]:
    lines = difflib.unified_diff(before, after, lineterm="", n=1)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def _key_set_diff(change: SetStaticKeys) -> list[str]:
    """Public keys only ever reach a stored set, so naming them is safe; their thumbprints say
    which key is which better than the long modulus would."""
    before = describe_keys(change.previous) if change.previous is not None else []
    after = describe_keys(change.static_keys) if change.static_keys is not None else []
    return _unified(before, after)


def _pretty(document: PolicyDocument) -> str:
    """Two-space-indented JSON, numbers as written; an unparsable document as its text."""
    return dumps(document.value(), indent=2) if document.parsed else document.text


def _diff_line(line: str) -> str:
    colour = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "dim")
    return f"    [{colour}]{escape(line)}[/{colour}]"


def summary(plan: Plan) -> str:
    """``"2 to create, 1 to update, 0 to delete"``."""
    counts = dict.fromkeys(Effect, 0)
    for change in plan.changes:
        counts[change.effect] += 1
    return (
        f"{counts[Effect.CREATE]} to create, {counts[Effect.UPDATE]} to update, "
        f"{counts[Effect.DELETE]} to delete"
    )


def render_plan(plan: Plan, console: Console) -> None:
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if plan.empty:
        console.print("No changes: IAM already matches the file.")
        return
    for change in plan.changes:
        console.print(_line(change))
        for line in document_diff(change):
            console.print(_diff_line(line))
    console.print(f"Plan: {summary(plan)}.")


def render_report(report: ApplyReport, console: Console) -> None:
    """The plan, then what happened to it."""
    render_plan(report.plan, console)
    if report.plan.empty:
        return
    if report.dry_run:
        console.print("Dry run: nothing was changed.")
        return
    if report.replanned:
        console.print(f"IAM changed while applying; planned again {report.replanned} time(s).")
    if report.error is not None and report.failed is not None:
        done = len(report.applied)
        console.print(
            f"[red]error:[/red] {escape(report.failed.describe())} failed: "
            f"{escape(report.error.code)}: {escape(report.error.message)}"
        )
        console.print(f"{done} of {len(report.plan.changes)} changes were applied before it.")
        return
    console.print(f"Applied {len(report.applied)} changes.")


def render_problems(problems: Sequence[str], console: Console) -> None:
    for problem in problems:
        console.print(f"[red]error:[/red] {escape(problem)}")
    count = len(problems)
    console.print(f"{count} problem{'s' if count != 1 else ''} found; nothing was changed.")

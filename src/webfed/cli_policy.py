"""``webfed policy``: check a policy document, or simulate a request against policies.

    webfed policy check FILE [--kind identity|trust|resource|session|boundary|guardrail]
    webfed policy simulate --policy FILE... [--resource-policy F] [--boundary F]
        [--session-policy F...] --action A --resource R [--principal ARN] [--context k=v...]

``check`` prints ``FILE:LINE: error: ...`` for each problem (exit 1) and ``warning:`` lines for
risky patterns. ``simulate`` prints the decision and its reason; it exits 0 when allowed and 1
when denied (2 for usage errors, as click does). The lead registers the group with
``main.add_command(policy)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from webfed.core.arn import ArnError, is_account_id, parse_arn, role_name_of
from webfed.core.policy import (
    SIZE_LIMITS,
    AuthorizationRequest,
    Decision,
    Policy,
    PolicyKind,
    Principal,
    RoleSessionPrincipal,
    RootPrincipal,
    WebIdentityPrincipal,
    evaluate,
    find_problems,
    parse_policy,
    policy_size,
)
from webfed.core.policy.lint import lint_policy, statement_lines
from webfed.errors import MalformedPolicyDocument

__all__ = ["policy"]

_KINDS = [kind.value for kind in PolicyKind]
_SIZE_LIMIT_OF = {
    PolicyKind.TRUST: SIZE_LIMITS["trust_default"],
    PolicyKind.SESSION: SIZE_LIMITS["session"],
    PolicyKind.IDENTITY: SIZE_LIMITS["managed"],
    PolicyKind.BOUNDARY: SIZE_LIMITS["managed"],
}
_SIMULATED_ACCOUNT = "123456789012"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@click.group(name="policy")
def policy() -> None:
    """Check IAM policy documents and simulate authorization decisions."""


@policy.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(_KINDS), default="identity", show_default=True)
def check(file: Path, kind: str) -> None:
    """Validate FILE as a policy of KIND; report errors with line numbers and risky patterns."""
    console = _console()
    text = file.read_text(encoding="utf-8")
    policy_kind = PolicyKind(kind)
    problems = find_problems(text, policy_kind)
    lines = statement_lines(text)
    for problem in problems:
        line = problem.line or _line_of(lines, problem.statement)
        console.print(f"{escape(str(file))}:{line}: [red]error[/red]: {escape(str(problem))}")
    if problems:
        raise SystemExit(1)
    parsed = parse_policy(text, policy_kind, name=file.name)
    for warning in lint_policy(parsed):
        line = _line_of(lines, warning.statement)
        where = f"Statement[{warning.statement}]"
        console.print(
            f"{escape(str(file))}:{line}: [yellow]warning[/yellow]: {where}: "
            f"{escape(warning.message)}"
        )
    _report_size(console, file, text, policy_kind)


def _line_of(lines: Sequence[int], statement: int | None) -> int:
    if statement is None or statement >= len(lines):
        return 1
    return lines[statement]


def _report_size(console: Console, file: Path, text: str, kind: PolicyKind) -> None:
    size = policy_size(text)
    limit = _SIZE_LIMIT_OF.get(kind)
    if limit is not None and size > limit:
        console.print(
            f"{escape(str(file))}:1: [yellow]warning[/yellow]: {size} characters (whitespace "
            f"excluded) exceeds the {kind.value} policy limit of {limit}"
        )
    console.print(f"{escape(str(file))}: ok ({kind.value} policy, {size} characters)")


def _load(path: Path, kind: PolicyKind) -> Policy:
    try:
        return parse_policy(path.read_text(encoding="utf-8"), kind, name=path.name)
    except MalformedPolicyDocument as error:
        raise click.BadParameter(f"{path}: {error.message}") from None


def _context(pairs: Sequence[str]) -> dict[str, str | list[str]]:
    values: dict[str, list[str]] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--context")
        values.setdefault(key, []).append(value)
    return {key: found[0] if len(found) == 1 else found for key, found in values.items()}


def _principal(text: str | None) -> Principal:
    if text is None:
        text = f"arn:aws:sts::{_SIMULATED_ACCOUNT}:assumed-role/simulated/simulation"
    if is_account_id(text):
        return RootPrincipal(text)
    if not text.startswith("arn:"):
        return WebIdentityPrincipal(text)
    try:
        arn = parse_arn(text)
        if arn.service == "iam" and arn.resource == "root":
            return RootPrincipal(arn.account, arn.partition)
        if arn.service == "iam" and arn.resource_type in ("oidc-provider", "saml-provider"):
            return WebIdentityPrincipal(text)
        role = role_name_of(arn)
    except ArnError as error:
        raise click.BadParameter(str(error), param_hint="--principal") from None
    session = arn.resource_id.split("/", 1)[1] if arn.service == "sts" else "simulation"
    return RoleSessionPrincipal(
        account=arn.account,
        role_arn=f"arn:{arn.partition}:iam::{arn.account}:role/{role}",
        role_id="AROASIMULATEDROLEID0",
        session_name=session,
        session_arn=f"arn:{arn.partition}:sts::{arn.account}:assumed-role/{role}/{session}",
    )


@policy.command("simulate")
@click.option("--policy", "identity", multiple=True, type=click.Path(exists=True, path_type=Path))
@click.option("--resource-policy", type=click.Path(exists=True, path_type=Path))
@click.option("--trust", is_flag=True, help="Read --resource-policy as a role trust policy.")
@click.option("--boundary", type=click.Path(exists=True, path_type=Path))
@click.option("--session-policy", multiple=True, type=click.Path(exists=True, path_type=Path))
@click.option("--action", required=True)
@click.option("--resource", default="*", show_default=True)
@click.option("--principal", default=None, help="Session, role, root ARN, account or provider.")
@click.option("--resource-account", default=None)
@click.option("--context", "pairs", multiple=True, help="KEY=VALUE; repeat a key for a list.")
@click.option("--now", type=click.DateTime(), default=None, help="Fills aws:CurrentTime.")
def simulate(
    identity: tuple[Path, ...],
    resource_policy: Path | None,
    trust: bool,
    boundary: Path | None,
    session_policy: tuple[Path, ...],
    action: str,
    resource: str,
    principal: str | None,
    resource_account: str | None,
    pairs: tuple[str, ...],
    now: datetime | None,
) -> None:
    """Evaluate one request against the given policies and print the decision and its reason."""
    resource_kind = PolicyKind.TRUST if trust else PolicyKind.RESOURCE
    request = AuthorizationRequest.build(
        _principal(principal), action, resource, _context(pairs), now=now
    )
    decision = evaluate(
        request,
        identity=[_load(path, PolicyKind.IDENTITY) for path in identity],
        resource=_load(resource_policy, resource_kind) if resource_policy else None,
        boundary=_load(boundary, PolicyKind.BOUNDARY) if boundary else None,
        session=[_load(path, PolicyKind.SESSION) for path in session_policy] or None,
        resource_account=resource_account,
    )
    _print_decision(_console(), decision)
    raise SystemExit(0 if decision.allowed else 1)


def _print_decision(console: Console, decision: Decision) -> None:
    verdict = "[green]ALLOW[/green]" if decision.allowed else "[red]DENY[/red]"
    console.print(f"{verdict} ({decision.kind.value})")
    console.print(f"reason: {escape(decision.reason)}")
    for ref in decision.statements:
        console.print(f"  {escape(str(ref))}")

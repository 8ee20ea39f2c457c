"""What people see: plan lines, document diffs, summaries, problems."""

from __future__ import annotations

import io

from rich.console import Console

from tests.unit.declarative.helpers import ACCOUNT, allow, trust
from webfed.declarative import changes as c
from webfed.declarative.apply import ApplyReport
from webfed.declarative.model import ManagedPolicy, Role, State
from webfed.declarative.plan import Plan, plan
from webfed.declarative.render import (
    document_diff,
    render_plan,
    render_problems,
    render_report,
    summary,
)
from webfed.errors import LimitExceeded


def text_of(draw: object, *args: object) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, highlight=False, soft_wrap=True, color_system=None)
    draw(*args, console)  # type: ignore[operator]  # each renderer takes (value, console)
    return buffer.getvalue()


CURRENT = State(ACCOUNT, policies=(ManagedPolicy("p", allow()),), roles=(Role("r", trust()),))
DESIRED = State(
    ACCOUNT,
    policies=(ManagedPolicy("p", allow("s3:*")),),
    roles=(Role("r", trust(audience="other")),),
)


def test_document_changes_show_the_lines_they_change() -> None:
    result = plan(DESIRED, CURRENT)
    version, trust_update = result.changes
    assert document_diff(version) == [
        "@@ -5,3 +5,3 @@",
        '       "Effect": "Allow",',
        '-      "Action": "s3:GetObject",',
        '+      "Action": "s3:*",',
        '       "Resource": "arn:aws:s3:::bucket/*"',
    ]
    assert '+          "accounts.example.com:aud": "other"' in document_diff(trust_update)
    output = text_of(render_plan, result)
    assert "~ new default version of arn:aws:iam::123456789012:policy/p" in output
    assert '    -      "Action": "s3:GetObject",' in output
    assert output.endswith("Plan: 0 to create, 2 to update, 0 to delete.\n")


def test_created_documents_show_no_diff() -> None:
    change = c.PutInlinePolicy("r", "i", allow(), True)
    assert document_diff(change) == []
    assert document_diff(c.DeleteRole("r")) == []


def test_summary_counts_each_effect() -> None:
    result = Plan((c.DeleteRole("a"), c.CreateRole(Role("b", trust())), c.DeleteRole("c")))
    assert summary(result) == "1 to create, 0 to update, 2 to delete"


def test_empty_plan_says_so_and_shows_warnings() -> None:
    output = text_of(render_plan, Plan((), ("careful",)))
    assert output == "warning: careful\nNo changes: IAM already matches the file.\n"


def test_report_of_a_failed_run_names_the_change_and_the_error() -> None:
    attach = c.AttachPolicy("r", "arn:aws:iam::123456789012:policy/p")
    report = ApplyReport(
        Plan((c.CreateRole(Role("r", trust())), attach)),
        applied=(c.CreateRole(Role("r", trust())),),
        failed=attach,
        error=LimitExceeded("Cannot exceed quota for PoliciesPerRole: 10"),
    )
    output = text_of(render_report, report)
    assert "error: attach arn:aws:iam::123456789012:policy/p to role r failed: LimitExceeded" in (
        output
    )
    assert "1 of 2 changes were applied before it." in output
    assert not report.ok and report.changed


def test_markup_in_names_is_printed_literally() -> None:
    output = text_of(render_problems, ["line 3: roles[0]: [bold]x[/bold]"])
    assert "roles[0]: [bold]x[/bold]" in output
    assert output.endswith("1 problem found; nothing was changed.\n")

"""Apply and export end to end: click's CliRunner, the real IAM handlers, a real database.

Each test uses its own account id, so tests sharing the session's PostgreSQL database never see
each other's rows.
"""

from __future__ import annotations

import asyncio
import random
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.unit.declarative.helpers import FULL
from webfed.api.context import CallContext, Operation
from webfed.api.iam import OPERATIONS
from webfed.cli_declarative import apply, apply_at_start, export
from webfed.declarative.apply import MAX_ATTEMPTS, ApplyReport, apply_file, export_state
from webfed.declarative.changes import AttachPolicy
from webfed.declarative.iam_client import IamClient
from webfed.errors import EntityAlreadyExists, InvalidConfiguration, LimitExceeded
from webfed.settings import Settings
from webfed.storage import Store, migrate


@pytest.fixture
def account() -> str:
    return "".join(random.choice("0123456789") for _ in range(12))


@pytest.fixture
def site(database_url: str, account: str, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    """Run ``webfed apply``/``export`` against this test's database and account."""
    runner = CliRunner()
    common = ["--database-url", database_url, "--account-id", account, "--data-dir", str(tmp_path)]

    def run(command: str, *args: str, text: str | None = None) -> Result:
        extra = list(args)
        if text is not None:
            path = tmp_path / f"config-{random.getrandbits(32)}.yaml"
            path.write_text(textwrap.dedent(text).replace("123456789012", account))
            extra = ["-f", str(path), *extra]
        target = apply if command == "apply" else export
        return runner.invoke(target, [*extra, *common], catch_exceptions=False)

    yield run


def test_apply_creates_everything_then_reapplying_changes_nothing(
    site: Callable[..., Result],
) -> None:
    first = site("apply", text=FULL)
    assert first.exit_code == 0, first.output
    assert "+ create OpenID Connect provider https://accounts.example.com" in first.output
    assert "+ create role /game-player" in first.output
    assert "+ attach arn:aws:iam::" in first.output
    assert "Plan: 6 to create, 0 to update, 0 to delete." in first.output
    assert "Applied 6 changes." in first.output
    again = site("apply", text=FULL)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_export_then_apply_is_a_no_op(site: Callable[..., Result], tmp_path: Path) -> None:
    assert site("apply", text=FULL).exit_code == 0
    exported = site("export")
    assert exported.exit_code == 0, exported.output
    assert "name: game-player" in exported.output
    assert "Version: '2012-10-17'" in exported.output
    out = tmp_path / "exported.yaml"
    assert site("export", "-o", str(out)).exit_code == 0
    assert out.read_text() == exported.output
    again = site("apply", text=exported.output)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_export_piped_into_apply_is_a_no_op(
    site: Callable[..., Result], database_url: str, account: str
) -> None:
    """``webfed export | webfed apply -f -``."""
    assert site("apply", text=FULL).exit_code == 0
    exported = site("export").output
    common = ["--database-url", database_url, "--account-id", account]
    piped = CliRunner().invoke(apply, ["-f", "-", *common], input=exported)
    assert piped.exit_code == 0, piped.output
    assert "No changes" in piped.output
    broken = CliRunner().invoke(apply, ["-f", "-", *common], input="version: 1\nroles: 3\n")
    assert broken.exit_code == 1
    assert "<stdin>: line 2: roles: must be a list" in broken.output


UNUSUAL = """\
    version: 1
    policies:
      - name: unusual
        document: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
          "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/\\u65e5\\u672c",
          "Condition": {"NumericLessThan": {"s3:max-keys": DIGITS}}}]}'
    """.replace("DIGITS", "1" * 5001)


def test_escaped_unicode_and_huge_numbers_export_and_apply_back(
    site: Callable[..., Result], tmp_path: Path
) -> None:
    """IAM accepts both; export must neither crash nor write what apply then refuses."""
    created = site("apply", text=UNUSUAL)
    assert created.exit_code == 0, created.output
    exported = site("export")
    assert exported.exit_code == 0, exported.output
    assert "1" * 5001 in exported.output
    again = site("apply", text=exported.output)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_a_role_trusting_a_missing_provider_applies_with_a_warning(
    site: Callable[..., Result],
) -> None:
    without_providers = FULL.split("    providers:")[0] + "    policies:"
    text = without_providers + FULL.split("    policies:", 1)[1]
    result = site("apply", text=text)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "no OpenID Connect provider" in result.output
    assert "+ create role /game-player" in result.output


def test_dry_run_prints_the_plan_and_changes_nothing(site: Callable[..., Result]) -> None:
    result = site("apply", "--dry-run", text=FULL)
    assert result.exit_code == 0, result.output
    assert "+ create role /game-player" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert "roles:" not in site("export").output


def test_an_invalid_file_changes_nothing_and_lists_every_problem(
    site: Callable[..., Result],
) -> None:
    broken = FULL.replace("managed_policies: [scores-read]", "managed_policies: [missing]")
    broken = broken.replace(
        "max_session_duration: 7200", "max_session_duration: 7200\n        x: 1"
    )
    result = site("apply", text=broken)
    assert result.exit_code == 1
    assert "line 26: roles[0]: unknown key 'x'" in result.output
    assert "1 problem found; nothing was changed." in result.output
    fixed_schema = FULL.replace("managed_policies: [scores-read]", "managed_policies: [missing]")
    result = site("apply", text=fixed_schema)
    assert result.exit_code == 1
    assert "line 41: roles[0].managed_policies[0]: no managed policy 'missing'" in result.output
    assert site("export").output.split("\n", 1)[1] == "version: 1\n"


def test_yaml_syntax_error_exits_1_with_the_line(site: Callable[..., Result]) -> None:
    result = site("apply", text="version: 1\nroles: [\n")
    assert result.exit_code == 1
    assert "line 3: YAML syntax error" in result.output


UPDATED = FULL.replace(
    'StringEquals: {"accounts.example.com:aud": game-app}',
    'StringEquals: {"accounts.example.com:aud": [game-app, web-app]}',
)


def test_updates_trust_policy_and_policy_version(
    site: Callable[..., Result], database_url: str, account: str
) -> None:
    assert site("apply", text=FULL).exit_code == 0
    changed = UPDATED.replace("dynamodb:Query]", "dynamodb:Query, dynamodb:Scan]")
    result = site("apply", text=changed)
    assert result.exit_code == 0, result.output
    assert "~ update the trust policy of role game-player" in result.output
    assert "~ new default version of arn:aws:iam::" in result.output
    assert "Plan: 0 to create, 2 to update, 0 to delete." in result.output
    assert "No changes" in site("apply", text=changed).output
    versions = _versions(database_url, account, "/game/scores-read")
    assert versions == [("v1", False), ("v2", True)]


def test_at_five_versions_the_oldest_non_default_is_deleted(
    site: Callable[..., Result], database_url: str, account: str
) -> None:
    assert site("apply", text=FULL).exit_code == 0
    actions = ["dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    for action in actions:
        text = FULL.replace("dynamodb:Query]", f"dynamodb:Query, {action}]")
        assert site("apply", text=text).exit_code == 0
    final = FULL.replace("dynamodb:Query]", "dynamodb:Query, dynamodb:BatchGetItem]")
    result = site("apply", text=final)
    assert result.exit_code == 0, result.output
    assert "deleting v1, the oldest non-default version" in result.output
    versions = _versions(database_url, account, "/game/scores-read")
    assert [v for v, _ in versions] == ["v2", "v3", "v4", "v5", "v6"]
    assert dict(versions)["v6"] is True


PRUNE_BASE = """\
    version: 1
    providers:
      - url: https://accounts.example.com
      - url: https://old.example.com
    policies:
      - name: keep
        document: {Version: 2012-10-17, Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
      - name: legacy
        document:
          {Version: 2012-10-17, Statement: [{Effect: Allow, Action: "sqs:*", Resource: "*"}]}
    roles:
      - name: keeper
        trust_policy: &trust
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/accounts.example.com}
              Action: sts:AssumeRoleWithWebIdentity
              Condition: {StringEquals: {"accounts.example.com:aud": app}}
        managed_policies: [keep]
        tags: {Team: a}
      - name: legacy-role
        trust_policy: *trust
        managed_policies: [legacy]
        inline_policies:
          extra: {Version: 2012-10-17, Statement: [{Effect: Allow, Action: "sns:*", Resource: "*"}]}
"""

PRUNE_KEEP = """\
    version: 1
    providers:
      - url: https://accounts.example.com
    policies:
      - name: keep
        document: {Version: 2012-10-17, Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
    roles:
      - name: keeper
        trust_policy:
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/accounts.example.com}
              Action: sts:AssumeRoleWithWebIdentity
              Condition: {StringEquals: {"accounts.example.com:aud": app}}
        managed_policies: [keep]
        tags: {team: a}
"""


def test_prune_deletes_only_with_the_flag(site: Callable[..., Result]) -> None:
    assert site("apply", text=PRUNE_BASE).exit_code == 0
    without = site("apply", text=PRUNE_KEEP)
    assert without.exit_code == 0, without.output
    assert "No changes" in without.output
    pruned = site("apply", "--prune", text=PRUNE_KEEP)
    assert pruned.exit_code == 0, pruned.output
    assert "- delete role legacy-role" in pruned.output
    assert "- delete managed policy arn:aws:iam::" in pruned.output
    assert "- delete OpenID Connect provider arn:aws:iam::" in pruned.output
    assert "Plan: 0 to create, 0 to update, 5 to delete." in pruned.output
    exported = site("export").output
    assert "legacy" not in exported and "old.example.com" not in exported
    assert "No changes" in site("apply", "--prune", text=PRUNE_KEEP).output


def test_an_operation_webfed_lacks_is_reported_before_any_change(
    site: Callable[..., Result],
) -> None:
    assert site("apply", text=FULL).exit_code == 0
    tagged = FULL.replace(
        "        description: Read the score table\n",
        "        description: Read the score table\n        tags: {owner: games}\n",
    ).replace("Action: s3:GetObject", "Action: [s3:GetObject, s3:PutObject]")
    result = site("apply", text=tagged)
    if "TagPolicy" in OPERATIONS:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert "does not offer IAM operation TagPolicy" in result.output
    assert "s3:PutObject" not in site("export").output


async def _open(database_url: str) -> Store:
    await asyncio.to_thread(migrate, database_url)
    return await Store.open(database_url)


async def test_apply_file_reports_a_failure_and_what_was_applied(
    database_url: str, account: str, tmp_path: Path
) -> None:
    async def refuse(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        raise LimitExceeded("Cannot exceed quota for PoliciesPerRole: 10")

    operations = {**OPERATIONS, "AttachRolePolicy": Operation("AttachRolePolicy", refuse)}
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(FULL).replace("123456789012", account))
    settings = Settings(account_id=account, database_url=database_url)
    store = await _open(database_url)
    try:
        report = await apply_file(store, settings, path, operations=operations)
        assert isinstance(report, ApplyReport)
        assert not report.ok and isinstance(report.error, LimitExceeded)
        assert isinstance(report.failed, AttachPolicy)
        assert len(report.applied) == 5 and report.changed
        exported = await export_state(store, settings)
        assert "name: game-player" in exported and "managed_policies" not in exported
        with pytest.raises(InvalidConfiguration):
            bad = tmp_path / "bad.yaml"
            bad.write_text("version: 1\nroles: 3\n")
            await apply_file(store, settings, bad)
    finally:
        await store.close()


async def test_a_concurrent_writer_makes_apply_plan_again(
    database_url: str, account: str, tmp_path: Path
) -> None:
    """Another node creates the role between our read and our CreateRole: we re-plan."""
    real_create = OPERATIONS["CreateRole"].handler
    raced: list[str] = []

    async def create_after_a_rival(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        if not raced:
            raced.append(params["RoleName"])
            await real_create(ctx, params)  # the rival's call wins
        return await real_create(ctx, params)

    operations = {**OPERATIONS, "CreateRole": Operation("CreateRole", create_after_a_rival)}
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(FULL).replace("123456789012", account))
    settings = Settings(account_id=account, database_url=database_url)
    store = await _open(database_url)
    try:
        report = await apply_file(store, settings, path, operations=operations)
        assert report.ok, report.error
        assert report.replanned == 1 and raced == ["game-player"]
        again = await apply_file(store, settings, path)
        assert again.plan.empty
    finally:
        await store.close()


async def test_a_conflict_that_recurs_identically_is_not_retried(
    database_url: str, account: str, tmp_path: Path
) -> None:
    """Re-reading IAM changed nothing the failed change depends on: not a race, report it."""
    calls: list[str] = []

    async def always_taken(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        calls.append(params["RoleName"])
        raise EntityAlreadyExists(f"Role with name {params['RoleName']} already exists.")

    operations = {**OPERATIONS, "CreateRole": Operation("CreateRole", always_taken)}
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(FULL).replace("123456789012", account))
    store = await _open(database_url)
    try:
        settings = Settings(account_id=account, database_url=database_url)
        report = await apply_file(store, settings, path, operations=operations)
        assert isinstance(report.error, EntityAlreadyExists)
        assert report.replanned == 0 and calls == ["game-player"]
    finally:
        await store.close()


async def test_a_failure_that_keeps_moving_stops_after_the_last_attempt(
    database_url: str, account: str, tmp_path: Path
) -> None:
    """Each attempt finds IAM changed (a rival keeps adding a tag), so each is re-planned."""
    real_tag = OPERATIONS["TagRole"].handler
    real_create = OPERATIONS["CreateRole"].handler
    attempts: list[int] = []

    async def create_racing(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            await real_create(ctx, params)
        rival = [{"Key": f"rival{len(attempts)}", "Value": "x"}]
        await real_tag(ctx, {"RoleName": params["RoleName"], "Tags": rival})
        raise EntityAlreadyExists(f"Role with name {params['RoleName']} already exists.")

    async def update_racing(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        await create_racing(ctx, {"RoleName": params["RoleName"]})
        return {}

    operations = {
        **OPERATIONS,
        "CreateRole": Operation("CreateRole", create_racing),
        "UntagRole": Operation("UntagRole", update_racing),
    }
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(FULL).replace("123456789012", account))
    store = await _open(database_url)
    try:
        settings = Settings(account_id=account, database_url=database_url)
        report = await apply_file(store, settings, path, operations=operations)
        assert isinstance(report.error, EntityAlreadyExists)
        assert report.replanned == MAX_ATTEMPTS - 1 and len(attempts) == MAX_ATTEMPTS
    finally:
        await store.close()


def test_a_policy_named_in_another_case_is_the_same_policy(
    site: Callable[..., Result],
) -> None:
    assert site("apply", text=FULL).exit_code == 0
    renamed = FULL.replace("- name: scores-read", "- name: Scores-Read").replace(
        "managed_policies: [scores-read]", "managed_policies: [SCORES-READ]"
    )
    again = site("apply", text=renamed)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output and "named scores-read in IAM" in again.output


def test_apply_at_start_applies_and_exits_1_on_problems(
    database_url: str, account: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(database_url)
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(FULL).replace("123456789012", account))
    settings = Settings(account_id=account, database_url=database_url)
    apply_at_start(settings, path)
    assert "Applied 6 changes." in capsys.readouterr().err
    path.write_text("version: 1\nroles: 3\n")
    with pytest.raises(SystemExit) as caught:
        apply_at_start(settings, path)
    assert caught.value.code == 1
    assert "line 2: roles: must be a list" in capsys.readouterr().err


def _versions(database_url: str, account: str, name: str) -> list[tuple[str, bool]]:
    async def read() -> list[tuple[str, bool]]:
        store = await Store.open(database_url)
        try:
            client = IamClient(OPERATIONS, store, Settings(account_id=account))
            arn = f"arn:aws:iam::{account}:policy{name}"
            versions = await client.paged("ListPolicyVersions", {"PolicyArn": arn}, "Versions")
            return sorted((str(v["VersionId"]), bool(v["IsDefaultVersion"])) for v in versions)
        finally:
            await store.close()

    return asyncio.run(read())


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "webfed.yaml"


def test_the_example_file_applies_with_its_own_settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example names account 111122223333 in its settings: and its ARNs."""
    monkeypatch.delenv("WEBFED_ACCOUNT_ID", raising=False)
    runner = CliRunner()
    common = ["--database-url", database_url, "--data-dir", str(tmp_path)]
    text = EXAMPLE.read_text().replace("111122223333", "111122224444")
    path = tmp_path / "example.yaml"
    path.write_text(text)
    result = runner.invoke(apply, ["-f", str(path), *common], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Plan: 9 to create" in result.output
    exported = runner.invoke(export, [*common, "--account-id", "111122224444"])
    assert "name: ci-deploy" in exported.output
    assert "oidc-provider/login.game.example.com" in exported.output


def test_environment_beats_the_file_settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBFED_ACCOUNT_ID", "999999999999")
    runner = CliRunner()
    args = ["-f", str(EXAMPLE), "--database-url", database_url, "--dry-run"]
    result = runner.invoke(apply, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert "is not in account 999999999999" in result.output
    flagged = runner.invoke(apply, [*args, "--account-id", "111122223333"])
    assert flagged.exit_code == 0, flagged.output
    assert "Dry run: nothing was changed." in flagged.output

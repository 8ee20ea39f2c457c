"""``webfed apply`` and ``webfed export`` as functions: load, check, plan, execute; read, write.

Nothing changes unless the whole file is valid: the YAML, the schema, the settings, every policy
document and every reference are checked first, against the file and the current state, and
the operations the plan needs must all be available.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from webfed.declarative.changes import Change, Effect
from webfed.declarative.execute import execute, missing_operations
from webfed.declarative.export import export_text
from webfed.declarative.iam_client import IamClient
from webfed.declarative.plan import Plan, plan
from webfed.declarative.read_state import read_state
from webfed.declarative.references import Limits, reference_warnings, resolve
from webfed.declarative.schema import Config, read_config
from webfed.declarative.settings_section import settings_problems
from webfed.declarative.source import Problem, raise_problems
from webfed.errors import (
    ConcurrentModification,
    DeleteConflict,
    EntityAlreadyExists,
    NoSuchEntity,
    ResourceConflict,
    ResourceNotFound,
    WebfedError,
)

if TYPE_CHECKING:
    from webfed.api.context import OperationTable
    from webfed.settings import Settings
    from webfed.storage import Store

__all__ = [
    "MAX_ATTEMPTS",
    "ApplyReport",
    "apply_config",
    "apply_file",
    "apply_to_store",
    "export_state",
    "load_config",
    "load_config_file",
]


MAX_ATTEMPTS = 3
# Failures that mean IAM (or the identity pools) changed between reading and changing them.
_RACES = (
    EntityAlreadyExists,
    NoSuchEntity,
    ConcurrentModification,
    DeleteConflict,
    ResourceConflict,
    ResourceNotFound,
)


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """The plan, what was applied, and the error that stopped the run, if one did.

    ``replanned`` counts the times IAM changed underneath and the rest was planned again.
    """

    plan: Plan
    applied: tuple[Change, ...] = ()
    dry_run: bool = False
    failed: Change | None = None
    error: WebfedError | None = None
    replanned: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    def count(self, effect: Effect) -> int:
        return sum(1 for change in self.plan.changes if change.effect is effect)


def load_config(text: str, source: str = "", base_dir: Path | None = None) -> Config:
    """Parse and check a configuration's structure and settings; relative paths in it are
    read from ``base_dir``.

    Raises :class:`webfed.errors.InvalidConfiguration` listing every problem with its line.
    """
    config, problems = read_config(text, base_dir)
    if config is not None:
        problems.extend(settings_problems(config))
    raise_problems(problems, source)
    assert config is not None
    return config


def load_config_file(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise_problems([Problem(f"the file is not UTF-8 text: {error.reason}")], str(path))
        raise  # unreachable: raise_problems raised
    return load_config(text, str(path), path.parent)


async def apply_config(
    client: IamClient,
    config: Config,
    limits: Limits,
    *,
    dry_run: bool = False,
    prune: bool = False,
    source: str = "",
) -> ApplyReport:
    """Check ``config`` against the current state, plan, and (unless ``dry_run``) execute.

    When a change fails because IAM changed underneath (another ``webfed serve --config``
    starting at the same time created the role first, say), the state is read again and the
    rest re-planned, up to :data:`MAX_ATTEMPTS` times in all. If the new plan is exactly what
    was left of the old one, IAM did not change and the failure is not a race: it is reported
    without retrying.
    """
    first = await _check_and_plan(client, config, limits, prune=prune, source=source)
    if dry_run or first.empty:
        return ApplyReport(first, dry_run=dry_run)
    planned = first
    applied: list[Change] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outcome = await execute(planned.changes, client)
        applied.extend(outcome.applied)
        failed = ApplyReport(
            first, tuple(applied), False, outcome.failed, outcome.error, attempt - 1
        )
        if not isinstance(outcome.error, _RACES) or attempt == MAX_ATTEMPTS:
            return failed
        remaining = planned.changes[len(outcome.applied) :]
        planned = await _check_and_plan(client, config, limits, prune=prune, source=source)
        if planned.empty:
            return ApplyReport(first, tuple(applied), replanned=attempt)
        if planned.changes == remaining:
            return failed  # IAM did not move: the same change would fail the same way
    raise AssertionError("unreachable: the last attempt returns")


async def _check_and_plan(
    client: IamClient, config: Config, limits: Limits, *, prune: bool, source: str
) -> Plan:
    current = await read_state(client)
    desired, problems = resolve(config, current, limits)
    raise_problems(problems, source)
    assert desired is not None
    planned = plan(desired, current, prune=prune)
    missing = missing_operations(planned.changes, client)
    unavailable = [Problem(f"this webfed does not offer IAM operation {name}") for name in missing]
    raise_problems(unavailable, source)
    warnings = tuple(str(warning) for warning in reference_warnings(config, current, limits))
    return dataclasses.replace(planned, warnings=warnings + planned.warnings)


async def apply_file(
    store: Store,
    settings: Settings,
    path: Path,
    *,
    dry_run: bool = False,
    prune: bool = False,
    operations: OperationTable | None = None,
) -> ApplyReport:
    """Apply the configuration file at ``path`` to the account of ``settings``.

    Raises :class:`webfed.errors.InvalidConfiguration` (nothing changed) when the file has any
    problem; an IAM error during execution is returned in the report with what was applied.
    """
    config = load_config_file(path)
    return await apply_to_store(
        store,
        settings,
        config,
        source=str(path),
        dry_run=dry_run,
        prune=prune,
        operations=operations,
    )


async def apply_to_store(
    store: Store,
    settings: Settings,
    config: Config,
    *,
    source: str = "",
    dry_run: bool = False,
    prune: bool = False,
    operations: OperationTable | None = None,
) -> ApplyReport:
    """Apply an already loaded configuration (see :func:`load_config`); as :func:`apply_file`."""
    client = IamClient(_operations(operations), store, settings)
    limits = Limits(
        account_id=settings.account_id,
        allow_http_issuers=settings.allow_http_issuers,
        trust_policy_max_size=settings.trust_policy_max_size,
        region=settings.region,
    )
    return await apply_config(client, config, limits, dry_run=dry_run, prune=prune, source=source)


async def export_state(
    store: Store, settings: Settings, *, operations: OperationTable | None = None
) -> str:
    """The account's current IAM state as a configuration file."""
    client = IamClient(_operations(operations), store, settings)
    return export_text(await read_state(client))


def _operations(operations: OperationTable | None) -> OperationTable:
    """The IAM handlers (or ``operations``, which replace them), the Cognito Identity ones and
    webfed's static key set operations.

    Their operation names do not overlap, so one table serves both services.
    """
    # The API packages are imported when first needed.
    from webfed.declarative.pool_operations import pool_operations
    from webfed.declarative.provider_operations import static_key_operations

    own = {**pool_operations(), **static_key_operations()}
    if operations is not None:
        return {**own, **operations}
    from webfed.api.iam import OPERATIONS

    return {**own, **OPERATIONS}

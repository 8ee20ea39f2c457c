"""Everything a request handler needs, built once per process at start."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from webfed.admin import AdminCredentials
from webfed.api.context import OperationTable
from webfed.settings import Settings

if TYPE_CHECKING:
    from webfed.protocol.models import ServiceSpec
    from webfed.storage import Store

__all__ = ["Runtime", "ServiceBinding", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """One AWS service served on the listener: its wire model and its operation handlers."""

    name: str  # the SigV4 signing name: "sts", "iam", "cognito-identity"
    spec: ServiceSpec
    operations: OperationTable


@dataclass(slots=True)
class Runtime:
    settings: Settings
    admin: AdminCredentials
    store: Store
    services: Mapping[str, ServiceBinding]
    json_targets: Mapping[str, ServiceBinding]
    clock: Callable[[], datetime] = field(default=utc_now)

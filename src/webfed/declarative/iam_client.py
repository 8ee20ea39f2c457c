"""The one seam between the declarative tools and IAM: calling an operation handler.

Apply and export never touch storage directly. They call the same handlers the IAM API serves
(``webfed.api.iam.OPERATIONS``) as the administrator, so every change gets the API's validation,
limits and cache invalidation. Tests may pass any operation table. The table may also hold
the Cognito Identity handlers (their operation names differ from IAM's), which are called the
same way, for identity pools.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from webfed.api.context import CallContext, Caller, OperationTable

if TYPE_CHECKING:
    from webfed.settings import Settings
    from webfed.storage import Store

__all__ = ["IamClient", "admin_caller"]

_SOURCE_IP = "127.0.0.1"


def admin_caller(account_id: str) -> Caller:
    """The account's root identity: who ``webfed apply`` acts as."""
    return Caller(
        access_key_id="webfed-declarative",
        arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
        account_id=account_id,
        is_admin=True,
    )


class IamClient:
    """Calls IAM operation handlers with a fresh administrator :class:`CallContext` each time."""

    def __init__(
        self,
        operations: OperationTable,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._operations = operations
        self._store = store
        self._settings = settings
        self._clock = clock

    @property
    def account_id(self) -> str:
        return self._settings.account_id

    def supports(self, operation: str) -> bool:
        return operation in self._operations

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one operation; its :class:`webfed.errors.WebfedError` propagates unchanged."""
        context = CallContext(
            request_id=str(uuid.uuid4()),
            now=self._clock(),
            source_ip=_SOURCE_IP,
            account_id=self._settings.account_id,
            region=self._settings.region,
            caller=admin_caller(self._settings.account_id),
            store=self._store,
            settings=self._settings,
        )
        return await self._operations[operation].handler(context, dict(params))

    async def paged(self, operation: str, params: Mapping[str, Any], member: str) -> list[Any]:
        """Every item of a ``Marker``/``IsTruncated`` listing."""
        items: list[Any] = []
        request = dict(params)
        while True:
            result = await self.call(operation, request)
            items.extend(result.get(member) or [])
            marker = result.get("Marker")
            if not result.get("IsTruncated") or not marker:
                return items
            request["Marker"] = marker

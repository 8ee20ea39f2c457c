"""What an operation handler is given, and what it returns.

Every AWS operation webfed serves is an ``async`` handler taking a :class:`CallContext` and the
request parameters already decoded and validated by the protocol adapter (a ``dict`` keyed by the
botocore member names, values as Python types: ``str``, ``int``, ``bool``, ``datetime``, ``list``,
``dict``). It returns the output members in the same form; the adapter renders them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webfed.core.credentials import SessionContext
    from webfed.runtime import Runtime
    from webfed.settings import Settings
    from webfed.storage import Store

__all__ = ["Auth", "CallContext", "Caller", "Handler", "Operation", "OperationTable"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal behind a signed request."""

    access_key_id: str
    arn: str
    user_id: str
    account_id: str
    is_admin: bool
    session: SessionContext | None = None  # the sealed session behind temporary credentials


@dataclass(frozen=True, slots=True)
class CallContext:
    request_id: str
    now: datetime
    source_ip: str
    account_id: str
    region: str
    caller: Caller | None
    store: Store
    settings: Settings
    runtime: Runtime | None = None  # the serving process's caches and keys (None in tools)


Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[CallContext, Params], Awaitable[Result]]


class Auth(Enum):
    """Who may call an operation."""

    NONE = "none"  # unsigned calls (AssumeRoleWithWebIdentity, GetId, ...)
    SIGNED = "signed"  # any valid credentials
    ADMIN = "admin"  # administrator credentials only


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    handler: Handler
    auth: Auth = Auth.ADMIN


OperationTable = Mapping[str, Operation]

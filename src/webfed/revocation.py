"""Session revocation: rules that end live temporary credentials before they expire.

webfed's session tokens are self-contained (``docs/credentials.md``): a node checks them without
a database read, so nothing stored can be "deleted" to end a session. A revocation is instead a
rule every node holds in memory and checks on every signed request, after unsealing the token:

=====================  ===========================================================
kind                   revokes the sessions issued before ``issued_before`` ...
=====================  ===========================================================
``access-key``         ... whose access key id is the rule's (one session)
``subject``            ... of a web identity ``sub`` (from any provider, or one)
``role``               ... of a role (matched by account and role name)
``all``                ... of every role of the account
=====================  ===========================================================

Every rule has "issued before T" semantics, T being the moment of the revocation unless the
administrator names an earlier one: the same subject or role signing in again afterwards gets
sessions that work, which is what "sign everybody out" means. A session's ``issued_at`` has whole
seconds (AWS's times have no fractions) while T is exact, so :func:`revocation_moment` rounds T
up: a session minted in the same second as the revocation is revoked too (fail closed; the client
signs in again a second later).

A session lasts at most 12 hours (``DurationSeconds`` <= 43,200), so a rule stops mattering 12
hours after T; :data:`PRUNE_AFTER` adds the hour of clock skew between nodes that the sealing-key
grace allows too (``RETIRED_KEY_GRACE``), after which the rule is deleted.

A revoked session is refused with ``InvalidClientTokenId`` "The security token included in the
request is invalid." (S3: ``InvalidToken``), the error AWS gives for credentials it no longer
honours; the admin-only explanation names the rule. ``docs/revocation.md`` gives the reasons.

:class:`RevocationSet` is the pure, immutable index the verifier consults (four dictionary
lookups and a comparison per request; nothing at all while there are no rules).
:class:`Revocations` is the per-process holder that swaps in a fresh set whenever the stored
rules change, polled every :data:`REVOCATION_POLL_SECONDS`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from webfed.core.credentials import SessionContext
from webfed.core.keys import RETIRED_KEY_GRACE
from webfed.core.oidc.context import provider_key
from webfed.errors import InvalidClientTokenId

__all__ = [
    "MAX_REASON_LENGTH",
    "MAX_SUBJECT_LENGTH",
    "PRUNE_AFTER",
    "REVOCATION_POLL_SECONDS",
    "REVOKED_MESSAGE",
    "RevocationKind",
    "RevocationRule",
    "RevocationSet",
    "RevocationSource",
    "Revocations",
    "normalize_provider",
    "parse_role_target",
    "revocation_moment",
    "revoked_error",
    "validate_access_key_id",
    "validate_subject",
]

REVOCATION_POLL_SECONDS = 1.0
# The longest session (12 h) plus the clock skew between nodes the sealing-key grace allows.
PRUNE_AFTER: timedelta = RETIRED_KEY_GRACE
REVOKED_MESSAGE = "The security token included in the request is invalid."
MAX_SUBJECT_LENGTH = 255
MAX_REASON_LENGTH = 256

_ACCESS_KEY_ID = re.compile(r"ASIA[A-Z2-7]{16}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_K = TypeVar("_K")


class RevocationKind(StrEnum):
    """What a rule matches a session by."""

    ACCESS_KEY = "access-key"
    SUBJECT = "subject"
    ROLE = "role"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class RevocationRule:
    """One stored revocation: the sessions of ``target`` issued before ``issued_before``.

    ``target`` is the access key id, the subject, the role ARN, or ``*`` (kind ``all``);
    ``provider`` narrows a subject rule to one provider (as in condition keys: the issuer URL
    without its scheme, e.g. ``accounts.google.com``), ``None`` for any. ``reason`` is the
    administrator's note, shown by ``webfed sessions list`` and in the refusal's explanation.
    """

    rule_id: int
    account_id: str
    kind: RevocationKind
    target: str
    issued_before: datetime
    created_at: datetime
    provider: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        for moment in (self.issued_before, self.created_at):
            if moment.tzinfo is None:
                raise ValueError("revocation times must be timezone-aware")

    @property
    def prunable_after(self) -> datetime:
        """When every session this rule could cover has expired, on every node's clock."""
        return self.issued_before + PRUNE_AFTER

    def describe(self) -> str:
        """``sessions of role arn:… issued before 2026-…`` (what the rule does, in words)."""
        if self.kind is RevocationKind.ALL:
            whose = f"every session of account {self.account_id}"
        elif self.kind is RevocationKind.ACCESS_KEY:
            whose = f"the session of access key {self.target}"
        elif self.kind is RevocationKind.ROLE:
            whose = f"sessions of role {self.target}"
        else:
            source = f" from {self.provider}" if self.provider else ""
            whose = f"sessions of subject {self.target!r}{source}"
        return f"{whose} issued before {self.issued_before.isoformat()}"

    def role_key(self) -> tuple[str, str]:
        """(account, lower-case role name): how a role rule finds its sessions."""
        name = self.target.rsplit("/", 1)[-1]
        return self.account_id, name.lower()


def revocation_moment(moment: datetime) -> datetime:
    """``moment`` in UTC, rounded up to a whole second (see the module docstring)."""
    if moment.tzinfo is None:
        raise ValueError("a revocation time must be timezone-aware")
    utc = moment.astimezone(UTC)
    if utc.microsecond == 0:
        return utc
    return datetime.fromtimestamp(math.ceil(utc.timestamp()), UTC)


def normalize_provider(text: str) -> str:
    """A provider as the sessions record it: an issuer URL, an IAM OIDC provider ARN or the
    bare ``host/path`` all become ``host/path`` (``cognito-identity.amazonaws.com`` for
    identity-pool credentials)."""
    value = text.strip()
    if value.startswith("arn:") and ":oidc-provider/" in value:
        value = value.split(":oidc-provider/", 1)[1]
    value = provider_key(value)
    if not value or _CONTROL.search(value) or len(value) > 2048:
        raise ValueError(f"not a provider: {text!r}")
    return value


def validate_access_key_id(value: str) -> str:
    """A webfed temporary access key id (``ASIA`` and 16 base32 characters)."""
    if not _ACCESS_KEY_ID.fullmatch(value):
        raise ValueError(
            "not a temporary access key id: expected ASIA followed by 16 characters A-Z, 2-7"
        )
    return value


def validate_subject(value: str) -> str:
    """A web identity ``sub`` (OpenID Connect: at most 255 ASCII characters)."""
    if not value or len(value) > MAX_SUBJECT_LENGTH or _CONTROL.search(value):
        raise ValueError(f"a subject is 1 to {MAX_SUBJECT_LENGTH} printable characters")
    return value


def parse_role_target(value: str, account_id: str) -> tuple[str, str | None]:
    """(role name, ARN or ``None``) from a role ARN or name; the ARN must be of ``account_id``."""
    arn = _ROLE_ARN.fullmatch(value)
    if arn is not None:
        if arn.group(1) != account_id:
            raise ValueError(f"the role {value} is not in account {account_id}")
        return arn.group(2), value
    if _ROLE_NAME.fullmatch(value):
        return value, None
    raise ValueError(f"not a role ARN or name: {value!r}")


# --- the index the verifier consults -----------------------------------------------------------


def _later(table: dict[_K, RevocationRule], key: _K, rule: RevocationRule) -> None:
    """Keep, per key, the rule that reaches furthest (the latest ``issued_before``)."""
    kept = table.get(key)
    if kept is None or rule.issued_before > kept.issued_before:
        table[key] = rule


class RevocationSet:
    """Rules indexed for the request path: O(1) per request, whatever their number."""

    __slots__ = ("_accounts", "_keys", "_roles", "_size", "_subjects", "_subjects_any")

    def __init__(self, rules: Iterable[RevocationRule] = ()) -> None:
        self._accounts: dict[str, RevocationRule] = {}
        self._keys: dict[str, RevocationRule] = {}
        self._roles: dict[tuple[str, str], RevocationRule] = {}
        self._subjects: dict[tuple[str, str, str], RevocationRule] = {}
        self._subjects_any: dict[tuple[str, str], RevocationRule] = {}
        size = 0
        for rule in rules:
            size += 1
            if rule.kind is RevocationKind.ALL:
                _later(self._accounts, rule.account_id, rule)
            elif rule.kind is RevocationKind.ACCESS_KEY:
                _later(self._keys, rule.target, rule)
            elif rule.kind is RevocationKind.ROLE:
                _later(self._roles, rule.role_key(), rule)
            elif rule.provider is None:
                _later(self._subjects_any, (rule.account_id, rule.target), rule)
            else:
                _later(self._subjects, (rule.account_id, rule.provider, rule.target), rule)
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"RevocationSet({self._size} rules)"

    def revoked_by(self, access_key_id: str, session: SessionContext) -> RevocationRule | None:
        """The rule that revokes this session, or ``None``. A kind with no rules costs nothing
        (no key is built for it), so a deployment that only ever revokes by access key pays
        one dictionary lookup per request."""
        if not self._size:
            return None
        issued = session.issued_at
        account = session.account_id
        rule = self._keys.get(access_key_id) if self._keys else None
        if rule is not None and issued < rule.issued_before:
            return rule
        rule = self._accounts.get(account) if self._accounts else None
        if rule is not None and issued < rule.issued_before:
            return rule
        if self._roles:
            rule = self._roles.get((account, session.role_name.lower()))
            if rule is not None and issued < rule.issued_before:
                return rule
        web = session.web_identity
        if web is None:
            return None
        if self._subjects_any:
            rule = self._subjects_any.get((account, web.sub))
            if rule is not None and issued < rule.issued_before:
                return rule
        if self._subjects:
            rule = self._subjects.get((account, web.provider, web.sub))
            if rule is not None and issued < rule.issued_before:
                return rule
        return None

    def check(self, access_key_id: str, session: SessionContext) -> None:
        """Return if no rule revokes the session; else raise ``InvalidClientTokenId``."""
        if not self._size:
            return
        rule = self.revoked_by(access_key_id, session)
        if rule is not None:
            raise revoked_error(rule, session)


def revoked_error(rule: RevocationRule, session: SessionContext) -> InvalidClientTokenId:
    """The refusal of a revoked session; the explanation names the rule, never a secret.

    ``check`` stays ``session-token`` so that S3 spells it ``InvalidToken`` like any other
    session token it no longer accepts."""
    revocation: dict[str, object] = {
        "rule": rule.rule_id,
        "kind": str(rule.kind),
        "target": rule.target,
        "issuedBefore": rule.issued_before.isoformat(),
        "sessionIssuedAt": session.issued_at.isoformat(),
        "revokedAt": rule.created_at.isoformat(),
    }
    if rule.provider is not None:
        revocation["provider"] = rule.provider
    if rule.reason:
        revocation["note"] = rule.reason
    return InvalidClientTokenId(
        REVOKED_MESSAGE,
        explanation={
            "check": "session-token",
            "reason": f"the session was revoked by rule {rule.rule_id}: {rule.describe()}",
            "revocation": revocation,
        },
    )


# --- keeping a process's set fresh -------------------------------------------------------------


class RevocationSource(Protocol):
    """Where the rules live (``webfed.storage.revocations.RevocationRepository``)."""

    async def version(self) -> tuple[int, int]:
        """Changes whenever a rule is added or deleted."""
        ...

    async def active(self, now: datetime) -> Sequence[RevocationRule]:
        """Every rule that may still cover a live session at ``now``."""
        ...


class Revocations:
    """The current :class:`RevocationSet` of a process, replaced whole when the rules change.

    :meth:`refresh` costs one small query when nothing changed (the rule count and the highest
    rule id, which every insert or delete moves) and reloads the live rules when something did.
    The version is read before the rules, so a rule written in between is loaded either now or
    at the next poll, never missed. Polled every second, a revocation written anywhere reaches
    every node within about one poll plus one load: the documented bound is two seconds.
    """

    def __init__(self, source: RevocationSource, clock: Callable[[], datetime]) -> None:
        self._source = source
        self._clock = clock
        self._version: tuple[int, int] | None = None
        self.current = RevocationSet()

    def __repr__(self) -> str:
        return f"Revocations({self.current!r})"

    def get(self) -> RevocationSet:
        """The set to check now (what the verifier calls per request)."""
        return self.current

    async def refresh(self) -> bool:
        """Reload if the stored rules changed; ``True`` when they did."""
        version = await self._source.version()
        if version == self._version:
            return False
        rules = await self._source.active(self._clock())
        self.current = RevocationSet(rules)
        self._version = version
        return True

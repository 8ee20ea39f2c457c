"""The outcome of an evaluation: allowed or not, why, and which statements decided it."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

__all__ = ["Decision", "DecisionKind", "StatementRef"]


class DecisionKind(Enum):
    """IAM's three outcomes (User Guide, "Policy evaluation logic")."""

    EXPLICIT_DENY = "explicit_deny"
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit_deny"


class StatementRef(NamedTuple):
    """A statement named for people: the policy's name, its 0-based index and its Sid."""

    policy: str
    statement_index: int
    sid: str

    def __str__(self) -> str:
        sid = f' (Sid "{self.sid}")' if self.sid else ""
        return f"policy `{self.policy or '(unnamed)'}` statement {self.statement_index}{sid}"


class Decision(NamedTuple):
    """The decision with its reason. ``statements`` are the deciding statements.

    For an explicit deny: the denying statement. For an allow: each statement that granted it
    (identity, resource, boundary, session). For an implicit deny: the closest statement that
    did not apply (its condition failed), when there is one.

    Immutable; a named tuple rather than a frozen dataclass because one is built per request
    and a tuple is several times cheaper to construct.
    """

    allowed: bool
    kind: DecisionKind
    statements: tuple[StatementRef, ...]
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The administrator's explanation, as plain data (encoded into authorization messages)."""
        return {
            "allowed": self.allowed,
            "decision": self.kind.value,
            "reason": self.reason,
            "statements": [
                {"policy": ref.policy, "index": ref.statement_index, "sid": ref.sid}
                for ref in self.statements
            ],
        }

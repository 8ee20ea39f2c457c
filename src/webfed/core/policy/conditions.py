"""The ``Condition`` element: clause logic over compiled operator values.

IAM User Guide, "IAM JSON policy elements: Condition", "Creating a condition with multiple keys
or values" and "Condition operators":

* different operators, and different keys under one operator, are ANDed;
* several values for one key are ORed; for a negated operator the request value must match
  *none* of them;
* a key missing from the request makes a positive operator false and a negated one true, except
  that ``...IfExists`` is then true and ``Null`` tests exactly that presence;
* ``ForAllValues:`` is true when every request value matches (and when the key is absent or
  empty); ``ForAnyValue:`` when at least one does (false when absent or empty).

An unqualified operator applied to a multivalued request key is true when any request value
matches (the negated form: when none does); AWS does not document this case, so webfed reads it
as ``ForAnyValue`` and says so in ``docs/policy-engine.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from webfed.core.policy.context import ContextValues
from webfed.core.policy.operators import OperatorSpec, ValueMatcher

__all__ = ["Condition", "Qualifier", "all_hold", "first_failure"]

_SHOWN = 200


class Qualifier(Enum):
    """The set operator before a condition operator, if any."""

    NONE = ""
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator: ``{"ForAnyValue:StringLike": {"key": [values]}}``."""

    operator: str
    spec: OperatorSpec
    qualifier: Qualifier
    if_exists: bool
    key: str
    key_lower: str
    values: tuple[ValueMatcher, ...]

    negated: bool = field(init=False, repr=False)
    is_null: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "negated", self.spec.negated)
        object.__setattr__(self, "is_null", self.spec.family == "Null")

    def holds(self, context: ContextValues) -> bool:
        """Evaluate this clause against the request context."""
        given = context.get(self.key_lower)
        if not given:
            return self._when_missing()
        if given.__class__ is str and not self.is_null:
            # The hot path, a single-valued key: inlined, no helper calls.
            for wanted in self.values:
                if wanted.matches(given, context):
                    return not self.negated
            return self.negated
        return self._holds_present(given, context)

    def _holds_present(self, given: str | tuple[str, ...], context: ContextValues) -> bool:
        if self.is_null:
            return any(value.matches("", context) for value in self.values)
        if isinstance(given, str):
            return self._single(given, context)
        if self.qualifier is Qualifier.FOR_ALL_VALUES:
            return all(self._single(value, context) for value in given)
        if self.qualifier is Qualifier.FOR_ANY_VALUE:
            return any(self._single(value, context) for value in given)
        found = any(self._positive(value, context) for value in given)
        return found != self.negated

    def _when_missing(self) -> bool:
        if self.is_null:
            return any(not value.matches("", {}) for value in self.values)
        if self.if_exists or self.qualifier is Qualifier.FOR_ALL_VALUES:
            return True
        if self.qualifier is Qualifier.FOR_ANY_VALUE:
            return False
        return self.spec.negated

    def _positive(self, value: str, context: ContextValues) -> bool:
        # A plain loop: this is the hot path, and any() over a generator costs a frame per call.
        for wanted in self.values:  # noqa: SIM110
            if wanted.matches(value, context):
                return True
        return False

    def _single(self, value: str, context: ContextValues) -> bool:
        return self._positive(value, context) != self.negated

    def explain(self, context: ContextValues) -> str:
        """Plain words for why this clause does not hold (call only when it does not)."""
        given = context.get(self.key_lower)
        wanted = ", ".join(f"`{_shown(value.source)}`" for value in self.values)
        if self.spec.family == "Null":
            state = "absent" if not given else "present"
            return f"condition Null on `{self.key}`: wanted {wanted}, the key was {state}"
        how = "none of" if self.spec.negated else ("one of" if len(self.values) > 1 else "")
        wanted_text = f"{how} {wanted}".strip()
        return f"condition {self.operator} on `{self.key}`: wanted {wanted_text}, {_had(given)}"


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _had(given: str | tuple[str, ...] | None) -> str:
    if not given:
        return "the request had no value"
    if isinstance(given, str):
        return f"request had `{_shown(given)}`"
    return "request had " + ", ".join(f"`{_shown(value)}`" for value in given)


def all_hold(conditions: tuple[Condition, ...], context: ContextValues) -> bool:
    """AND across every clause of a statement."""
    for condition in conditions:  # noqa: SIM110 (hot path: no generator frame)
        if not condition.holds(context):
            return False
    return True


def first_failure(conditions: tuple[Condition, ...], context: ContextValues) -> Condition | None:
    """The first clause that does not hold, for explanations."""
    for condition in conditions:
        if not condition.holds(context):
            return condition
    return None

"""The request context: condition keys and their values, as the policy engine reads them.

Condition key names are case-insensitive (IAM User Guide, "IAM JSON policy elements:
Condition", key names), so keys are stored lowercased. A single-valued key holds a ``str``; a
multivalued key (the "ArrayOf" keys such as ``aws:TagKeys`` or
``cognito-identity.amazonaws.com:amr``) holds a ``tuple`` of strings, even with one element:
single- versus multi-valued is a property of the key in the request, not of the policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["ContextValues", "build_context"]

ContextValues = Mapping[str, str | tuple[str, ...]]


def build_context(values: Mapping[str, str | Sequence[str]]) -> dict[str, str | tuple[str, ...]]:
    """Lowercase the key names; keep strings single-valued and sequences multivalued.

    When two keys differ only by case the later one wins (AWS: "the key name matches both
    tags, but only one value matches"; which one is not documented).
    """
    context: dict[str, str | tuple[str, ...]] = {}
    for key, value in values.items():
        if isinstance(value, str):
            context[key.lower()] = value
        else:
            context[key.lower()] = tuple(str(item) for item in value)
    return context

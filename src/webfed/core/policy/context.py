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


def build_context(
    values: Mapping[str, str | Sequence[str]],
    into: dict[str, str | tuple[str, ...]] | None = None,
) -> dict[str, str | tuple[str, ...]]:
    """Lowercase the key names; keep strings single-valued and sequences multivalued.

    When two keys differ only by case the later one wins (AWS: "the key name matches both
    tags, but only one value matches"; which one is not documented). Given ``into``, the keys
    are added to that context (overriding its keys of the same name) and it is returned, so a
    context made of several sources is built without intermediate copies.
    """
    context: dict[str, str | tuple[str, ...]] = {} if into is None else into
    for key, value in values.items():
        context[key.lower()] = value if isinstance(value, str) else tuple(map(str, value))
    return context

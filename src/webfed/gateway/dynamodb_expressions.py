"""What DynamoDB expressions name: top-level attributes, and the partition key a query fixes.

DynamoDB requests name attributes in expressions ("Expressions", DynamoDB Developer Guide): a
document path is ``name`` or ``#placeholder`` followed by ``.member`` and ``[index]`` parts;
``#placeholder`` resolves through ``ExpressionAttributeNames``, ``:value`` through
``ExpressionAttributeValues``; functions (``if_not_exists``, ``list_append``, ``size``…) are
names followed by ``(``. For ``dynamodb:Attributes`` only the top-level name of each path
counts; for ``dynamodb:LeadingKeys`` a query's key condition must fix the partition key with
``=`` (DynamoDB rejects any other query).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from webfed.errors import ValidationError

__all__ = [
    "attribute_value_text",
    "key_condition_value",
    "top_level_names",
]

_TOKEN = re.compile(
    r"(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<name>#?[A-Za-z_][A-Za-z0-9_]*)(?P<call>\s*\()?"
    r"|(?P<member>\.\s*#?[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN"})
_EQUALITY = re.compile(r"(#?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)")
_EQUALITY_REVERSED = re.compile(r"(:[A-Za-z0-9_]+)\s*=\s*(#?[A-Za-z_][A-Za-z0-9_]*)")
MAX_EXPRESSION = 4096


def _resolve(name: str, names: Mapping[str, str]) -> str:
    if not name.startswith("#"):
        return name
    if name not in names:
        raise ValidationError(
            "An expression attribute name used in the document path is not defined; "
            f"attribute name: {name}"
        )
    return names[name]


def top_level_names(expression: str, names: Mapping[str, str]) -> tuple[str, ...]:
    """The distinct top-level attribute names an expression reads or writes, in order."""
    if len(expression) > MAX_EXPRESSION:
        raise ValidationError("The expression is too long.")
    found: dict[str, None] = {}
    for match in _TOKEN.finditer(expression):
        name = match.group("name")
        if name is None or match.group("call") is not None:
            continue
        if not name.startswith("#") and name.upper() in _KEYWORDS:
            continue
        found[_resolve(name, names)] = None
    return tuple(found)


def attribute_value_text(value: object) -> str:
    """A key attribute value as a condition key sees it: the string, number or base64 text."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, text),) = value.items()
        if kind in ("S", "N", "B") and isinstance(text, str):
            return text
    raise ValidationError("A key attribute must be a string, number or binary value.")


def key_condition_value(
    expression: str,
    partition_key: str,
    names: Mapping[str, str],
    values: Mapping[str, object],
) -> str:
    """The partition key value a ``KeyConditionExpression`` fixes with ``=``."""
    if len(expression) > MAX_EXPRESSION:
        raise ValidationError("The expression is too long.")
    pairs = [(n, v) for n, v in _EQUALITY.findall(expression)]
    pairs += [(n, v) for v, n in _EQUALITY_REVERSED.findall(expression)]
    fixed = {v for n, v in pairs if _resolve(n, names) == partition_key}
    if len(fixed) != 1:
        raise ValidationError("Query condition missed key schema element: " + partition_key)
    (placeholder,) = fixed
    if placeholder not in values:
        raise ValidationError(
            "An expression attribute value used in expression is not defined; "
            f"attribute value: {placeholder}"
        )
    return attribute_value_text(values[placeholder])

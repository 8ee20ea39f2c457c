"""Constraint checks of the model, and AWS's wording of a validation failure.

AWS services check every input member against its shape's traits and report all failures in
one message (see "Common Errors", ``ValidationError``/``InvalidParameterException``):

    2 validation errors detected: Value 'x' at 'roleName' failed to satisfy constraint: Member
    must have length less than or equal to 64; Value null at 'roleArn' failed to satisfy
    constraint: Member must not be null

A member is named by its lower-camel label, list elements as ``label.N.member`` and nested
members as ``outer.inner``. The value of a ``sensitive`` member (or of an aggregate holding
one) is never echoed: the message then reads ``Value at 'webIdentityToken' ...``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webfed.errors import WebfedError
from webfed.protocol.shapes import Kind, ListNode, MapNode, Node, Scalar, Structure, resolve

__all__ = [
    "NOT_NULL",
    "Violation",
    "raise_violations",
    "render_value",
    "scalar_constraints",
    "validate",
    "violation",
]

NOT_NULL = "Member must not be null"
_NUMBERS = frozenset({Kind.INTEGER, Kind.LONG, Kind.FLOAT, Kind.DOUBLE})


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed constraint; ``shown`` is the echoed value, ``None`` for null or redacted."""

    path: str
    constraint: str
    shown: str | None = None
    redacted: bool = False

    def render(self) -> str:
        if self.redacted:
            subject = "Value"
        elif self.shown is None:
            subject = "Value null"
        else:
            subject = f"Value '{self.shown}'"
        return f"{subject} at '{self.path}' failed to satisfy constraint: {self.constraint}"


def render_value(value: Any) -> str:
    """Render a decoded value roughly as Java's ``toString`` would."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return (
            "{" + ", ".join(f"{render_value(k)}={render_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    return str(value)


def violation(node: Node, value: Any, path: str, constraint: str) -> Violation:
    """A violation of ``value`` at ``path``, echoing the value unless the node is sensitive."""
    if node.sensitive:
        return Violation(path, constraint, redacted=True)
    return Violation(path, constraint, shown=render_value(value))


def _length_constraints(node: Scalar, size: int) -> list[str]:
    found = []
    if node.min_length is not None and size < node.min_length:
        found.append(f"Member must have length greater than or equal to {node.min_length}")
    if node.max_length is not None and size > node.max_length:
        found.append(f"Member must have length less than or equal to {node.max_length}")
    return found


def _range_constraints(node: Scalar, number: float) -> list[str]:
    found = []
    if node.minimum is not None and number < node.minimum:
        found.append(f"Member must have value greater than or equal to {node.minimum}")
    if node.maximum is not None and number > node.maximum:
        found.append(f"Member must have value less than or equal to {node.maximum}")
    return found


def _string_constraints(node: Scalar, value: str) -> list[str]:
    found = _length_constraints(node, len(value))
    if node.pattern is not None and node.pattern.fullmatch(value) is None:
        found.append(f"Member must satisfy regular expression pattern: {node.pattern_text}")
    if node.enum is not None and value not in node.enum:
        found.append(f"Member must satisfy enum value set: {node.enum_text}")
    return found


def scalar_constraints(node: Scalar, value: Any) -> list[str]:
    """The constraints of ``node`` that the decoded ``value`` breaks."""
    if node.kind is Kind.STRING:
        return _string_constraints(node, value)
    if node.kind is Kind.BLOB:
        return _length_constraints(node, len(value))
    if node.kind in _NUMBERS:
        return _range_constraints(node, value)
    return []


def _count_constraints(node: ListNode | MapNode, size: int) -> list[str]:
    found = []
    if node.min_length is not None and size < node.min_length:
        found.append(f"Member must have length greater than or equal to {node.min_length}")
    if node.max_length is not None and size > node.max_length:
        found.append(f"Member must have length less than or equal to {node.max_length}")
    return found


def _validate_structure(
    node: Structure, value: Mapping[str, Any], path: str, out: list[Violation]
) -> None:
    if node.union and sum(value.get(m.name) is not None for m in node.members) != 1:
        out.append(violation(node, value, path, "Member must have exactly one member set"))
    for member in node.members:
        item = value.get(member.name)
        if item is None:
            if member.required:
                out.append(Violation(_member_path(path, member.label), NOT_NULL))
            continue
        target = member.node
        if type(target) is Scalar:  # most members: their path is written only for a violation
            broken = scalar_constraints(target, item)
            if broken:
                member_path = _member_path(path, member.label)
                out.extend(violation(target, item, member_path, c) for c in broken)
            continue
        _validate(target, item, _member_path(path, member.label), out)


def _member_path(path: str, label: str) -> str:
    return f"{path}.{label}" if path else label


def _validate_map(node: MapNode, value: Mapping[Any, Any], path: str, out: list[Violation]) -> None:
    """Scalar keys and values are reported once for the whole map, as AWS does."""
    for part, label in ((node.key, "keys"), (node.value, "value")):
        if not isinstance(part, Scalar):
            continue
        items = value.keys() if part is node.key else value.values()
        broken = sorted({c for item in items for c in scalar_constraints(part, item)})
        if broken:
            constraint = f"Map {label} must satisfy constraint: [{', '.join(broken)}]"
            out.append(violation(node, value, path, constraint))
    if not isinstance(node.value, Scalar):
        for key, item in value.items():
            _validate(node.value, item, f"{path}.{key}", out)


def _validate(node: Node, value: Any, path: str, out: list[Violation]) -> None:
    node = resolve(node)
    if isinstance(node, Scalar):
        out.extend(violation(node, value, path, c) for c in scalar_constraints(node, value))
    elif isinstance(node, Structure):
        _validate_structure(node, value, path, out)
    else:
        out.extend(violation(node, value, path, c) for c in _count_constraints(node, len(value)))
        if isinstance(node, MapNode):
            _validate_map(node, value, path, out)
        else:
            for index, item in enumerate(value, 1):
                _validate(node.member, item, f"{path}.{index}.member", out)


def validate(node: Structure, value: Mapping[str, Any]) -> list[Violation]:
    """Every constraint violation of a decoded input, in model member order."""
    out: list[Violation] = []
    _validate_structure(node, value, "", out)
    return out


def raise_violations(error_class: type[WebfedError], violations: Sequence[Violation]) -> None:
    """Raise one error listing every violation, as AWS does; return if there are none."""
    if not violations:
        return
    count = len(violations)
    noun = "validation error" if count == 1 else "validation errors"
    details = "; ".join(item.render() for item in violations)
    raise error_class(f"{count} {noun} detected: {details}")

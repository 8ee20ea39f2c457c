"""Checking one field of a configuration file against IAM's published constraints.

The lengths and patterns are those of the IAM API model (botocore ``iam/2010-05-08``):
``roleNameType`` and ``policyNameType`` (``[\\w+=,.@-]+``), ``pathType``, ``policyPathType``,
``roleDescriptionType``, ``tagKeyType`` / ``tagValueType`` and ``thumbprintType``. A
:class:`Reader` collects every problem instead of stopping at the first, so one run reports the
whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from webfed.core.entities import fold_case
from webfed.declarative.source import Json, Problem, line_of, scalar_value, to_json

__all__ = [
    "DESCRIPTION",
    "POLICY_NAME",
    "POLICY_PATH",
    "ROLE_NAME",
    "ROLE_PATH",
    "TAG_KEY",
    "TAG_VALUE",
    "Reader",
    "TextRule",
]


@dataclass(frozen=True, slots=True)
class TextRule:
    """Length bounds and an optional full-match pattern for a string field."""

    min_length: int
    max_length: int
    pattern: re.Pattern[str] | None = None
    check: Callable[[str], bool] | None = None
    explain: str = ""

    def problem(self, value: str) -> str | None:
        if not self.min_length <= len(value) <= self.max_length:
            return f"must be {self.min_length} to {self.max_length} characters long"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"must match {self.explain or self.pattern.pattern}"
        if self.check is not None and not self.check(value):
            return f"must be {self.explain}"
        return None


_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]+")
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _is_tag_text(value: str) -> bool:
    """Letters, numbers, separators (spaces) and ``_ . : / = + - @`` (IAM ``tagKeyType``)."""
    return all(ch.isalnum() or ch.isspace() or ch in _TAG_PUNCTUATION for ch in value)


ROLE_NAME = TextRule(1, 64, _NAME, explain="[A-Za-z0-9_+=,.@-]+")
POLICY_NAME = TextRule(1, 128, _NAME, explain="[A-Za-z0-9_+=,.@-]+")
ROLE_PATH = TextRule(1, 512, re.compile(r"/|/[\x21-\x7e]+/"), explain="/ or /text/")
POLICY_PATH = TextRule(
    1, 512, re.compile(r"(/[A-Za-z0-9.,+@=_-]+)*/"), explain="/ or /segment/segment/"
)
DESCRIPTION = TextRule(
    0, 1000, re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*"), explain="printable Latin-1 text"
)
TAG_KEY = TextRule(1, 128, check=_is_tag_text, explain="letters, digits, spaces and _.:/=+-@")
TAG_VALUE = TextRule(0, 256, check=_is_tag_text, explain="letters, digits, spaces and _.:/=+-@")

_KIND_NAMES = {
    yaml.MappingNode: "a mapping",
    yaml.SequenceNode: "a list",
    yaml.ScalarNode: "a single value",
}


class Reader:
    """Typed access to YAML nodes that records a :class:`Problem` for each violation."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}

    def report(self, message: str, node: yaml.Node | None, where: str) -> None:
        line = line_of(node) if node is not None else self.lines.get(where)
        self.problems.append(Problem(message, line, where))

    def mapping(
        self, node: yaml.Node, where: str, *, allowed: frozenset[str], required: frozenset[str]
    ) -> dict[str, yaml.Node] | None:
        """The fields of a mapping node; unknown, duplicate and missing keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.report(f"must be a mapping, not {_KIND_NAMES[type(node)]}", node, where)
            return None
        self.lines[where] = line_of(node)
        fields = self.pairs(node, where)
        for key, value in fields.items():
            self.lines[_join(where, key)] = line_of(value)
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.report(f"unknown key {key!r} (expected one of: {expected})", value, where)
        for key in sorted(required - fields.keys()):
            self.report(f"missing required key {key!r}", node, where)
        return {key: value for key, value in fields.items() if key in allowed}

    def pairs(self, node: yaml.MappingNode, where: str) -> dict[str, yaml.Node]:
        """The key/value nodes of a mapping, reporting non-string and duplicate keys."""
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                self.report("keys must be strings", key_node, where)
            elif key_node.value in fields:
                self.report(f"duplicate key {key_node.value!r}", key_node, where)
            else:
                fields[str(key_node.value)] = value_node
        return fields

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[f"{where}[{index}]"] = line_of(item)
            return list(node.value)
        self.report(f"must be a list, not {_KIND_NAMES[type(node)]}", node, where)
        return []

    def scalar(self, node: yaml.Node, where: str) -> Json:
        if isinstance(node, yaml.ScalarNode):
            try:
                return scalar_value(node)
            except ValueError as error:
                self.report(str(error), node, where)
                return None
        self.report(f"must be a single value, not {_KIND_NAMES[type(node)]}", node, where)
        return None

    def text(self, node: yaml.Node, where: str, rule: TextRule | None = None) -> str | None:
        value = self.scalar(node, where)
        if value is None and isinstance(node, yaml.ScalarNode):
            self.report("must be a string", node, where)
            return None
        if value is None:
            return None
        if not isinstance(value, str):
            self.report(f"must be a string (quote it): got {value!r}", node, where)
            return None
        problem = rule.problem(value) if rule is not None else None
        if problem is not None:
            self.report(problem, node, where)
            return None
        return value

    def integer(self, node: yaml.Node, where: str, low: int, high: int) -> int | None:
        value = self.scalar(node, where)
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(f"must be a whole number from {low} to {high}", node, where)
            return None
        if not low <= value <= high:
            self.report(f"must be from {low} to {high}, not {value}", node, where)
            return None
        return value

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        value = self.scalar(node, where)
        if not isinstance(value, bool):
            self.report(f"must be true or false, not {value!r}", node, where)
            return None
        return value

    def text_map(
        self, node: yaml.Node, where: str, rule: TextRule | None = None
    ) -> dict[str, str] | None:
        """A mapping of strings to strings, each value's line kept as ``where.key``."""
        if not isinstance(node, yaml.MappingNode):
            self.report("must be a mapping of text to text", node, where)
            return None
        self.lines[where] = line_of(node)
        result: dict[str, str] = {}
        failed = False
        for key, value_node in self.pairs(node, where).items():
            location = _join(where, key)
            self.lines[location] = line_of(value_node)
            value = self.text(value_node, location, rule)
            if value is None:
                failed = True
            else:
                result[key] = value
        return None if failed else result

    def texts(
        self, node: yaml.Node, where: str, rule: TextRule | None = None, *, max_items: int
    ) -> tuple[str, ...] | None:
        items = self.sequence(node, where)
        if len(items) > max_items:
            self.report(f"must have at most {max_items} items, not {len(items)}", node, where)
        values = [self.text(item, f"{where}[{i}]", rule) for i, item in enumerate(items)]
        if any(value is None for value in values):
            return None
        return tuple(value for value in values if value is not None)

    def tags(self, node: yaml.Node, where: str, *, case_sensitive: bool) -> dict[str, str] | None:
        """A ``key: value`` mapping of at most 50 tags (IAM ``tagListType``)."""
        if not isinstance(node, yaml.MappingNode):
            self.report("must be a mapping of tag keys to values", node, where)
            return None
        fields = self.pairs(node, where)
        if len(fields) > 50:
            self.report(f"must have at most 50 tags, not {len(fields)}", node, where)
        result: dict[str, str] = {}
        seen: dict[str, str] = {}
        for key, value_node in fields.items():
            value = self.text(value_node, _join(where, key), TAG_VALUE)
            folded = key if case_sensitive else fold_case(key)
            problem = TAG_KEY.problem(key)
            if problem is not None:
                self.report(f"tag key {key!r} {problem}", value_node, where)
            elif folded in seen:
                clash = f"tag keys {seen[folded]!r} and {key!r} differ only in case"
                self.report(clash, value_node, where)
            elif value is not None:
                seen[folded] = key
                result[key] = value
        return result

    def json(self, node: yaml.Node, where: str) -> Json:
        return to_json(node, where, self.problems)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

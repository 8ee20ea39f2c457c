"""Reading YAML text into nodes that remember their line, and the :class:`Problem` they report.

The loader is PyYAML's safe loader with two YAML 1.1 surprises removed, because a policy
document must reach IAM exactly as written: unquoted dates (``Version: 2012-10-17``) stay
strings, and only ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` stay strings).
Duplicate mapping keys, which PyYAML would silently merge, are reported. The number of nodes a
policy document may expand to is capped, so aliases cannot blow up memory ("billion laughs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from webfed.errors import InvalidConfiguration

__all__ = [
    "MAX_DOCUMENT_NODES",
    "MAX_FILE_BYTES",
    "Problem",
    "compose",
    "line_of",
    "raise_problems",
    "to_json",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_NODES = 20_000

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_JSON_SCALAR_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:null",
        _BOOL_TAG,
    }
)

Json = str | int | float | bool | None | list["Json"] | dict[str, "Json"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration file, where it is, and what to do about it."""

    message: str
    line: int | None = None
    where: str = ""

    def __str__(self) -> str:
        place = f"line {self.line}: " if self.line is not None else ""
        subject = f"{self.where}: " if self.where else ""
        return f"{place}{subject}{self.message}"


def raise_problems(problems: list[Problem], source: str = "") -> None:
    """Raise :class:`InvalidConfiguration` listing every problem, if there is any."""
    if problems:
        prefix = f"{source}: " if source else ""
        ordered = sorted(problems, key=lambda p: (p.line or 0, p.where, p.message))
        raise InvalidConfiguration(tuple(prefix + str(problem) for problem in ordered))


class _Loader(yaml.SafeLoader):
    """Safe loader resolving plain scalars closer to YAML 1.2 / JSON."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def compose(text: str) -> tuple[yaml.Node | None, list[Problem]]:
    """Parse YAML text into its node tree, or report the syntax error with its line."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [Problem(f"the file is larger than {MAX_FILE_BYTES} bytes")]
    loader = _Loader(text)
    try:
        return loader.get_single_node(), []
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = error.problem or error.context or "not valid YAML"
        return None, [Problem(f"YAML syntax error: {reason}", line)]
    except yaml.YAMLError as error:
        return None, [Problem(f"YAML syntax error: {error}")]
    finally:
        loader.dispose()


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def scalar_value(node: yaml.ScalarNode) -> Json:
    """The JSON-compatible value of a plain or quoted scalar (str, int, float, bool, null)."""
    if node.tag not in _JSON_SCALAR_TAGS:
        raise ValueError(f"unsupported YAML tag {node.tag}")
    loader = _Loader("")
    try:
        value: Json = loader.construct_object(node)
    finally:
        loader.dispose()
    return value


def to_json(node: yaml.Node, where: str, problems: list[Problem]) -> Json:
    """Convert a node to a JSON value, reporting duplicate keys, non-string keys and tags."""
    budget = [MAX_DOCUMENT_NODES]
    return _convert(node, where, problems, budget)


def _convert(node: yaml.Node, where: str, problems: list[Problem], budget: list[int]) -> Json:
    budget[0] -= 1
    if budget[0] < 0:
        if budget[0] == -1:
            problems.append(Problem("the document is too large", line_of(node), where))
        return None
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, where, problems, budget)
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, f"{where}[{index}]", problems, budget)
            for index, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    try:
        return scalar_value(node)
    except ValueError as error:
        problems.append(Problem(str(error), line_of(node), where))
        return None


def _convert_mapping(
    node: yaml.MappingNode, where: str, problems: list[Problem], budget: list[int]
) -> Json:
    result: dict[str, Json] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            problems.append(Problem("keys must be strings", line_of(key_node), where))
            continue
        key = str(key_node.value)
        if key in result:
            problems.append(Problem(f"duplicate key {key!r}", line_of(key_node), where))
            continue
        result[key] = _convert(value_node, f"{where}.{key}", problems, budget)
    return result

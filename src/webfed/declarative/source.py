"""Reading YAML text into nodes that remember their line, and the :class:`Problem` they report.

The loader is PyYAML's safe loader resolving plain scalars as YAML 1.2's JSON-compatible subset,
because a policy document must reach IAM exactly as written. YAML 1.1, PyYAML's default, would
read ``012345670123`` as an octal number, ``1:20`` as base 60, ``1_000`` as ``1000``, ``yes`` as
true and ``2012-10-17`` as a date. Here:

* a plain scalar is a number only when it is a JSON number (RFC 8259 section 6: no leading zero,
  no ``_``, no sign ``+``, digits on both sides of a point); in a policy document it is kept as
  its text (:class:`webfed.declarative.json_text.Number`);
* booleans are YAML 1.2 core's ``true``/``True``/``TRUE`` and ``false``/``False``/``FALSE``;
* null is YAML 1.2 core's ``null``/``Null``/``NULL``/``~`` or nothing;
* everything else, ``.inf`` and ``.nan`` included, is a string.

An explicit tag (``!!int 0x10``) must spell its value the same way. Duplicate mapping keys,
which PyYAML would silently merge, are reported. The number of nodes a policy document may
expand to is capped, so aliases cannot blow up memory ("billion laughs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from webfed.declarative.json_text import JSON_FLOAT, JSON_INTEGER, Json, Number
from webfed.errors import InvalidConfiguration

__all__ = [
    "MAX_DOCUMENT_NODES",
    "MAX_FILE_BYTES",
    "Dumper",
    "Json",
    "Problem",
    "compose",
    "line_of",
    "raise_problems",
    "to_json",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_NODES = 20_000

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_NULL = re.compile(r"null|Null|NULL|~|")
# How each non-string scalar must be spelled, plain or under an explicit tag.
_SPELLINGS = {
    _INT_TAG: JSON_INTEGER,
    _FLOAT_TAG: JSON_FLOAT,
    _BOOL_TAG: _BOOL,
    _NULL_TAG: _NULL,
}
# (tag, pattern, first characters) in the order the resolver tries them.
_IMPLICIT = (
    (_BOOL_TAG, _BOOL, "tTfF"),
    (_NULL_TAG, _NULL, ["n", "N", "~", ""]),
    (_INT_TAG, JSON_INTEGER, "-0123456789"),
    (_FLOAT_TAG, JSON_FLOAT, "-0123456789"),
)


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
    """Safe loader resolving plain scalars as YAML 1.2's JSON-compatible subset."""


def _anchored(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern.pattern})$")


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _IMPLICIT:
    _Loader.add_implicit_resolver(_tag, _anchored(_pattern), list(_first))


class Dumper(yaml.SafeDumper):
    """Writes what :class:`_Loader` reads back unchanged, and what YAML 1.1 readers read alike.

    JSON numbers resolve first (so :class:`Number` is written plain), then every YAML 1.1 rule,
    so a string any YAML reader might take for something else (``0123``, ``yes``, ``1:20``,
    ``2012-10-17``) is quoted.
    """


Dumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in _IMPLICIT[2:]:
    for _character in _first:
        Dumper.yaml_implicit_resolvers.setdefault(_character, []).insert(
            0, (_tag, _anchored(_pattern))
        )


def _represent_number(dumper: yaml.SafeDumper, number: Number) -> yaml.ScalarNode:
    return dumper.represent_scalar(_INT_TAG if number.is_integer else _FLOAT_TAG, number.text)


Dumper.add_representer(Number, _represent_number)


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


def _checked_spelling(node: yaml.ScalarNode) -> str:
    """The scalar's text, once it is known to spell a value of its tag (plain or explicit)."""
    text = str(node.value)
    if node.tag == _STR_TAG:
        return text
    spelling = _SPELLINGS.get(node.tag)
    if spelling is None:
        raise ValueError(f"unsupported YAML tag {node.tag}")
    if not spelling.fullmatch(text):
        kind = node.tag.rsplit(":", 1)[1]
        raise ValueError(f"{text[:40]!r} is not a YAML 1.2 / JSON {kind}")
    return text


def scalar_value(node: yaml.ScalarNode) -> Json:
    """The value of a plain or quoted scalar: str, int, float, bool or ``None``."""
    text = _checked_spelling(node)
    if node.tag == _INT_TAG:
        return int(text)
    if node.tag == _FLOAT_TAG:
        return float(text)
    return _document_scalar(node.tag, text)


def _document_scalar(tag: str, text: str) -> Json:
    """A scalar inside a policy document: numbers stay :class:`Number`, as written."""
    if tag in (_INT_TAG, _FLOAT_TAG):
        return Number(text)
    if tag == _BOOL_TAG:
        return text.lower() == "true"
    if tag == _NULL_TAG:
        return None
    return text


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
        return _document_scalar(node.tag, _checked_spelling(node))
    except ValueError as error:
        problems.append(Problem(str(error), line_of(node), where))
        return None


def _convert_mapping(
    node: yaml.MappingNode, where: str, problems: list[Problem], budget: list[int]
) -> Json:
    result: dict[str, Json] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            problems.append(Problem("keys must be strings", line_of(key_node), where))
            continue
        key = str(key_node.value)
        if key in result:
            problems.append(Problem(f"duplicate key {key!r}", line_of(key_node), where))
            continue
        result[key] = _convert(value_node, f"{where}.{key}", problems, budget)
    return result

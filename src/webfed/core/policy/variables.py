"""Policy variables: ``${key}``, ``${key, 'default'}``, and the literals ``${*}`` ``${?}`` ``${$}``.

IAM User Guide, "IAM policy elements: Variables and tags": a variable is replaced by the value of
the single-valued request-context key it names (names are case-insensitive); ``${*}``, ``${?}``
and ``${$}`` stand for a literal ``*``, ``?`` and ``$``; a default follows the key after a comma
and a space, in single quotes. Variables are recognised only in policies whose ``Version`` is
``2012-10-17``; otherwise ``${...}`` is literal text. A key that is missing (or multivalued, which
cannot be a variable) and has no default leaves the variable *unresolved*: the caller decides
what that means (a resource pattern then matches nothing; a positive string condition fails).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from webfed.core.policy.context import ContextValues
from webfed.core.policy.wildcard import (
    Token,
    Wildcard,
    join_tokens,
    match_chunks,
    match_tokens,
    tokenize,
)

__all__ = [
    "DynamicGlob",
    "InvalidVariable",
    "Template",
    "Variable",
    "has_variables",
    "lookup",
    "parse_template",
    "resolve",
    "resolve_text",
]

_LITERALS = {"*": "*", "?": "?", "$": "$"}
_BODY = re.compile(r"\s*([^\s,'{}$][^,'{}$]*?)\s*(?:,\s*'([^']*)')?\s*")


class InvalidVariable(ValueError):
    """A ``${...}`` whose body is neither a key, a key with a default, nor a special literal."""


@dataclass(frozen=True, slots=True)
class Variable:
    """A reference to a request-context key, with its optional default."""

    key: str
    default: str | None
    source: str


Part = Token | Variable
Template = tuple[Part, ...]


def parse_template(text: str, *, variables: bool, wildcards: bool) -> Template:
    """Split ``text`` into literals, wildcards (if ``wildcards``) and variables (if ``variables``).

    Raise :class:`InvalidVariable` for a malformed ``${...}`` body.
    """
    parts: list[Part] = []
    position = 0
    while variables:
        start = text.find("${", position)
        end = text.find("}", start + 2) if start >= 0 else -1
        if end < 0:
            break
        parts.extend(_literal_parts(text[position:start], wildcards))
        parts.append(_parse_body(text[start : end + 1]))
        position = end + 1
    parts.extend(_literal_parts(text[position:], wildcards))
    return tuple(_merge(parts))


def _literal_parts(text: str, wildcards: bool) -> tuple[Token, ...]:
    if not text:
        return ()
    return tokenize(text) if wildcards else (text,)


def _parse_body(source: str) -> Part:
    body = source[2:-1]
    literal = _LITERALS.get(body)
    if literal is not None:
        return literal
    found = _BODY.fullmatch(body)
    if found is None:
        raise InvalidVariable(f"malformed policy variable {source!r}")
    return Variable(found.group(1).lower(), found.group(2), source)


def _merge(parts: Sequence[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + part
        elif part != "":
            merged.append(part)
    return merged


def lookup(variable: Variable, context: ContextValues) -> str | None:
    """The value a variable stands for, its default, or ``None`` when unresolved."""
    value = context.get(variable.key)
    if isinstance(value, str):
        return value
    return variable.default


def resolve(template: Template, context: ContextValues) -> tuple[Token, ...] | None:
    """Substitute variables as literals (never as wildcards); ``None`` if any is unresolved."""
    tokens: list[Token] = []
    for part in template:
        if isinstance(part, Variable):
            value = lookup(part, context)
            if value is None:
                return None
            tokens.append(value)
        else:
            tokens.append(part)
    return join_tokens(tokens)


def resolve_text(template: Template, context: ContextValues) -> str | None:
    """Resolve a template without wildcards into plain text; ``None`` if unresolved."""
    pieces: list[str] = []
    for part in template:
        if isinstance(part, Variable):
            value = lookup(part, context)
            if value is None:
                return None
            pieces.append(value)
        elif isinstance(part, Wildcard):
            pieces.append(part.value)
        else:
            pieces.append(part)
    return "".join(pieces)


def has_variables(template: Template) -> bool:
    """True when the template names at least one request-context key."""
    return any(isinstance(part, Variable) for part in template)


class DynamicGlob:
    """A wildcard pattern with policy variables, matched after substitution without a regex.

    Without ``?`` the pattern is kept as the literal chunks between ``*`` wildcards, each a
    ``str.format`` template whose fields are the variables' values (literal braces escaped);
    at request time the values are looked up once, the chunks formatted, and the chunks found
    in order (:func:`webfed.core.policy.wildcard.match_chunks`). With ``?`` the whole template
    is resolved into tokens and matched by :func:`webfed.core.policy.wildcard.match_tokens`.
    """

    __slots__ = ("_formats", "_variables", "source", "template")

    def __init__(self, source: str, template: Template) -> None:
        self.source = source
        self.template = template
        variables: list[Variable] = []
        formats: list[str] = [""]
        for part in template:
            if isinstance(part, Variable):
                formats[-1] += "{%d}" % len(variables)  # noqa: UP031 (building a format string)
                variables.append(part)
            elif part is Wildcard.ANY:
                formats.append("")
            elif isinstance(part, str):
                formats[-1] += part.replace("{", "{{").replace("}", "}}")
        self._variables = tuple(variables)
        self._formats = None if Wildcard.ONE in template else tuple(formats)

    def __repr__(self) -> str:
        return f"DynamicGlob({self.source!r})"

    def matches(self, text: str, context: ContextValues) -> bool | None:
        """True/False, or ``None`` when a variable has no value and no default."""
        if self._formats is None:
            tokens = resolve(self.template, context)
            return None if tokens is None else match_tokens(tokens, text)
        values = []
        for variable in self._variables:
            value = context.get(variable.key)
            if value.__class__ is not str:
                value = variable.default
                if value is None:
                    return None
            values.append(value)
        formats = self._formats
        if len(formats) == 2:  # the common "prefix/${key}/*" shape: one star
            first, last = formats[0].format(*values), formats[1].format(*values)
            return (
                len(text) >= len(first) + len(last)
                and text.startswith(first)
                and text.endswith(last)
            )
        return match_chunks([chunk.format(*values) for chunk in formats], text)

"""JSON values whose numbers keep the text they were written in.

A policy document must reach IAM exactly as written, and IAM accepts numbers of any length: a
condition value ``012``, ``1.50`` or a 5,001-digit integer is stored as sent. Converting to
Python ``int``/``float`` would rewrite ``1.50`` as ``1.5``, round long floats, and refuse
integers longer than Python's 4,300-digit conversion limit. So numbers are :class:`Number`, the
text of a JSON number (RFC 8259 section 6), and :func:`dumps` writes that text back unchanged.

:func:`dumps` writes compact JSON with every character outside ASCII escaped (``\\u65e5``):
policy documents may hold only tab, newline, carriage return and U+0020 to U+00FF (IAM API
reference, ``policyDocumentType``), and escapes keep any other character within that set.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["JSON_FLOAT", "JSON_INTEGER", "Json", "Number", "dumps", "loads"]

# RFC 8259 section 6: no leading zeros, no plus sign, digits on both sides of a point.
JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
JSON_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")


@dataclass(frozen=True, slots=True)
class Number:
    """A JSON number, as the text it was written in (``Number("1.50") != Number("1.5")``)."""

    text: str

    def __post_init__(self) -> None:
        if not (JSON_INTEGER.fullmatch(self.text) or JSON_FLOAT.fullmatch(self.text)):
            raise ValueError(f"{self.text[:40]!r} is not a JSON number")

    @property
    def is_integer(self) -> bool:
        return JSON_INTEGER.fullmatch(self.text) is not None


Json = str | int | float | bool | None | Number | list["Json"] | dict[str, "Json"]


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Json:
    """Parse JSON text; numbers become :class:`Number`. ``ValueError`` when it is not JSON."""
    try:
        value: Json = json.loads(
            text, parse_int=Number, parse_float=Number, parse_constant=_refuse_constant
        )
    except RecursionError as error:
        raise ValueError("the document is nested too deeply") from error
    return value


def dumps(value: Json, *, sort_keys: bool = False, indent: int | None = None) -> str:
    """ASCII JSON text of ``value``, :class:`Number` values written as they were.

    Compact by default; with ``indent``, laid out as ``json.dumps(..., indent=indent)`` does.
    """
    parts: list[str] = []
    layout = _Layout(sort_keys, indent)
    try:
        layout.write(value, 0, parts)
    except RecursionError as error:
        raise ValueError("the document is nested too deeply") from error
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Layout:
    sort_keys: bool
    indent: int | None

    def _break(self, level: int) -> str:
        return "" if self.indent is None else "\n" + " " * (self.indent * level)

    def write(self, value: Json, level: int, parts: list[str]) -> None:
        if isinstance(value, dict):
            items = sorted(value.items()) if self.sort_keys else list(value.items())
            colon = ":" if self.indent is None else ": "
            members = [(json.dumps(key) + colon, item) for key, item in items]
            self._container("{", "}", members, level, parts)
        elif isinstance(value, list):
            self._container("[", "]", [("", item) for item in value], level, parts)
        elif isinstance(value, Number):
            parts.append(value.text)
        else:
            parts.append(json.dumps(value, allow_nan=False))

    def _container(
        self,
        opening: str,
        closing: str,
        members: list[tuple[str, Json]],
        level: int,
        parts: list[str],
    ) -> None:
        parts.append(opening)
        for index, (prefix, item) in enumerate(members):
            parts.append(("," if index else "") + self._break(level + 1) + prefix)
            self.write(item, level + 1, parts)
        parts.append((self._break(level) if members else "") + closing)

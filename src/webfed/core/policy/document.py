"""Reading a policy document as JSON: character set, duplicate keys, and typed scalars.

IAM User Guide, "IAM JSON policy grammar" and "IAM and AWS STS quotas": a policy may contain only
U+0009, U+000A, U+000D and U+0020..U+00FF; a key may appear only once in an object. Numbers are
kept as their source text (:class:`Number`) so that ``"Sid": 1`` stays a type error while
``{"NumericLessThan": {"s3:max-keys": 10}}`` keeps its value exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["JsonValue", "Number", "Problem", "ProblemError", "load_json", "position_of"]


@dataclass(frozen=True, slots=True)
class Number:
    """A JSON number, as written."""

    text: str


JsonValue = str | Number | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a document is malformed: where (statement, element) and what."""

    message: str
    element: str = ""
    statement: int | None = None
    sid: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.statement is not None:
            sid = f' (Sid "{self.sid}")' if self.sid else ""
            where.append(f"Statement[{self.statement}]{sid}")
        if self.element:
            where.append(f"element {self.element}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ProblemError(Exception):
    """Internal carrier of a :class:`Problem` (turned into MalformedPolicyDocument)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def position_of(document: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = document.count("\n", 0, offset) + 1
    column = offset - (document.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _check_characters(document: str) -> None:
    for offset, char in enumerate(document):
        code = ord(char)
        if code > 0xFF or (code < 0x20 and char not in "\t\n\r"):
            line, column = position_of(document, offset)
            raise ProblemError(
                Problem(
                    f"character U+{code:04X} at line {line}, column {column} is outside the "
                    "allowed set (tab, newline, carriage return, U+0020..U+00FF)",
                    line=line,
                )
            )


def _pairs(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    for key, value in pairs:
        if key in result:
            raise ProblemError(Problem(f'duplicate key "{key}" in a JSON object'))
        result[key] = value
    return result


def _no_constant(text: str) -> JsonValue:
    raise ProblemError(Problem(f"{text} is not allowed in a policy"))


def load_json(document: str) -> JsonValue:
    """Check the character set and parse strictly; raise :class:`ProblemError`."""
    _check_characters(document)
    try:
        value: JsonValue = json.loads(
            document,
            object_pairs_hook=_pairs,
            parse_int=Number,
            parse_float=Number,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as error:
        raise ProblemError(
            Problem(
                f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
                line=error.lineno,
            )
        ) from None
    except RecursionError:
        raise ProblemError(Problem("JSON nested too deeply")) from None
    return value

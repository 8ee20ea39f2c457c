"""Wildcard patterns of the IAM policy language, matched without building a regex from raw text.

IAM patterns use two wildcards (IAM User Guide, "IAM JSON policy elements: Resource" and
"Condition operators", ``StringLike``): ``*`` matches any run of characters, including none and
including ``/``; ``?`` matches exactly one character. Every other character stands for itself.

A pattern is held as a tuple of *tokens*: literal strings and the two :class:`Wildcard` values.
A literal may contain ``*`` or ``?`` (written ``${*}`` / ``${?}`` in the policy): being inside a
literal it matches only itself. Static patterns compile once into a :class:`StaticGlob` (exact
comparison, prefix and suffix test, or the chunk and token matchers below); patterns built at
request time, after policy variables are substituted, go through :func:`match_tokens`, a linear
matcher that builds nothing.

No pattern becomes a regex: a backtracking regex engine takes exponential time on globs such as
``s3:a**********b`` or ``*a*a*a*a*a*a*a*a*c`` (each ``*`` a ``.*``), and policies, session
policies included, are written by callers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

__all__ = [
    "StaticGlob",
    "Token",
    "Wildcard",
    "compile_glob",
    "has_wildcards",
    "join_tokens",
    "match_chunks",
    "match_tokens",
    "split_tokens",
    "tokenize",
]


class Wildcard(Enum):
    """The two wildcards; ``ANY`` is ``*``, ``ONE`` is ``?``."""

    ANY = "*"
    ONE = "?"


Token = str | Wildcard
_WILDCARD_OF = {"*": Wildcard.ANY, "?": Wildcard.ONE}


def tokenize(text: str) -> tuple[Token, ...]:
    """Split raw policy text into literals and wildcards (every ``*`` and ``?`` is a wildcard)."""
    tokens: list[Token] = []
    start = 0
    for index, char in enumerate(text):
        wildcard = _WILDCARD_OF.get(char)
        if wildcard is not None:
            if index > start:
                tokens.append(text[start:index])
            tokens.append(wildcard)
            start = index + 1
    if start < len(text):
        tokens.append(text[start:])
    return tuple(tokens)


def join_tokens(parts: Sequence[Token]) -> tuple[Token, ...]:
    """Merge adjacent literals so the matcher sees at most one literal between wildcards."""
    merged: list[Token] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + part
                continue
        merged.append(part)
    return tuple(merged)


def has_wildcards(tokens: Sequence[Token]) -> bool:
    """True when any token is a wildcard."""
    return any(isinstance(token, Wildcard) for token in tokens)


def split_tokens(tokens: Sequence[Token], separator: str, maxsplit: int) -> list[list[Token]]:
    """Split a token sequence on ``separator`` inside literals, at most ``maxsplit`` times."""
    segments: list[list[Token]] = [[]]
    for token in tokens:
        if isinstance(token, Wildcard):
            segments[-1].append(token)
            continue
        pieces = token.split(separator, maxsplit - (len(segments) - 1))
        for number, piece in enumerate(pieces):
            if number:
                segments.append([])
            if piece:
                segments[-1].append(piece)
    return segments


def match_tokens(tokens: Sequence[Token], text: str) -> bool:
    """Match ``text`` against merged tokens (see :func:`join_tokens`) without a regex."""
    if Wildcard.ONE in tokens:
        return _match_characters(tokens, text)
    return _match_star_chunks(tokens, text)


def _match_star_chunks(tokens: Sequence[Token], text: str) -> bool:
    return match_chunks(_chunks_between_stars(tokens), text)


def match_chunks(chunks: Sequence[str], text: str) -> bool:
    """Match the literal chunks between ``*`` wildcards: they must appear in order, the first
    at the start and the last at the end; leftmost placement of the middle ones is optimal."""
    if len(chunks) == 1:
        return text == chunks[0]
    first, last = chunks[0], chunks[-1]
    if len(text) < len(first) + len(last):
        return False
    if not (text.startswith(first) and text.endswith(last)):
        return False
    position, end = len(first), len(text) - len(last)
    for chunk in chunks[1:-1]:
        found = text.find(chunk, position, end)
        if found < 0:
            return False
        position = found + len(chunk)
    return True


def _chunks_between_stars(tokens: Sequence[Token]) -> list[str]:
    chunks = [""]
    for token in tokens:
        if token is Wildcard.ANY:
            chunks.append("")
        else:
            chunks[-1] += str(token)
    return chunks


def _match_characters(tokens: Sequence[Token], text: str) -> bool:
    """General case: one pass with backtracking to the last ``*`` only (linear in practice)."""
    pattern: list[Token] = []
    for token in tokens:
        pattern.extend(token if isinstance(token, str) else (token,))
    size = len(pattern)
    index = position = 0
    star_index, star_position = -1, 0
    while position < len(text):
        unit = pattern[index] if index < size else None
        if unit is Wildcard.ANY:
            star_index, star_position = index, position
            index += 1
        elif unit is Wildcard.ONE or (unit is not None and unit == text[position]):
            index += 1
            position += 1
        elif star_index >= 0:
            star_position += 1
            index, position = star_index + 1, star_position
        else:
            return False
    while index < size and pattern[index] is Wildcard.ANY:
        index += 1
    return index == size


class StaticGlob:
    """A pattern known at parse time, compiled to the cheapest test that decides it."""

    __slots__ = ("_chunks", "_literal", "_suffix", "_tokens", "matches", "source")

    matches: Callable[[str], bool]

    def __init__(self, source: str, tokens: Sequence[Token]) -> None:
        self.source = source
        self._literal = ""
        self._suffix = ""
        self._chunks: tuple[str, ...] = ()
        merged = join_tokens(tokens)
        self._tokens = merged
        if not has_wildcards(merged):
            self._literal = str(merged[0]) if merged else ""
            self.matches = self._equals
        elif merged == (Wildcard.ANY,):
            self.matches = _always
        elif Wildcard.ONE not in merged:
            self._chunks = tuple(_chunks_between_stars(merged))
            if len(self._chunks) == 2:
                self._literal, self._suffix = self._chunks
                self.matches = self._affixes
            else:
                self.matches = self._in_order
        else:
            self.matches = self._by_character

    def __repr__(self) -> str:
        return f"StaticGlob({self.source!r})"

    def _equals(self, text: str) -> bool:
        return text == self._literal

    def _affixes(self, text: str) -> bool:
        return (
            len(text) >= len(self._literal) + len(self._suffix)
            and text.startswith(self._literal)
            and text.endswith(self._suffix)
        )

    def _in_order(self, text: str) -> bool:
        return match_chunks(self._chunks, text)

    def _by_character(self, text: str) -> bool:
        return _match_characters(self._tokens, text)


def _always(text: str) -> bool:
    return True


def compile_glob(source: str, *, lowercase: bool = False) -> StaticGlob:
    """Compile raw pattern text (``*`` and ``?`` are wildcards); optionally case-folded."""
    text = source.lower() if lowercase else source
    return StaticGlob(source, tokenize(text))

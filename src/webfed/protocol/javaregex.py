"""Translate the Java regular expressions of botocore's models into Python ``re`` patterns.

AWS validates string members with ``java.util.regex`` patterns (the ``pattern`` trait of a
shape). Python's ``re`` reads most of them unchanged; the differences that matter:

* Java's ``\\w``, ``\\d`` and ``\\s`` are ASCII-only unless a flag says otherwise, Python's are
  Unicode; we compile with :data:`re.ASCII`.
* Java has Unicode property classes ``\\p{L}``, ``\\p{Lu}``, ``\\P{N}``… that ``re`` lacks; we
  expand them into explicit code-point ranges built from :mod:`unicodedata` (so the Unicode
  version is Python's, not the JVM's).
* Java reads a supplementary code point written as a UTF-16 surrogate pair of escapes
  (``\\uD800\\uDC00``); we write the code point itself.
* Some AWS patterns write a supplementary code point as ``\\u10000`` (Java would read
  ``\\u1000`` then ``0``). The evident intent (the XML 1.0 character set) is the code point, so
  inside a character class five or six hex digits after ``\\u`` that name a supplementary code
  point are read as that code point.

A pattern is matched against the whole value (Java ``Matcher.matches``), see
:func:`compile_java_pattern`.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["compile_java_pattern", "translate_java_pattern"]


@functools.cache
def _category_ranges() -> dict[str, tuple[tuple[int, int], ...]]:
    """Every general category (``Lu``, ``Nd``…) as sorted, merged code-point ranges."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    current = unicodedata.category("\0")
    start = 0
    for code_point in range(1, sys.maxunicode + 1):
        category = unicodedata.category(chr(code_point))
        if category != current:
            ranges.setdefault(current, []).append((start, code_point - 1))
            current, start = category, code_point
    ranges.setdefault(current, []).append((start, sys.maxunicode))
    return {name: tuple(spans) for name, spans in ranges.items()}


# Java's POSIX classes (US-ASCII only unless UNICODE_CHARACTER_CLASS is set)
_POSIX: dict[str, list[tuple[int, int]]] = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0x00, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": [(0x30, 0x39)],
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "Graph": [(0x21, 0x7E)],
    "Print": [(0x20, 0x7E)],
    "Blank": [(0x09, 0x09), (0x20, 0x20)],
    "Cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": [(0x09, 0x0D), (0x20, 0x20)],
}


def _property_ranges(name: str) -> list[tuple[int, int]]:
    """Ranges of a POSIX class, or of a one-letter (major) or two-letter general category."""
    if name in _POSIX:
        return _POSIX[name]
    if len(name) > 2:
        raise ValueError(f"unsupported property class \\p{{{name}}}")
    table = _category_ranges()
    spans = [
        span for category, found in table.items() if category.startswith(name) for span in found
    ]
    if not spans:
        raise ValueError(f"unsupported Unicode property class \\p{{{name}}}")
    return sorted(spans)


def _class_body(spans: list[tuple[int, int]]) -> str:
    return "".join(
        f"\\U{low:08X}" if low == high else f"\\U{low:08X}-\\U{high:08X}" for low, high in spans
    )


def _expand_property(negated: bool, name: str, inside_class: bool) -> str:
    body = _class_body(_property_ranges(name))
    if inside_class:
        if negated:
            raise ValueError("a negated property class inside [...] is not supported")
        return body
    return f"[^{body}]" if negated else f"[{body}]"


_ESCAPE = re.compile(
    r"\\(?:(?P<prop>[pP])\{(?:Is)?(?P<name>[A-Za-z]+)\}"
    r"|u(?P<high>[Dd][89ABab][0-9A-Fa-f]{2})\\u(?P<low>[Dd][C-Fc-f][0-9A-Fa-f]{2})"
    r"|u(?P<wide>10[0-9A-Fa-f]{4}|[0-9A-Fa-f]{5})(?![0-9A-Fa-f])"
    r"|(?P<end>z)"
    r"|.)",
    re.DOTALL,
)


def _translate_escape(match: re.Match[str], inside_class: bool) -> str:
    if match.group("prop"):
        return _expand_property(match.group("prop") == "P", match.group("name"), inside_class)
    if match.group("high"):
        high, low = int(match.group("high"), 16), int(match.group("low"), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"
    if match.group("wide") and inside_class:
        return f"\\U{int(match.group('wide'), 16):08X}"
    if match.group("end"):
        return "\\Z"
    return match.group(0)


def _open_class(pattern: str, index: int, out: list[str]) -> int:
    """Copy a class opener (``[``, ``[^`` and a literal ``]`` right after it); return the index."""
    opener = "[^" if pattern.startswith("[^", index) else "["
    out.append(opener)
    index += len(opener)
    if pattern.startswith("]", index):
        out.append("\\]")
        index += 1
    return index


def translate_java_pattern(pattern: str) -> str:
    """Rewrite a Java regex into an equivalent Python ``re`` pattern (used with ``re.ASCII``)."""
    out: list[str] = []
    index, inside_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            match = _ESCAPE.match(pattern, index)
            if match is None:
                raise ValueError("pattern ends with a lone backslash")
            out.append(_translate_escape(match, inside_class))
            index = match.end()
        elif char == "[" and not inside_class:
            inside_class = True
            index = _open_class(pattern, index, out)
        else:
            inside_class = inside_class and char != "]"
            out.append(char)
            index += 1
    return "".join(out)


@functools.cache
def compile_java_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a model pattern once; callers must use ``fullmatch`` (Java ``matches``)."""
    return re.compile(translate_java_pattern(pattern), re.ASCII)

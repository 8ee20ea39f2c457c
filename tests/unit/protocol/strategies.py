"""Hypothesis strategies that draw valid values for a botocore shape.

Built from botocore's own shape objects (not webfed's compiled tree), honouring min/max, enum
and pattern, so that the round-trip tests do not assume what they are checking.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from webfed.protocol.javaregex import translate_java_pattern

_SIMPLE_CLASS = re.compile(r"\^?(\[[^\[\]]*(?:\\.[^\[\]]*)*\])([*+])\$?")
_SPAN = 12  # how far past a minimum length the drawn sizes go
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _sizes(shape: Any, floor: int = 0, cap: int = _SPAN) -> tuple[int, int]:
    low = max(int(shape.metadata.get("min", 0)), floor)
    high = int(shape.metadata.get("max", low + cap))
    return low, min(high, low + cap)


def _pattern_strategy(shape: Any, pattern: str) -> st.SearchStrategy[str]:
    simple = _SIMPLE_CLASS.fullmatch(pattern)
    if simple is not None:
        char_class = re.compile(translate_java_pattern(simple.group(1)), re.ASCII)

        def in_class(char: str) -> bool:
            return char_class.fullmatch(char) is not None

        # ASCII first: most model classes are ASCII-only and a filter on all of Unicode starves
        alphabet = st.one_of(st.characters(max_codepoint=0x7F), st.characters()).filter(in_class)
        low, high = _sizes(shape, floor=1 if simple.group(2) == "+" else 0)
        return st.text(alphabet, min_size=low, max_size=high)
    compiled = re.compile(translate_java_pattern(pattern), re.ASCII)
    low, high = int(shape.metadata.get("min", 0)), int(shape.metadata.get("max", 10**9))
    return st.from_regex(compiled, fullmatch=True).filter(lambda text: low <= len(text) <= high)


def string_strategy(shape: Any) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(list(shape.enum))
    pattern = shape.metadata.get("pattern")
    if pattern:
        return _pattern_strategy(shape, pattern)
    low, high = _sizes(shape)
    return st.text(min_size=low, max_size=high)


def _integer_strategy(shape: Any, bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    low = int(shape.metadata.get("min", bounds[0]))
    high = int(shape.metadata.get("max", bounds[1]))
    return st.integers(low, high)


def timestamps(precision: str) -> st.SearchStrategy[datetime]:
    """UTC datetimes; ``precision`` is "micro" (Query) or "milli" (JSON epoch floats)."""
    moments = st.datetimes(datetime(1971, 1, 1), datetime(2200, 1, 1))
    if precision == "milli":
        moments = moments.map(lambda m: m.replace(microsecond=m.microsecond // 1000 * 1000))
    return moments.map(lambda moment: moment.replace(tzinfo=UTC))


def _union_strategy(shape: Any, precision: str, depth: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        [
            st.fixed_dictionaries({name: value_strategy(member, precision, depth + 1)})
            for name, member in shape.members.items()
        ]
    )


def _structure_strategy(shape: Any, precision: str, depth: int) -> st.SearchStrategy[Any]:
    if shape.metadata.get("union"):
        return _union_strategy(shape, precision, depth)
    required = set(shape.required_members)
    fixed = {
        name: value_strategy(member, precision, depth + 1)
        for name, member in shape.members.items()
        if name in required
    }
    optional = {
        name: value_strategy(member, precision, depth + 1)
        for name, member in shape.members.items()
        if name not in required and depth < 4
    }
    if fixed or not optional or not depth:
        return st.fixed_dictionaries(fixed, optional=optional)
    # the Query wire has no spelling for an empty nested structure: force one member in
    return st.one_of(
        [
            st.fixed_dictionaries(
                {name: strategy}, optional={k: v for k, v in optional.items() if k != name}
            )
            for name, strategy in optional.items()
        ]
    )


def _aggregate_strategy(shape: Any, precision: str, depth: int) -> st.SearchStrategy[Any]:
    if shape.type_name == "structure":
        return _structure_strategy(shape, precision, depth)
    low, high = _sizes(shape, cap=3)
    if shape.type_name == "list":
        element = value_strategy(shape.member, precision, depth + 1)
        return st.lists(element, min_size=low, max_size=high)
    if precision == "micro":
        # the Query wire has no spelling for an empty map
        low, high = max(low, 1), max(high, 1)
    return st.dictionaries(
        string_strategy(shape.key),
        value_strategy(shape.value, precision, depth + 1),
        min_size=low,
        max_size=high,
    )


_CACHE: dict[tuple[str, str, str, int], st.SearchStrategy[Any]] = {}


def value_strategy(shape: Any, precision: str = "micro", depth: int = 0) -> st.SearchStrategy[Any]:
    """Values valid for ``shape``, as a botocore user would pass them (cached per shape)."""
    key = (shape.name, repr(sorted(shape.serialization.items())), precision, depth)
    if key not in _CACHE:
        _CACHE[key] = _value_strategy(shape, precision, depth)
    return _CACHE[key]


def _value_strategy(shape: Any, precision: str, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "boolean": st.booleans(),
        "blob": st.binary(min_size=int(shape.metadata.get("min", 0)), max_size=16),
        "timestamp": timestamps(precision),
    }
    if kind == "string":
        return string_strategy(shape)
    if kind in ("integer", "long"):
        return _integer_strategy(shape, _INT32 if kind == "integer" else _INT64)
    if kind in scalars:
        return scalars[kind]
    return _aggregate_strategy(shape, precision, depth)


__all__ = ["string_strategy", "timestamps", "value_strategy"]

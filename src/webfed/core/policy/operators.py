"""Condition operators: how one policy value is compared with one request value.

IAM User Guide, "IAM JSON policy elements: Condition operators". Each operator family compiles a
policy value once into a matcher (:class:`ValueMatcher`); the clause logic (AND/OR, negation,
missing keys, ``IfExists``, set qualifiers) lives in :mod:`webfed.core.policy.conditions`.
Negated operators are stored as their positive form plus ``negated=True``.

Families: String (exact, case-insensitive, ``Like`` with ``*``/``?``; variables allowed),
Numeric (integer or decimal), Date (W3C ISO 8601 or epoch seconds), Bool, BinaryEquals (base64),
IpAddress (IPv4/IPv6 CIDR, no prefix means a single address), Arn (each of the six
colon-separated components matched separately, case-sensitive; variables allowed), and Null.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol

from webfed.core.arn import arn_components
from webfed.core.policy.context import ContextValues
from webfed.core.policy.variables import (
    DynamicGlob,
    Template,
    has_variables,
    parse_template,
    resolve,
    resolve_text,
)
from webfed.core.policy.wildcard import StaticGlob, join_tokens, match_tokens, split_tokens

__all__ = ["OPERATORS", "OperatorSpec", "ValueMatcher", "parse_date", "parse_number"]

_EPOCH = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
Compare = Callable[[Decimal, Decimal], bool]


class ValueMatcher(Protocol):
    """One compiled policy value; ``source`` is its text as written in the policy."""

    @property
    def source(self) -> str: ...

    def matches(self, value: str, context: ContextValues) -> bool:
        """True when the request value satisfies this policy value (positive form)."""
        ...


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A base operator: its family, whether it is negated, and how to compile a value."""

    name: str
    family: str
    negated: bool
    build: Callable[[str, bool], ValueMatcher]


# --- string ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Equals:
    source: str
    template: Template
    literal: str | None
    fold: bool

    def matches(self, value: str, context: ContextValues) -> bool:
        wanted = self.literal
        if wanted is None:
            wanted = resolve_text(self.template, context)
            if wanted is None:
                return False
            if self.fold:
                wanted = wanted.lower()
        return (value.lower() if self.fold else value) == wanted


def _string_equals(fold: bool) -> Callable[[str, bool], ValueMatcher]:
    def build(text: str, variables: bool) -> ValueMatcher:
        template = parse_template(text, variables=variables, wildcards=False)
        literal = None if has_variables(template) else resolve_text(template, {})
        if literal is not None and fold:
            literal = literal.lower()
        return _Equals(text, template, literal, fold)

    return build


@dataclass(frozen=True, slots=True)
class _Like:
    source: str
    static: StaticGlob | None
    dynamic: DynamicGlob | None

    def matches(self, value: str, context: ContextValues) -> bool:
        if self.static is not None:
            return self.static.matches(value)
        assert self.dynamic is not None
        return self.dynamic.matches(value, context) is True


def _string_like(text: str, variables: bool) -> ValueMatcher:
    template = parse_template(text, variables=variables, wildcards=True)
    tokens = None if has_variables(template) else resolve(template, {})
    if tokens is not None:
        return _Like(text, StaticGlob(text, tokens), None)
    return _Like(text, None, DynamicGlob(text, template))


# --- numbers, dates, booleans, binary, addresses -----------------------------------------------


def parse_number(text: str) -> Decimal | None:
    """An integer or decimal; ``None`` for anything else (including NaN and infinities)."""
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> Decimal | None:
    """Epoch seconds, or a W3C ISO 8601 date/time (no zone means UTC); ``None`` otherwise."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        return Decimal(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = moment - _EPOCH_START
    return Decimal(whole.days * 86400 + whole.seconds) + Decimal(whole.microseconds) / 1_000_000


@dataclass(frozen=True, slots=True)
class _Ordered:
    source: str
    wanted: Decimal
    compare: Compare
    parse: Callable[[str], Decimal | None]

    def matches(self, value: str, context: ContextValues) -> bool:
        given = self.parse(value)
        return given is not None and self.compare(given, self.wanted)


def _ordered(
    parse: Callable[[str], Decimal | None], compare: Compare, kind: str
) -> Callable[[str, bool], ValueMatcher]:
    def build(text: str, variables: bool) -> ValueMatcher:
        wanted = parse(text)
        if wanted is None:
            raise ValueError(f"{text!r} is not a valid {kind} value")
        return _Ordered(text, wanted, compare, parse)

    return build


@dataclass(frozen=True, slots=True)
class _Bool:
    source: str
    wanted: str

    def matches(self, value: str, context: ContextValues) -> bool:
        return value.strip().lower() == self.wanted


def _bool(text: str, variables: bool) -> ValueMatcher:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return _Bool(text, text.lower())


@dataclass(frozen=True, slots=True)
class _Binary:
    source: str
    wanted: bytes

    def matches(self, value: str, context: ContextValues) -> bool:
        return _decode_base64(value) == self.wanted


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _binary(text: str, variables: bool) -> ValueMatcher:
    wanted = _decode_base64(text)
    if wanted is None:
        raise ValueError(f"{text!r} is not base64")
    return _Binary(text, wanted)


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=4096)
def _parse_address(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Ip:
    source: str
    network: IpNetwork

    def matches(self, value: str, context: ContextValues) -> bool:
        address = _parse_address(value)
        return address is not None and address in self.network


def _ip(text: str, variables: bool) -> ValueMatcher:
    try:
        return _Ip(text, ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR block") from None


# --- ARNs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ArnLike:
    """Six components matched one by one; precompiled when the value has no variables.

    A value with fewer than six components can never match (``None`` segments).
    """

    source: str
    template: Template
    segments: tuple[StaticGlob, ...] | None

    def matches(self, value: str, context: ContextValues) -> bool:
        given = arn_components(value)
        if given is None:
            return False
        if self.segments is not None:
            return len(self.segments) == 6 and all(
                glob.matches(part) for glob, part in zip(self.segments, given, strict=True)
            )
        tokens = resolve(self.template, context)
        if tokens is None:
            return False
        segments = split_tokens(tokens, ":", 5)
        return len(segments) == 6 and all(
            match_tokens(join_tokens(segment), part)
            for segment, part in zip(segments, given, strict=True)
        )


def _arn(text: str, variables: bool) -> ValueMatcher:
    template = parse_template(text, variables=variables, wildcards=True)
    tokens = None if has_variables(template) else resolve(template, {})
    if tokens is None:
        return _ArnLike(text, template, None)
    segments = split_tokens(tokens, ":", 5)
    globs = tuple(StaticGlob(text, join_tokens(segment)) for segment in segments)
    return _ArnLike(text, template, globs)


@dataclass(frozen=True, slots=True)
class _Null:
    source: str
    wanted_absent: bool

    def matches(self, value: str, context: ContextValues) -> bool:
        return not self.wanted_absent


def _null(text: str, variables: bool) -> ValueMatcher:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return _Null(text, text.lower() == "true")


# --- the table --------------------------------------------------------------------------------

_COMPARISONS: dict[str, Compare] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}


def _table() -> dict[str, OperatorSpec]:
    specs = [
        OperatorSpec("StringEquals", "String", False, _string_equals(False)),
        OperatorSpec("StringNotEquals", "String", True, _string_equals(False)),
        OperatorSpec("StringEqualsIgnoreCase", "String", False, _string_equals(True)),
        OperatorSpec("StringNotEqualsIgnoreCase", "String", True, _string_equals(True)),
        OperatorSpec("StringLike", "String", False, _string_like),
        OperatorSpec("StringNotLike", "String", True, _string_like),
        OperatorSpec("Bool", "Bool", False, _bool),
        OperatorSpec("BinaryEquals", "Binary", False, _binary),
        OperatorSpec("IpAddress", "IpAddress", False, _ip),
        OperatorSpec("NotIpAddress", "IpAddress", True, _ip),
        OperatorSpec("ArnEquals", "Arn", False, _arn),
        OperatorSpec("ArnLike", "Arn", False, _arn),
        OperatorSpec("ArnNotEquals", "Arn", True, _arn),
        OperatorSpec("ArnNotLike", "Arn", True, _arn),
        OperatorSpec("Null", "Null", False, _null),
    ]
    for family, parse in (("Numeric", parse_number), ("Date", parse_date)):
        for suffix, compare in _COMPARISONS.items():
            build = _ordered(parse, compare, family.lower())
            specs.append(OperatorSpec(family + suffix, family, False, build))
        equals = _ordered(parse, operator.eq, family.lower())
        specs.append(OperatorSpec(family + "NotEquals", family, True, equals))
    return {spec.name: spec for spec in specs}


OPERATORS: dict[str, OperatorSpec] = _table()

# Families whose values may contain policy variables (Bool is left out: the variables page of
# the User Guide forbids it even though the operators page allows it; literal is the safe side).
VARIABLE_FAMILIES = frozenset({"String", "Arn"})

"""Scalar conversions shared by the wire formats: text to value (Query) and value to text.

Query requests carry every scalar as text ("Query API requests", AWS General Reference):
integers in decimal, booleans as ``true``/``false``, timestamps in ISO 8601, blobs in base64.
The converters here are strict; each returns the value or raises :class:`BadScalar` with the
constraint the text breaks (the Query decoder reports it like any other violation).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from webfed.protocol.shapes import Kind

__all__ = [
    "BadScalar",
    "as_utc",
    "epoch_seconds",
    "iso8601",
    "parse_query_scalar",
    "parse_timestamp",
]

_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2}))?"
)
_BOUNDS = {
    Kind.INTEGER: (-(2**31), 2**31 - 1),
    Kind.LONG: (-(2**63), 2**63 - 1),
}
_FLOAT_WORDS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class BadScalar(ValueError):
    """The text is not a value of the scalar type; ``constraint`` says what it must be."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


def _parse_integer(text: str, kind: Kind) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise BadScalar("Member must be an integer")
    number = int(text)
    low, high = _BOUNDS[kind]
    if not low <= number <= high:
        raise BadScalar(f"Member must be an integer between {low} and {high}")
    return number


def _parse_float(text: str) -> float:
    if text in _FLOAT_WORDS:
        return _FLOAT_WORDS[text]
    if _FLOAT.fullmatch(text) is None:
        raise BadScalar("Member must be a number")
    return float(text)


def _parse_boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise BadScalar("Member must be true or false")


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 date-time (RFC 3339 profile); no offset means UTC. Returned in UTC."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise BadScalar("Member must be an ISO 8601 timestamp")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = UTC
    if match.group(9):
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        try:
            zone = timezone(-offset if match.group(9) == "-" else offset)
        except ValueError as exc:
            raise BadScalar("Member must be an ISO 8601 timestamp") from exc
    try:
        moment = datetime(year, month, day, hour, minute, second, micros, tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadScalar("Member must be an ISO 8601 timestamp") from exc


def _parse_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadScalar("Member must be base64-encoded") from exc


def parse_query_scalar(text: str, kind: Kind) -> object:
    """Convert Query text to a value of ``kind``, or raise :class:`BadScalar`."""
    if kind is Kind.STRING:
        return text
    if kind in _BOUNDS:
        return _parse_integer(text, kind)
    if kind in (Kind.FLOAT, Kind.DOUBLE):
        return _parse_float(text)
    if kind is Kind.BOOLEAN:
        return _parse_boolean(text)
    if kind is Kind.TIMESTAMP:
        return parse_timestamp(text)
    return _parse_blob(text)


def as_utc(moment: datetime) -> datetime:
    """Handlers may return naive datetimes; those are taken to be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso8601(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, with microseconds only when there are some."""
    return _utc_iso8601(as_utc(moment))


@lru_cache(maxsize=64)
def _utc_iso8601(moment: datetime) -> str:
    # Remembered: responses written in the same second carry the same times (``Expiration`` of
    # a default-length session), and ``strftime`` costs more than the lookup.
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_seconds(moment: datetime) -> int | float:
    """Seconds since the Unix epoch, an integer when there is no fraction (JSON protocols)."""
    moment = as_utc(moment)
    whole = calendar.timegm(moment.utctimetuple())
    if moment.microsecond:
        return whole + moment.microsecond / 1_000_000
    return whole

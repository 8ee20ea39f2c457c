"""IAM's ``Marker``/``MaxItems`` pagination over keyset queries.

IAM hands back an opaque ``Marker`` when ``IsTruncated`` is true and the caller sends it back
unchanged to get the next page. webfed's marker is URL-safe base64 of ``listing-kind NUL
sort-key``: the listing it belongs to and the last key already returned. Decoding checks both
the encoding and the kind, so a marker from another listing, or an edited one, is refused with
``InvalidInput`` instead of silently restarting the listing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

import sqlalchemy as sa

from webfed.core.entities import Page
from webfed.errors import InvalidInput

__all__ = ["DEFAULT_MAX_ITEMS", "decode_marker", "encode_marker", "page_of", "sortable"]

DEFAULT_MAX_ITEMS = 100
_SEPARATOR = "\x00"
T = TypeVar("T")


def encode_marker(kind: str, key: str) -> str:
    raw = f"{kind}{_SEPARATOR}{key}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_marker(kind: str, marker: str | None) -> str | None:
    """The sort key a marker resumes after, or ``None`` for the first page."""
    if marker is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(marker.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError) as error:
        raise InvalidInput("Invalid Marker.") from error
    marker_kind, separator, key = raw.partition(_SEPARATOR)
    if not separator or marker_kind != kind or encode_marker(kind, key) != marker:
        raise InvalidInput("Invalid Marker.")
    return key


def page_of(kind: str, rows: Sequence[T], max_items: int, key: Callable[[T], str]) -> Page[T]:
    """Cut ``rows`` (fetched with ``LIMIT max_items + 1``) into a page and its next marker."""
    if len(rows) <= max_items:
        return Page(tuple(rows))
    kept = tuple(rows[:max_items])
    return Page(kept, encode_marker(kind, key(kept[-1])))


def sortable(column: sa.ColumnElement[str], dialect: str) -> sa.ColumnElement[str]:
    """``column`` under byte-order collation, so SQL order matches Python's ``sorted``.

    PostgreSQL databases often default to a locale collation; SQLite's default is already
    binary. Keyset pagination needs the ``ORDER BY`` and the ``>`` to agree, and listings must
    match the order the entity getters return.
    """
    if dialect == "postgresql":
        return column.collate("C")
    return column

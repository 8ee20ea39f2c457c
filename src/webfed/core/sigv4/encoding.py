"""Percent-encoding as SigV4 defines it ("URI-encode", AWS "Create a signed AWS API request").

SigV4 encodes every byte except the unreserved characters of RFC 3986 section 2.3
(``A-Z a-z 0-9 - _ . ~``) as ``%XY`` with upper-case hex digits; ``/`` is kept in a path and
encoded everywhere else. The standard library's ``quote_from_bytes`` keeps exactly that
unreserved set, so it is the encoder here. Text that came off the wire is turned back into its
original bytes with ``surrogateescape`` (see :class:`~webfed.core.sigv4.request.HttpRequest`).
"""

from __future__ import annotations

import re
from urllib.parse import quote_from_bytes, unquote_to_bytes

__all__ = [
    "canonical_component",
    "decode_component",
    "encode_path_once",
    "encode_path_twice",
    "split_query",
    "wire_bytes",
]

_ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")


def wire_bytes(text: str) -> bytes:
    """The bytes a wire string stood for (non-ASCII was decoded as UTF-8, surrogateescape).

    A lone surrogate that ``surrogateescape`` cannot have produced is encoded as itself
    (``surrogatepass``) so that no input makes this raise.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def split_query(raw_query: str) -> list[tuple[str, str]]:
    """Split a raw query into ``(key, value)`` pairs, still encoded; ``k`` alone means ``k=``.

    Empty items (``a=1&&b=2``) carry no parameter and are skipped.
    """
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((key, value))
    return pairs


def _query_bytes(raw: str) -> bytes:
    # A query string is form-encoded: "+" stands for a space (botocore sends spaces as "+"
    # and signs them as "%20"), so a literal plus sign must arrive as "%2B".
    return unquote_to_bytes(wire_bytes(raw.replace("+", " ")))


def decode_component(raw: str) -> str:
    """Decode one query key or value to text (``%XY`` escapes, ``+`` as a space)."""
    return _query_bytes(raw).decode("utf-8", "replace")


def canonical_component(raw: str) -> str:
    """Re-encode one query key or value the SigV4 way, whatever encoding the client chose."""
    return quote_from_bytes(_query_bytes(raw), safe="")


def encode_path_twice(path: str) -> str:
    """Encode the wire path again, ``%`` included: the non-S3 "double encoding"."""
    return quote_from_bytes(wire_bytes(path), safe="/")


def encode_path_once(path: str) -> str:
    """Keep the client's ``%XY`` escapes and encode only bytes not legal as they stand.

    This is S3's single encoding when the path arrived already encoded (the normal case), and
    still the right answer for a path that arrived with raw spaces or UTF-8.
    """
    pieces = _ESCAPE.split(path)
    return "".join(
        piece if index % 2 else quote_from_bytes(wire_bytes(piece), safe="/")
        for index, piece in enumerate(pieces)
    )

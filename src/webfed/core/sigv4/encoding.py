"""Percent-encoding as SigV4 defines it ("URI-encode", AWS "Create a signed AWS API request").

SigV4 encodes every byte except the unreserved characters of RFC 3986 section 2.3
(``A-Z a-z 0-9 - _ . ~``) as ``%XY`` with upper-case hex digits; ``/`` is kept in a path and
encoded everywhere else. Text that came off the wire is turned back into its original bytes with
``surrogateescape`` (see :class:`~webfed.core.sigv4.request.HttpRequest`).

This runs for every path and query parameter of every signed request, so text that is already
canonical is returned as it is (one match), and anything else is one ``str.translate`` of its
bytes (one character per byte, latin-1) through a precomputed table of the 256 escapes. The
result is byte for byte what the standard library's ``quote_from_bytes`` gives (property-tested).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

__all__ = [
    "canonical_component",
    "decode_component",
    "encode_path_once",
    "encode_path_twice",
    "split_query",
    "wire_bytes",
]

_ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
# A path with nothing to escape ("/" kept).
_PATH_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")
# A query item that decodes to itself and encodes to itself: no "%", no "+", nothing to escape.
_CANONICAL_COMPONENT = re.compile(r"[A-Za-z0-9_.~-]*")
# A path that single (S3) encoding keeps as it is: unreserved, "/" and well-formed escapes.
_CANONICAL_ENCODED_PATH = re.compile(r"(?:[A-Za-z0-9_.~/-]|%[0-9A-Fa-f]{2})*")


def _escape_table(kept: str) -> tuple[str, ...]:
    """For each byte value, itself if kept, else ``%XY`` (upper-case hex)."""
    return tuple(chr(octet) if chr(octet) in kept else f"%{octet:02X}" for octet in range(256))


_COMPONENT_ESCAPES = _escape_table(_UNRESERVED)
_PATH_ESCAPES = _escape_table(_UNRESERVED + "/")


def _octets(text: str) -> str:
    """The wire bytes of ``text`` as one character per byte (latin-1), for the escape tables."""
    return text if text.isascii() else wire_bytes(text).decode("latin-1")


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
    if raw.isascii() and "%" not in raw and "+" not in raw:
        return raw  # nothing to decode
    return _query_bytes(raw).decode("utf-8", "replace")


def canonical_component(raw: str) -> str:
    """Re-encode one query key or value the SigV4 way, whatever encoding the client chose."""
    if _CANONICAL_COMPONENT.fullmatch(raw) is not None:
        return raw
    if "%" not in raw and "+" not in raw:  # the bytes are the text's own: nothing to decode
        return _octets(raw).translate(_COMPONENT_ESCAPES)
    return _query_bytes(raw).decode("latin-1").translate(_COMPONENT_ESCAPES)


def encode_path_twice(path: str) -> str:
    """Encode the wire path again, ``%`` included: the non-S3 "double encoding"."""
    return _encode_path_text(path)


def encode_path_once(path: str) -> str:
    """Keep the client's ``%XY`` escapes and encode only bytes not legal as they stand.

    This is S3's single encoding when the path arrived already encoded (the normal case), and
    still the right answer for a path that arrived with raw spaces or UTF-8.
    """
    if _CANONICAL_ENCODED_PATH.fullmatch(path) is not None:
        return path
    pieces = _ESCAPE.split(path)
    return "".join(
        piece if index % 2 else _encode_path_text(piece) for index, piece in enumerate(pieces)
    )


def _encode_path_text(text: str) -> str:
    if _PATH_SAFE.fullmatch(text) is not None:
        return text
    return _octets(text).translate(_PATH_ESCAPES)

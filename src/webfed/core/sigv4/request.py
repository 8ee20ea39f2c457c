"""The HTTP request exactly as a server received it, the input of every SigV4 step.

SigV4 signs the request as it travels on the wire: the path and query in their percent-encoded
form, every header with its original (case-insensitive) name, repeated headers in arrival order,
and the raw body bytes ("Create a signed AWS API request", AWS IAM User Guide). The HTTP layer
builds one :class:`HttpRequest` per call and never rewrites it; the core only reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["HttpRequest"]


@dataclass(frozen=True, slots=True, repr=False)
class HttpRequest:
    """One received HTTP request.

    ``raw_path`` and ``raw_query`` are the request target split at the first ``?``, exactly as
    sent (percent-encoded, no decoding). Bytes outside ASCII, which no conforming client sends
    but a lenient server may pass through, are expected decoded as UTF-8 with
    ``surrogateescape`` so that the original bytes can be recovered. ``headers`` keeps arrival
    order and repeated names; names compare case-insensitively.
    """

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    # Lower-cased name -> values, built by one pass over ``headers`` the first time a header is
    # looked up (parsing and canonicalisation look up half a dozen). The request is immutable,
    # so the index can never go stale; it is not part of equality or ``replace``.
    _index: Mapping[str, tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __repr__(self) -> str:
        # Header values may carry a session token, so only names are shown.
        names = ", ".join(key for key, _ in self.headers)
        return (
            f"HttpRequest({self.method} {self.raw_path!r}, query={len(self.raw_query)} chars, "
            f"headers=[{names}], body={len(self.body)} bytes)"
        )

    def headers_by_name(self) -> Mapping[str, tuple[str, ...]]:
        """Every header's values (arrival order) under its lower-cased name; one pass, once."""
        index = self._index
        if index is None:
            grouped: dict[str, tuple[str, ...]] = {}
            for name, value in self.headers:
                key = name.lower()
                grouped[key] = (*grouped[key], value) if key in grouped else (value,)
            index = MappingProxyType(grouped)
            object.__setattr__(self, "_index", index)
        return index

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of header ``name`` (case-insensitive), in arrival order."""
        index = self._index if self._index is not None else self.headers_by_name()
        return index.get(name.lower(), ())

    def header_names(self) -> frozenset[str]:
        """The lower-cased names of all headers present."""
        return frozenset(self.headers_by_name())

"""The HTTP request exactly as a server received it, the input of every SigV4 step.

SigV4 signs the request as it travels on the wire: the path and query in their percent-encoded
form, every header with its original (case-insensitive) name, repeated headers in arrival order,
and the raw body bytes ("Create a signed AWS API request", AWS IAM User Guide). The HTTP layer
builds one :class:`HttpRequest` per call and never rewrites it; the core only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def __repr__(self) -> str:
        # Header values may carry a session token, so only names are shown.
        names = ", ".join(key for key, _ in self.headers)
        return (
            f"HttpRequest({self.method} {self.raw_path!r}, query={len(self.raw_query)} chars, "
            f"headers=[{names}], body={len(self.body)} bytes)"
        )

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of header ``name`` (case-insensitive), in arrival order."""
        wanted = name.lower()
        return tuple(value for key, value in self.headers if key.lower() == wanted)

    def header_names(self) -> frozenset[str]:
        """The lower-cased names of all headers present."""
        return frozenset(key.lower() for key, _ in self.headers)

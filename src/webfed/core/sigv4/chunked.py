"""``aws-chunked`` payloads: decode them and verify every chunk signature, incrementally.

A client may send an S3 body as a series of chunks instead of signing its SHA-256 up front
("Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks",
Amazon S3 API Reference). The request's ``x-amz-content-sha256`` names the form:

* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: each chunk is ``hex-size;chunk-signature=SIG\\r\\n
  DATA\\r\\n``; the last has size 0. A chunk's signature is the HMAC, under the request's
  signing key, of::

      AWS4-HMAC-SHA256-PAYLOAD
      <X-Amz-Date>
      <credential scope>
      <previous signature>          the request's own signature for the first chunk
      <hex SHA-256 of "">
      <hex SHA-256 of DATA>

  so the chunks are chained to the request and to each other: none can be changed, dropped,
  reordered or appended.
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: the same, then trailing headers
  (``x-amz-checksum-crc32:...``) and ``x-amz-trailer-signature``, the HMAC of
  ``AWS4-HMAC-SHA256-TRAILER\\n<date>\\n<scope>\\n<previous signature>\\n<hex SHA-256 of the
  trailer lines, each "name:value\\n">`` ("Signature calculations for trailing headers").
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: chunks without signatures (``hex-size\\r\\n``), then
  the trailing headers; integrity comes from the trailing checksum.

:class:`AwsChunkedDecoder` is fed bytes as they arrive and hands back payload bytes only once
the chunk that holds them has been verified, so nothing unverified leaves it. A signed chunk is
held whole until its signature is checked, hence the chunk size cap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from enum import Enum

from webfed.errors import IncompleteSignature, SignatureDoesNotMatch

__all__ = [
    "EMPTY_SHA256",
    "MAX_SIGNED_CHUNK",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "AwsChunkedDecoder",
    "ChunkChain",
    "chunk_signature",
    "chunk_string_to_sign",
    "trailer_signature",
    "trailer_string_to_sign",
]

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SIGNED_CHUNK = 16 * 1024 * 1024
MAX_LINE = 4096
MAX_TRAILER_BYTES = 16 * 1024
_CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
_TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")
_SIGNATURE = re.compile(rb"[0-9a-f]{64}")
_TRAILER_NAME = re.compile(rb"[a-z0-9-]{1,128}")
_TRAILER_SIGNATURE = b"x-amz-trailer-signature"


def chunk_string_to_sign(
    amz_date: str, credential_scope: str, previous_signature: str, data_sha256: str
) -> str:
    """The string a chunk signature signs (see the module docstring)."""
    return "\n".join(
        (
            _CHUNK_ALGORITHM,
            amz_date,
            credential_scope,
            previous_signature,
            EMPTY_SHA256,
            data_sha256,
        )
    )


def trailer_string_to_sign(
    amz_date: str, credential_scope: str, previous_signature: str, trailer_sha256: str
) -> str:
    """The string the trailer signature signs."""
    return "\n".join(
        (_TRAILER_ALGORITHM, amz_date, credential_scope, previous_signature, trailer_sha256)
    )


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True, repr=False)
class ChunkChain:
    """What chunk signatures chain from: the request's signing key, date, scope and signature."""

    signing_key: bytes
    amz_date: str
    credential_scope: str
    seed_signature: str

    def __repr__(self) -> str:
        return f"ChunkChain({self.amz_date}, {self.credential_scope})"


def chunk_signature(chain: ChunkChain, previous_signature: str, data: bytes) -> str:
    """The signature of a chunk carrying ``data`` after ``previous_signature``."""
    text = chunk_string_to_sign(
        chain.amz_date, chain.credential_scope, previous_signature, hashlib.sha256(data).hexdigest()
    )
    return _mac(chain.signing_key, text)


def trailer_signature(chain: ChunkChain, previous_signature: str, trailer_text: bytes) -> str:
    """The signature of the trailing headers, given as their ``name:value\\n`` lines."""
    digest = hashlib.sha256(trailer_text).hexdigest()
    text = trailer_string_to_sign(
        chain.amz_date, chain.credential_scope, previous_signature, digest
    )
    return _mac(chain.signing_key, text)


class _State(Enum):
    HEADER = "header"
    DATA = "data"
    DATA_END = "data-end"
    FINAL_END = "final-end"
    TRAILER = "trailer"
    DONE = "done"


def _malformed(detail: str) -> IncompleteSignature:
    return IncompleteSignature(
        f"The aws-chunked payload is malformed: {detail}",
        explanation={"check": "chunked-payload", "reason": detail},
    )


def _mismatch(detail: str) -> SignatureDoesNotMatch:
    return SignatureDoesNotMatch(
        "The chunk signature we calculated does not match the signature you provided.",
        explanation={"check": "chunk-signature", "reason": detail},
    )


@dataclass(slots=True)
class AwsChunkedDecoder:
    """Incremental decoder; ``chain`` is ``None`` for unsigned chunks, ``trailer`` when
    trailing headers follow the last chunk.

    ``feed(data)`` returns the verified payload bytes now available; ``finish()`` raises unless
    the payload ended exactly at its final chunk (and trailer); ``trailers`` holds the trailing
    headers (lower-case names) once finished.
    """

    chain: ChunkChain | None
    trailer: bool = False
    max_chunk: int = MAX_SIGNED_CHUNK
    trailers: dict[str, str] = field(default_factory=dict)
    decoded_length: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _state: _State = _State.HEADER
    _remaining: int = 0
    _expected_signature: str = ""
    _previous: str = ""
    _trailer_text: bytearray = field(default_factory=bytearray)
    _trailer_signature: str | None = None

    def __post_init__(self) -> None:
        if self.chain is not None:
            self._previous = self.chain.seed_signature

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; the payload bytes it completes (possibly empty)."""
        if self._state is _State.DONE:
            if data:
                raise _malformed("bytes after the final chunk")
            return b""
        self._buffer += data
        out = bytearray()
        while self._step(out):
            pass
        return bytes(out)

    def finish(self) -> None:
        """Raise unless the whole payload, final chunk included, has been fed."""
        if self._state is not _State.DONE or self._buffer:
            raise _malformed("the payload ended before its final chunk")

    # --- the state machine; each step returns whether it made progress ------------------------

    def _step(self, out: bytearray) -> bool:
        state = self._state
        if state is _State.HEADER:
            return self._read_header()
        if state is _State.DATA:
            return self._read_data(out)
        if state in (_State.DATA_END, _State.FINAL_END):
            return self._read_crlf()
        if state is _State.TRAILER:
            return self._read_trailer_line()
        return False

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_LINE:
                raise _malformed("a chunk header line is too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _read_header(self) -> bool:
        line = self._line()
        if line is None:
            return False
        size_text, _, extension = line.partition(b";")
        if _SIZE.fullmatch(size_text) is None:
            raise _malformed("a chunk size is not hexadecimal")
        size = int(size_text, 16)
        self._expected_signature = self._parse_extension(extension)
        if self.chain is not None and size > self.max_chunk:
            raise _malformed("a signed chunk is larger than the gateway accepts")
        self._remaining = size
        if size == 0:
            self._verify_chunk(b"")
            self._state = _State.TRAILER if self.trailer else _State.FINAL_END
        else:
            self._state = _State.DATA
        return True

    def _parse_extension(self, extension: bytes) -> str:
        if self.chain is None:
            if extension:
                raise _malformed("an unsigned chunk carries a signature")
            return ""
        name, equals, value = extension.partition(b"=")
        if name != b"chunk-signature" or not equals or _SIGNATURE.fullmatch(value) is None:
            raise _malformed("a chunk lacks its chunk-signature")
        return value.decode("ascii")

    def _read_data(self, out: bytearray) -> bool:
        if self.chain is None:  # unsigned: stream through as it arrives
            if not self._buffer:
                return False
            piece = bytes(self._buffer[: self._remaining])
            del self._buffer[: len(piece)]
            self._remaining -= len(piece)
            self._emit(out, piece)
            if self._remaining == 0:
                self._state = _State.DATA_END
            return True
        if len(self._buffer) < self._remaining:
            return False
        data = bytes(self._buffer[: self._remaining])
        del self._buffer[: self._remaining]
        self._verify_chunk(data)
        self._emit(out, data)
        self._state = _State.DATA_END
        return True

    def _emit(self, out: bytearray, data: bytes) -> None:
        out += data
        self.decoded_length += len(data)

    def _verify_chunk(self, data: bytes) -> None:
        if self.chain is None:
            return
        expected = chunk_signature(self.chain, self._previous, data)
        if not hmac.compare_digest(expected.encode(), self._expected_signature.encode()):
            raise _mismatch("chunk signature")
        self._previous = expected

    def _read_crlf(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != b"\r\n":
            raise _malformed("a chunk is not followed by CRLF")
        del self._buffer[:2]
        self._state = _State.DONE if self._state is _State.FINAL_END else _State.HEADER
        return True

    def _read_trailer_line(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if not line:
            self._end_trailer()
            return True
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if not colon or _TRAILER_NAME.fullmatch(name) is None:
            raise _malformed("a trailing header is malformed")
        if name == _TRAILER_SIGNATURE:
            self._trailer_signature = value.strip().decode("ascii", "replace")
            return True
        self._trailer_text += name + b":" + value.strip() + b"\n"
        if len(self._trailer_text) > MAX_TRAILER_BYTES:
            raise _malformed("the trailing headers are too large")
        self.trailers[name.decode("ascii")] = value.strip().decode("ascii", "replace")
        return True

    def _end_trailer(self) -> None:
        if self.chain is not None:
            if self._trailer_signature is None:
                raise _malformed("the trailing headers lack x-amz-trailer-signature")
            expected = trailer_signature(self.chain, self._previous, bytes(self._trailer_text))
            if not hmac.compare_digest(expected.encode(), self._trailer_signature.encode()):
                raise _mismatch("trailer signature")
        self._state = _State.DONE

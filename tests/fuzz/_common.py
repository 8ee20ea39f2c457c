"""What every fuzz harness shares: the input reader, the seed writer, the crash rule, the runner.

A harness is a module ``tests/fuzz/fuzz_<target>.py`` with a ``check(data: bytes) -> None``
that drives one parser with the bytes and raises only when the parser misbehaves. It must be
importable without atheris: the corpus replay test (``test_fuzz_replay.py``) calls ``check`` on
every corpus file in CI, where only the parsers' own code runs.

Structure-aware input: :class:`Input` reads typed fields (small integers, choices,
length-prefixed chunks, the rest) from the fuzzer's bytes, the way atheris'
``FuzzedDataProvider`` does, but in pure Python and with a writer (:class:`Seed`) that builds the
same bytes from known-valid values. The seed corpus is therefore made of real tokens, policies,
signed requests and botocore requests, and any corpus file replays identically with or without
atheris.

The crash rule (issue 8): a parser may raise only a :class:`webfed.errors.WebfedError` whose
status is below 500 (the client's fault, answered with the protocol's AWS error); any other
exception, or a 5xx error, is a crash. :func:`expect_client_error` applies it.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from webfed.errors import WebfedError

__all__ = [
    "CORPUS",
    "REPO",
    "FuzzFailure",
    "Input",
    "RawHttp",
    "Seed",
    "expect_client_error",
    "instrumented",
    "main",
]

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"


class FuzzFailure(AssertionError):
    """A harness's own finding: the parser answered, but not as its contract says."""


def _width(span: int) -> int:
    """Bytes needed to hold any number in ``0..span``."""
    return max(1, (span.bit_length() + 7) // 8)


class Input:
    """Typed fields read, front to back, from the fuzzer's bytes; exhausted input reads zeros."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def _take(self, count: int) -> bytes:
        piece = self._data[self._pos : self._pos + count]
        self._pos += len(piece)
        return piece

    def int_in(self, low: int, high: int) -> int:
        """A whole number in ``low..high`` (inclusive)."""
        span = high - low
        raw = int.from_bytes(self._take(_width(span)), "big")
        return low + raw % (span + 1)

    def boolean(self) -> bool:
        return self.int_in(0, 1) == 1

    def pick(self, choices: Sequence[T]) -> T:
        return choices[self.int_in(0, len(choices) - 1)]

    def chunk(self, limit: int = 0xFFFF) -> bytes:
        """A length-prefixed (two bytes, big-endian) run of bytes, at most ``limit`` long."""
        length = int.from_bytes(self._take(2), "big")
        return self._take(min(length, limit))

    def text(self, limit: int = 0xFFFF) -> str:
        """A chunk read as UTF-8 (bad bytes become U+FFFD, as a lenient server would)."""
        return self.chunk(limit).decode("utf-8", "replace")

    def rest(self) -> bytes:
        piece = self._data[self._pos :]
        self._pos = len(self._data)
        return piece


class Seed:
    """Writes the bytes :class:`Input` reads back as the same fields: how seeds are made."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def int_in(self, value: int, low: int, high: int) -> Seed:
        if not low <= value <= high:
            raise ValueError(f"{value} outside {low}..{high}")
        self._parts.append((value - low).to_bytes(_width(high - low), "big"))
        return self

    def boolean(self, value: bool) -> Seed:
        return self.int_in(int(value), 0, 1)

    def pick(self, value: T, choices: Sequence[T]) -> Seed:
        return self.int_in(list(choices).index(value), 0, len(choices) - 1)

    def chunk(self, value: bytes) -> Seed:
        if len(value) > 0xFFFF:
            raise ValueError("a chunk holds at most 65535 bytes")
        self._parts.append(len(value).to_bytes(2, "big") + value)
        return self

    def text(self, value: str) -> Seed:
        return self.chunk(value.encode("utf-8"))

    def rest(self, value: bytes) -> bytes:
        """The finished input, ``value`` as its last field."""
        return b"".join(self._parts) + value

    def done(self) -> bytes:
        return b"".join(self._parts)


@dataclass(frozen=True, slots=True)
class RawHttp:
    """An HTTP/1.1 request read leniently from bytes, as ``webfed.http`` receives it: every
    byte string decoded as UTF-8 with ``surrogateescape``, headers in order and repeated."""

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> RawHttp:
        """Request line, header lines, a blank line, the body; never refuses anything."""
        head, blank, body = data.partition(b"\r\n\r\n")
        if not blank:
            head, _, body = data.partition(b"\n\n")
        text = head.replace(b"\r\n", b"\n").decode("utf-8", "surrogateescape")
        request_line, *lines = text.split("\n")
        method, _, rest = request_line.partition(" ")
        target = rest.rsplit(" ", 1)[0] if " " in rest else rest
        raw_path, _, raw_query = target.partition("?")
        headers = tuple(
            (name, value.strip(" \t"))
            for name, _, value in (line.partition(":") for line in lines if line)
        )
        return cls(method, raw_path, raw_query, headers, body)

    def to_bytes(self) -> bytes:
        """The inverse of :meth:`parse` for well-formed requests (used to write seeds)."""
        target = self.raw_path + (f"?{self.raw_query}" if self.raw_query else "")
        lines = [f"{self.method} {target} HTTP/1.1", *(f"{n}:{v}" for n, v in self.headers)]
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + self.body


def expect_client_error(run: Callable[[], object]) -> object | None:
    """Run ``run``; a client error (``WebfedError`` below 500) is the parser refusing the
    input, which is fine: ``None``. A server error is a crash (re-raised as ``FuzzFailure``);
    any other exception propagates as the crash it is."""
    try:
        return run()
    except WebfedError as error:
        if error.status >= 500:
            raise FuzzFailure(f"a parser answered client input with {error!r}") from error
        return None


@contextlib.contextmanager
def instrumented(active: bool) -> Iterator[None]:
    """Coverage instrumentation of webfed's modules imported inside the block when ``active``
    (the harness runs as a script under atheris); nothing when the replay test imports it."""
    if not active:
        yield
        return
    import atheris  # type: ignore[import-untyped]  # no stubs; run-time only

    with atheris.instrument_imports(include=["webfed"]):
        yield


def main(check: Callable[[bytes], None], argv: list[str] | None = None) -> None:
    """atheris' entry point: libFuzzer options and corpus directories from ``argv``."""
    import atheris

    args = list(argv if argv is not None else sys.argv)
    # libFuzzer's -merge=1 re-runs argv[0] through the shell: make that this interpreter
    # running this script, whatever the script's mode bits and the PATH.
    args[0] = f"{shlex.quote(sys.executable)} {shlex.quote(args[0])}"
    atheris.Setup(args, check)
    atheris.Fuzz()

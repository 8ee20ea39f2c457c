"""``BatchedSystemRandom``: the OS CSPRNG read in batches, every byte used once, no state."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.runtime import BatchedSystemRandom, Runtime


def _scripted_urandom(stream: bytes) -> Callable[[int], bytes]:
    """An ``os.urandom`` that hands out ``stream`` in order and records every call."""
    position = 0

    def urandom(count: int) -> bytes:
        nonlocal position
        chunk = stream[position : position + count]
        position += count
        return chunk

    return urandom


def test_bytes_come_from_urandom_in_order_and_once() -> None:
    stream = bytes(range(256)) * 4
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(stream)) as spy:
        rng = BatchedSystemRandom(batch_bytes=64)
        drawn = b"".join(rng.randbytes(size) for size in (5, 11, 16, 32, 7, 30))
    assert drawn == stream[: len(drawn)]  # nothing skipped, nothing repeated
    assert [call.args for call in spy.call_args_list] == [(64,), (64,)]


def test_a_draw_that_does_not_fit_starts_a_fresh_batch() -> None:
    stream = bytes(range(200))
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(stream)):
        rng = BatchedSystemRandom(batch_bytes=16)
        first, second = rng.randbytes(10), rng.randbytes(10)
    assert first == stream[:10]
    assert second == stream[16:26]  # the 6 bytes left over are dropped, never reused


def test_draws_larger_than_a_batch_go_straight_to_the_os() -> None:
    with mock.patch("webfed.runtime.os.urandom", return_value=b"\x01" * 100) as spy:
        assert BatchedSystemRandom(batch_bytes=16).randbytes(100) == b"\x01" * 100
    spy.assert_called_once_with(100)


@pytest.mark.parametrize(
    ("bits", "raw", "expected"),
    [(0, b"", 0), (1, b"\x80", 1), (5, b"\xf8", 31), (8, b"\xab", 0xAB), (12, b"\xab\xcd", 0xABC)],
    ids=["zero", "one-bit", "five-bits", "one-byte", "twelve-bits"],
)
def test_getrandbits_takes_the_high_bits_of_whole_bytes(
    bits: int, raw: bytes, expected: int
) -> None:
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(raw + b"\0" * 64)):
        assert BatchedSystemRandom(batch_bytes=32).getrandbits(bits) == expected


def test_random_matches_system_random_on_the_same_bytes() -> None:
    raw = bytes.fromhex("0123456789abcd")
    with mock.patch("random._urandom", return_value=raw):
        reference = random.SystemRandom().random()
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(raw + b"\0" * 9)):
        assert BatchedSystemRandom(batch_bytes=16).random() == reference


def test_negative_bits_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        BatchedSystemRandom().getrandbits(-1)


@pytest.mark.parametrize("method", ["getstate", "setstate"], ids=["getstate", "setstate"])
def test_there_is_no_state_to_save_or_restore(method: str) -> None:
    rng = BatchedSystemRandom()
    with pytest.raises(NotImplementedError):
        getattr(rng, method)(*(() if method == "getstate" else ((1, 2),)))


def test_seeding_changes_nothing() -> None:
    stream = bytes(range(64))
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(stream)):
        rng = BatchedSystemRandom(batch_bytes=64)
        rng.seed(42)
        assert rng.randbytes(8) == stream[:8]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_reuse_the_parents_bytes() -> None:
    rng = BatchedSystemRandom()
    rng.randbytes(1)  # the parent now holds unused bytes
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(writer, rng.randbytes(32))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(reader, 32)
    os.close(reader)
    os.close(writer)
    assert child != rng.randbytes(32)


def test_the_runtime_draws_from_a_batched_system_random() -> None:
    fields = Runtime.__dataclass_fields__
    factory = fields["rng"].default_factory
    assert callable(factory)
    assert isinstance(factory(), BatchedSystemRandom)


@given(st.lists(st.integers(min_value=8, max_value=300), max_size=40))
def test_no_byte_of_the_os_stream_is_handed_out_twice(sizes: list[int]) -> None:
    stream = os.urandom(sum(sizes) * 2 + 4096)  # random: an 8-byte run occurs once
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(stream)):
        rng = BatchedSystemRandom(batch_bytes=64)
        drawn = [rng.randbytes(size) for size in sizes]
    assert [len(chunk) for chunk in drawn] == sizes
    used: set[int] = set()
    for chunk in drawn:
        start = stream.find(chunk)
        assert start >= 0
        span = set(range(start, start + len(chunk)))
        assert not span & used
        used |= span


@given(st.integers(min_value=2, max_value=1000))
def test_randbelow_stays_in_range(bound: int) -> None:
    assert 0 <= BatchedSystemRandom().randrange(bound) < bound


BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def test_choice_from_a_power_of_two_alphabet_uses_one_byte_each() -> None:
    stream = bytes([0, 31, 32, 255, 7]) + bytes(64)
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(stream)):
        rng = BatchedSystemRandom(batch_bytes=32)
        picks = "".join(rng.choice(BASE32) for _ in range(5))
    assert picks == "A7A7H"  # byte & 31: 0, 31, 0, 31, 7


def test_every_byte_value_maps_evenly_onto_a_power_of_two_alphabet() -> None:
    with mock.patch("webfed.runtime.os.urandom", side_effect=_scripted_urandom(bytes(range(256)))):
        rng = BatchedSystemRandom(batch_bytes=256)
        picks = [rng.choice(BASE32) for _ in range(256)]
    assert {picks.count(letter) for letter in BASE32} == {8}  # exactly uniform


@pytest.mark.parametrize("alphabet", ["ABC", "0123456789", "x" * 300], ids=["3", "10", "300"])
def test_choice_from_other_sizes_stays_in_the_sequence(alphabet: str) -> None:
    rng = BatchedSystemRandom()
    assert all(rng.choice(alphabet) in alphabet for _ in range(200))


def test_choice_from_an_empty_sequence_is_refused() -> None:
    with pytest.raises(IndexError):
        BatchedSystemRandom().choice("")

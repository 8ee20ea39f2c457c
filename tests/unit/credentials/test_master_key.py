"""Loading the master key: the environment forms, bad lengths, the key file and its mode."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from webfed.errors import MasterKeyError
from webfed.master_key import MASTER_KEY_FILE, load_or_create_master_key, parse_master_key

MATERIAL = bytes(range(200, 232))


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(MATERIAL).decode(),
        base64.b64encode(MATERIAL).decode().rstrip("="),
        base64.urlsafe_b64encode(MATERIAL).decode(),
        base64.urlsafe_b64encode(MATERIAL).decode().rstrip("="),
        "  " + base64.b64encode(MATERIAL).decode() + "\n",
    ],
    ids=["base64", "base64-unpadded", "base64url", "base64url-unpadded", "surrounding-space"],
)
def test_environment_forms(text: str, tmp_path: Path) -> None:
    key, created = load_or_create_master_key(tmp_path, text)
    assert key.material == MATERIAL
    assert created is False
    assert not (tmp_path / MASTER_KEY_FILE).exists()


@pytest.mark.parametrize("length", [0, 1, 16, 31, 33, 48, 64], ids=lambda n: f"{n}-bytes")
def test_bad_lengths_are_refused(length: int) -> None:
    text = base64.b64encode(bytes(length)).decode() or "="
    with pytest.raises(MasterKeyError) as caught:
        parse_master_key(text)
    assert "WEBFED_MASTER_KEY" in caught.value.message
    assert text not in caught.value.message


@pytest.mark.parametrize(
    "text",
    ["not base64 at all!!", "é" * 44, "A" * 300, "AAAA\x00AAAA", "A" * 43 + "*"],
    ids=["punctuation", "non-ascii", "too-long", "nul", "bad-last-char"],
)
def test_garbage_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        parse_master_key(text)
    assert text not in caught.value.message


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, created = load_or_create_master_key(data_dir, None)
    path = data_dir / MASTER_KEY_FILE
    assert created is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_master_key(data_dir, None)
    assert again == first
    assert created_again is False
    assert sorted(p.name for p in data_dir.iterdir()) == [MASTER_KEY_FILE]


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    load_or_create_master_key(tmp_path, None)
    key, _ = load_or_create_master_key(tmp_path, base64.b64encode(MATERIAL).decode())
    assert key.material == MATERIAL


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660], ids=oct)
def test_readable_key_file_is_refused(mode: int, tmp_path: Path) -> None:
    path = tmp_path / MASTER_KEY_FILE
    path.write_text(base64.b64encode(MATERIAL).decode())
    path.chmod(mode)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_or_create_master_key(tmp_path, None)


def test_existing_0400_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / MASTER_KEY_FILE
    path.write_text(base64.urlsafe_b64encode(MATERIAL).decode() + "\n")
    path.chmod(0o400)
    key, created = load_or_create_master_key(tmp_path, None)
    assert key.material == MATERIAL
    assert created is False


@pytest.mark.parametrize(
    "content", [b"", b"short", b"\xff\xfe" * 30], ids=["empty", "short", "binary"]
)
def test_corrupt_key_file_is_refused(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / MASTER_KEY_FILE
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match=str(path)):
        load_or_create_master_key(tmp_path, None)


def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text(base64.b64encode(MATERIAL).decode())
    target.chmod(0o600)
    (tmp_path / MASTER_KEY_FILE).symlink_to(target)
    with pytest.raises(OSError):  # O_NOFOLLOW: ELOOP
        load_or_create_master_key(tmp_path, None)


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(load_or_create_master_key(tmp_path, None)[0].material)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [MASTER_KEY_FILE]


def test_key_file_content_is_never_in_errors(tmp_path: Path) -> None:
    path = tmp_path / MASTER_KEY_FILE
    text = base64.b64encode(MATERIAL).decode()
    path.write_text(text)
    os.chmod(path, 0o644)
    with pytest.raises(MasterKeyError) as caught:
        load_or_create_master_key(tmp_path, None)
    assert text not in caught.value.message
    assert text not in repr(caught.value)

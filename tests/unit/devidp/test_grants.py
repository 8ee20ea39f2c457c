"""Sealed codes and access tokens, PKCE S256, and the used-code set."""

from __future__ import annotations

import random
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.devidp.conftest import MASTER, RFC_CHALLENGE, RFC_VERIFIER, challenge_of
from webfed.core.keys import MasterKey
from webfed.devidp.grants import (
    USED_CODE_GRACE,
    AccessGrant,
    CodeGrant,
    GrantSealer,
    UsedCodes,
    verify_code_verifier,
)

GRANT = CodeGrant(
    code_id="c1",
    client_id="web",
    redirect_uri="http://127.0.0.1/cb",
    scope=("openid", "email"),
    nonce=None,
    code_challenge=RFC_CHALLENGE,
    username="alice",
    claims={"email": "alice@dev.invalid", "groups": ["a"]},
    auth_time=100,
    expires_at=160,
)
ACCESS = AccessGrant("alice", "web", ("openid",), {"name": "alice"}, 3700)


def test_rfc_7636_appendix_b() -> None:
    assert challenge_of(RFC_VERIFIER) == RFC_CHALLENGE
    assert verify_code_verifier(RFC_VERIFIER, RFC_CHALLENGE)


@pytest.mark.parametrize(
    "verifier",
    [
        RFC_VERIFIER[:-1] + "l",  # another verifier
        RFC_VERIFIER[:42],  # too short (43 minimum)
        "a" * 129,  # too long
        RFC_VERIFIER[:-1] + "+",  # not an unreserved character
        "",
    ],
    ids=["other", "short", "long", "bad-character", "empty"],
)
def test_wrong_verifiers(verifier: str) -> None:
    assert not verify_code_verifier(verifier, RFC_CHALLENGE)


def test_a_128_character_verifier() -> None:
    verifier = "~._-" * 32
    assert verify_code_verifier(verifier, challenge_of(verifier))


def test_codes_round_trip_between_processes() -> None:
    """Two sealers from the same master key: what one worker seals, another opens."""
    code = GrantSealer(MASTER).seal_code(GRANT, random.Random(1))
    assert GrantSealer(MASTER).open_code(code) == GRANT
    token = GrantSealer(MASTER).seal_access(ACCESS, random.Random(2))
    assert GrantSealer(MASTER).open_access(token) == ACCESS


def test_the_code_is_opaque() -> None:
    code = GrantSealer(MASTER).seal_code(GRANT, random.Random(1))
    assert "alice" not in code and set(code) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


def test_kinds_and_master_keys_do_not_mix() -> None:
    sealer = GrantSealer(MASTER)
    code = sealer.seal_code(GRANT, random.Random(1))
    token = sealer.seal_access(ACCESS, random.Random(1))
    assert sealer.open_access(code) is None
    assert sealer.open_code(token) is None
    assert GrantSealer(MasterKey(bytes(32))).open_code(code) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda code: code[:-2] + ("AA" if code[-2:] != "AA" else "BB"),
        lambda code: code[:20],
        lambda code: "",
        lambda code: "!!!!",
        lambda code: "A" * 20_000,
        lambda code: code + "é",
    ],
    ids=["tampered", "truncated", "empty", "not-base64", "huge", "non-ascii"],
)
def test_damaged_codes_do_not_open(mutate: Callable[[str], str]) -> None:
    code = GrantSealer(MASTER).seal_code(GRANT, random.Random(1))
    assert GrantSealer(MASTER).open_code(mutate(code)) is None


def test_code_ids_are_distinct() -> None:
    rng = random.Random(3)
    assert len({GrantSealer.new_code_id(rng) for _ in range(100)}) == 100


def test_used_codes(tmp_path: Path) -> None:
    used = UsedCodes(tmp_path / "used")
    assert used.claim("a", expires_at=160, now=100)
    assert not used.claim("a", expires_at=160, now=150)
    assert used.claim("b", expires_at=200, now=150)
    assert len(used) == 2
    # "a" expired at 160 and is forgotten once the grace after its expiry has passed too.
    assert used.claim("c", expires_at=300, now=160 + int(USED_CODE_GRACE.total_seconds()) + 1)
    assert len(used) == 2


def test_used_codes_are_shared_by_the_workers(tmp_path: Path) -> None:
    """Two workers of one node: the one that claims first wins, whichever it is (RFC 6749
    4.1.2: a code used twice MUST be refused)."""
    first, second = UsedCodes(tmp_path / "used"), UsedCodes(tmp_path / "used")
    assert first.claim("code-1", expires_at=160, now=100)
    assert not second.claim("code-1", expires_at=160, now=101)
    assert second.claim("code-2", expires_at=160, now=101)
    assert not first.claim("code-2", expires_at=160, now=102)


def test_used_codes_are_private_files(tmp_path: Path) -> None:
    used = UsedCodes(tmp_path / "used")
    used.claim("Zm9v_-", expires_at=160, now=100)
    (entry,) = (tmp_path / "used").iterdir()
    assert entry.name == "160.Zm9v_-" and entry.stat().st_size == 0
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "used").stat().st_mode) == 0o700


@pytest.mark.parametrize("code_id", ["", "../x", "a/b", "a.b", "é"])
def test_used_codes_refuse_a_name_that_is_not_a_code_id(tmp_path: Path, code_id: str) -> None:
    with pytest.raises(ValueError, match="code id"):
        UsedCodes(tmp_path / "used").claim(code_id, expires_at=160, now=100)


def test_no_used_codes_before_the_first_claim(tmp_path: Path) -> None:
    assert len(UsedCodes(tmp_path / "used")) == 0


def test_a_directory_removed_between_sweeps_is_created_again(tmp_path: Path) -> None:
    used = UsedCodes(tmp_path / "used")
    assert used.claim("a", expires_at=160, now=100)  # sweeps, so no sweep before 160
    shutil.rmtree(tmp_path / "used")
    assert used.claim("b", expires_at=170, now=110)
    assert not used.claim("b", expires_at=170, now=111)
    assert len(used) == 1
    assert stat.S_IMODE((tmp_path / "used").stat().st_mode) == 0o700


def test_an_unusable_directory_is_an_os_error(tmp_path: Path) -> None:
    """A file where the directory should be fails even for root (unlike permissions)."""
    (tmp_path / "used").write_bytes(b"")
    with pytest.raises(OSError):
        UsedCodes(tmp_path / "used").claim("a", expires_at=160, now=100)

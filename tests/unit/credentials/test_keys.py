"""Sealing keys, the key ring and key wrapping.

Published vectors first: the AES-256-GCM case the sealing relies on (McGrew & Viega, "The
Galois/Counter Mode of Operation", appendix B, test case 16) and HKDF-SHA256 (RFC 5869 appendix
A.3: empty salt and info, the derivation :class:`SealingKey` builds on).
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.unit.credentials.conftest import FIXED_KEY, NOW
from webfed.core import keys
from webfed.core.keys import (
    RETIRED_KEY_GRACE,
    SEALING_LEAD,
    KeyRing,
    MasterKey,
    Purpose,
    SealingKey,
    new_sealing_key,
    unwrap_key,
    wrap_key,
)
from webfed.errors import MasterKeyError

MASTER = MasterKey(bytes(range(100, 132)))


def test_aes_256_gcm_published_vector() -> None:
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308" * 2)
    nonce = bytes.fromhex("cafebabefacedbaddecaf888")
    plaintext = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    associated = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    expected = bytes.fromhex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b"
    )
    assert AESGCM(key).encrypt(nonce, plaintext, associated) == expected


def test_hkdf_published_vector() -> None:
    okm = bytes.fromhex(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )
    # Our derivation takes the first 32 bytes of the RFC's 42 (HKDF output is prefix-stable).
    assert keys._hkdf(b"\x0b" * 22, b"") == okm[:32]


def test_each_purpose_gets_its_own_subkey() -> None:
    derived = {purpose: FIXED_KEY.subkey(purpose) for purpose in Purpose}
    assert len(set(derived.values())) == len(Purpose)
    assert FIXED_KEY.secret not in derived.values()


# --- SealingKey -------------------------------------------------------------------------------


def test_new_keys_are_random_and_well_formed() -> None:
    rng = random.Random(1)
    first, second = new_sealing_key(rng, NOW), new_sealing_key(rng, NOW)
    assert first.key_id != second.key_id
    assert first.secret != second.secret
    assert len(first.key_id) == 8
    assert set(first.key_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert first.retired_at is None
    assert first.not_after is None


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [("SHORT", bytes(32)), ("TOOLONGID", bytes(32)), ("ÄBCDEFGH", bytes(32)), ("ABCDEFGH", b"x")],
    ids=["short-id", "long-id", "non-ascii-id", "short-secret"],
)
def test_malformed_keys_are_refused(key_id: str, secret: bytes) -> None:
    with pytest.raises(ValueError, match="key"):
        SealingKey(key_id, secret, NOW)


def test_key_secret_is_not_in_repr() -> None:
    assert "secret" not in repr(FIXED_KEY)
    assert repr(FIXED_KEY.secret) not in repr(FIXED_KEY)
    assert "GOLDENAA" in repr(FIXED_KEY)


def test_retiring_sets_not_after() -> None:
    retired = FIXED_KEY.retire(NOW)
    assert retired.retired_at == NOW
    assert retired.not_after == NOW + RETIRED_KEY_GRACE
    assert retired.usable_at(NOW + RETIRED_KEY_GRACE - timedelta(seconds=1))
    assert not retired.usable_at(NOW + RETIRED_KEY_GRACE)


def test_grace_covers_the_longest_session() -> None:
    assert timedelta(seconds=43_200) <= RETIRED_KEY_GRACE


# --- KeyRing ----------------------------------------------------------------------------------


def test_newest_unretired_key_seals() -> None:
    rng = random.Random(2)
    old = new_sealing_key(rng, NOW - timedelta(days=2))
    new = new_sealing_key(rng, NOW - timedelta(days=1))
    ring = KeyRing([new, old], NOW)
    assert ring.current == new
    assert ring.sealing_cipher(Purpose.SESSION_TOKEN)[0] == new.key_id
    assert ring.key_ids == {old.key_id, new.key_id}


def test_retired_keys_unseal_but_never_seal() -> None:
    rng = random.Random(3)
    newest_but_retired = new_sealing_key(rng, NOW).retire(NOW)
    active = new_sealing_key(rng, NOW - timedelta(days=1))
    ring = KeyRing([newest_but_retired, active], NOW)
    assert ring.current == active
    assert ring.opening_cipher(newest_but_retired.key_id, Purpose.SESSION_TOKEN) is not None


def test_expired_keys_drop_out() -> None:
    rng = random.Random(4)
    gone = new_sealing_key(rng, NOW - timedelta(days=3)).retire(NOW - timedelta(days=2))
    ring = KeyRing([gone, FIXED_KEY], NOW)
    assert ring.key_ids == {"GOLDENAA"}
    assert ring.opening_cipher(gone.key_id, Purpose.SESSION_TOKEN) is None


def test_a_new_key_seals_only_after_the_lead() -> None:
    """Rotation at NOW: the retired key keeps sealing until the new one is SEALING_LEAD old (so
    nodes that have not reloaded yet can open what is sealed), never longer."""
    rng = random.Random(5)
    old = new_sealing_key(rng, NOW - timedelta(days=1)).retire(NOW)
    new = new_sealing_key(rng, NOW)
    assert KeyRing([old, new], NOW).current == old
    assert KeyRing([old, new], NOW + SEALING_LEAD - timedelta(seconds=1)).current == old
    assert KeyRing([old, new], NOW + SEALING_LEAD).current == new
    assert KeyRing([new], NOW).current == new, "a new deployment seals with its only key"


def test_a_key_retired_long_ago_never_seals_again() -> None:
    rng = random.Random(6)
    long_retired = new_sealing_key(rng, NOW - timedelta(hours=3)).retire(NOW - timedelta(hours=1))
    fresh = new_sealing_key(rng, NOW - timedelta(seconds=10))
    assert KeyRing([long_retired, fresh], NOW).current == fresh


def test_a_ring_needs_an_active_key() -> None:
    with pytest.raises(ValueError, match="unretired"):
        KeyRing([FIXED_KEY.retire(NOW)], NOW)


def test_ring_repr_lists_ids_only() -> None:
    shown = repr(KeyRing([FIXED_KEY], NOW))
    assert shown == "KeyRing(current='GOLDENAA', keys=['GOLDENAA'])"


# --- wrapping ---------------------------------------------------------------------------------


def test_wrap_round_trip() -> None:
    blob = wrap_key(MASTER, FIXED_KEY, random.Random(5))
    assert FIXED_KEY.secret not in blob
    assert len(blob) == 1 + 8 + 12 + 32 + 16
    opened = unwrap_key(MASTER, blob, created_at=FIXED_KEY.created_at)
    assert opened == FIXED_KEY


def test_unwrap_carries_the_row_dates() -> None:
    blob = wrap_key(MASTER, FIXED_KEY, random.Random(5))
    opened = unwrap_key(MASTER, blob, created_at=NOW, retired_at=NOW)
    assert (opened.created_at, opened.retired_at) == (NOW, NOW)


def test_wrong_master_key_is_a_clear_error() -> None:
    blob = wrap_key(MASTER, FIXED_KEY, random.Random(5))
    with pytest.raises(MasterKeyError, match="does not open with this master key"):
        unwrap_key(MasterKey(bytes(32)), blob, created_at=NOW)


_WRAP_REGIONS = {"version": 0, "key-id": 3, "nonce": 12, "ciphertext": 30, "tag": -1}


@pytest.mark.parametrize("offset", list(_WRAP_REGIONS.values()), ids=list(_WRAP_REGIONS))
def test_tampered_wrapped_key_is_refused(offset: int) -> None:
    blob = bytearray(wrap_key(MASTER, FIXED_KEY, random.Random(5)))
    blob[offset] ^= 0x01
    with pytest.raises(MasterKeyError):
        unwrap_key(MASTER, bytes(blob), created_at=NOW)


@pytest.mark.parametrize("length", [0, 1, 68, 70], ids=["empty", "one", "short", "long"])
def test_wrapped_key_of_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(MasterKeyError, match="unknown format"):
        unwrap_key(MASTER, b"\x01" * length, created_at=NOW)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64], ids=["0", "16", "31", "33", "64"])
def test_master_key_must_be_32_bytes(length: int) -> None:
    with pytest.raises(MasterKeyError, match="32 bytes"):
        MasterKey(bytes(length))


def test_master_key_is_not_in_repr() -> None:
    assert repr(MASTER) == "MasterKey()"

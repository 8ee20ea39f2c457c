"""Session tokens: the format is stable, every field survives, and every tampering is refused.

The golden token below was minted once with the fixed key ``GOLDENAA`` (bytes 0..31) and
``random.Random(7)``; it must keep unsealing across releases (tokens outlive deployments).
"""

from __future__ import annotations

import base64
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.credentials.conftest import FIXED_KEY, NOW, full_session, minimal_session
from webfed.core.credentials import (
    EXPIRED_TOKEN_MESSAGE,
    INVALID_TOKEN_MESSAGE,
    MAX_SESSION_TOKEN_CHARS,
    SessionContext,
    TemporaryCredentials,
    check_not_expired,
    mint_credentials,
    unseal_session_token,
)
from webfed.core.keys import (
    RETIRED_KEY_GRACE,
    SEALING_LEAD,
    KeyRing,
    Purpose,
    SealingKey,
    new_sealing_key,
)
from webfed.errors import ExpiredToken, InvalidClientTokenId

GOLDEN_ACCESS_KEY_ID = "ASIAUJZDEGXDNCF32EPF"
GOLDEN_SECRET = "zm4RjSZKrWy23SEPr5Ss08+SwZAjfLEfXRCM8iY5"
GOLDEN_TOKEN = (
    "AUdPTERFTkFBOLNwobV2n6DxSD-VwFkqe5BGo0Zh3Xt7Lyxr0-2iYmqKKpmXER-U5nV14T8-sfOPnMbL0L-tenjD"
    "C1xqmrJGf-5nV1X1e4p4ivdsKI9DPuhM9DDm9JHtKGhx2hsBnHKTtgY4UJNVL5NjpVEwE7Kr5pkuXwBOjf_xJJvS"
    "Fy6xvjGrcBm7bYSHnrXppzGlkd5cEDcIFdiyjJhZZFy9Ozeht0aLiq7qU18oNkyW6-aUFp1aVp4P-xR56vun0LtY"
    "kfTwE8Nl5BzFLBvlVvn6uEyB7NfYTB4nAFXQGUFGDH-MYNfrseO6Q7qQWE_rQYj8UUUsgI_4efl7TMYYISc6EzNH"
    "swa2NrwkpjTgjHO1YSPZ5qcCVCWVsd0CzqXA1S2OIdxwT8xa5jLxtPDUcUw2R5QdQjIlARUCUUfqvBSaD9RVMBgp"
    "YyNgA3RIB2tSh9ZI_DmcdYaW19lDVLE3Amr83PhrlZ4Oo4-BQgChnJzBKOwv5xMROhbKN5aOLjxkm9PI12GJdM5D"
    "CfNgzDJTcF5skQw42A-Ed64M4-yLRDQaEvpKiL6-vmfp7FzxhpFFuqdaOi-buveXr_tOcAINFuXU8RLDC9XZyQgx"
    "3uaIUKoqI_F43399SiOahnz8LVMFxEOOWCc3HtpdBir3fOxSTzzt3hW7aYd0JjDFBGIJqwFH68ZNMvD5zoEKBUkr"
    "xXx0knuNI3skKZzTkNITrF22nS7tW6mJMXOExAvqC1WC-KWLLQtW8SAtM5f5nGFu5g32ZQ2ac1vKlZOi29ZCv5-J"
    "lJX8QJ_FqSfFdY6-JvwrJjTn2NNDObJ4zmJbB5YlG97XNTKswRvac7Vtm996BcsT1NsyissleKPF3KdrpHOPAkNt"
    "-DOR8lzvQz4bcXTEJd3UOneXwgkUGtybwL7C3LgZ6G2L1cUC58odt_VDgBhLvREXmRWkECahPYLXQS42X5MT_HSW"
    "uPP77NyaR23Zz46J"
)


def _raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")


def _rejected(token: str, access_key_id: str, ring: KeyRing) -> InvalidClientTokenId:
    with pytest.raises(InvalidClientTokenId) as caught:
        unseal_session_token(token, access_key_id, ring)
    assert caught.value.message == INVALID_TOKEN_MESSAGE
    assert caught.value.status == 403
    return caught.value


# --- published and golden vectors -------------------------------------------------------------


def test_golden_token_still_unseals(ring: KeyRing) -> None:
    unsealed = unseal_session_token(GOLDEN_TOKEN, GOLDEN_ACCESS_KEY_ID, ring)
    assert unsealed.session == full_session()
    assert unsealed.secret_access_key == GOLDEN_SECRET
    assert unsealed.access_key_id == GOLDEN_ACCESS_KEY_ID


def test_minting_is_deterministic_under_a_seeded_rng(ring: KeyRing) -> None:
    # The golden token above came from an earlier draw order (one draw per access key id
    # letter); it still unseals, but a seeded rng now mints other values, the same each time.
    minted = mint_credentials(full_session(), key_ring=ring, rng=random.Random(7))
    again = mint_credentials(full_session(), key_ring=ring, rng=random.Random(7))
    assert minted == again
    assert unseal_session_token(minted.session_token, minted.access_key_id, ring).session == (
        full_session()
    )


class _ScriptedRandom(random.Random):
    """Hands out the given bytes and records the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(0)
        self.data = data
        self.reads: list[int] = []

    def randbytes(self, n: int) -> bytes:
        self.reads.append(n)
        return self.data[:n]


def test_one_random_read_makes_the_key_id_the_secret_and_the_nonce(ring: KeyRing) -> None:
    data = bytes(range(10, 62))
    rng = _ScriptedRandom(data)
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    assert rng.reads == [52]
    assert minted.access_key_id == "ASIA" + base64.b32encode(data[:10]).decode()
    assert minted.secret_access_key == base64.b64encode(data[10:40]).decode()
    assert bytes(_raw(minted.session_token)[9:21]) == data[40:]
    assert unseal_session_token(minted.session_token, minted.access_key_id, ring).session == (
        full_session()
    )


# --- shape of what is minted ------------------------------------------------------------------


@pytest.mark.parametrize("session", [full_session(), minimal_session()], ids=["full", "minimal"])
def test_round_trip_keeps_every_field(
    session: SessionContext, ring: KeyRing, rng: random.Random
) -> None:
    minted = mint_credentials(session, key_ring=ring, rng=rng)
    unsealed = unseal_session_token(minted.session_token, minted.access_key_id, ring)
    assert unsealed.session == session
    assert unsealed.secret_access_key == minted.secret_access_key
    assert minted.expiration == session.expires_at


def test_minted_credentials_have_aws_shapes(ring: KeyRing, rng: random.Random) -> None:
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    assert len(minted.access_key_id) == 20
    assert minted.access_key_id.startswith("ASIA")
    assert set(minted.access_key_id[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(minted.secret_access_key) == 40
    assert set(minted.session_token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert _raw(minted.session_token)[1:9] == b"GOLDENAA"


def test_two_mints_never_share_keys_or_tokens(ring: KeyRing, rng: random.Random) -> None:
    first = mint_credentials(full_session(), key_ring=ring, rng=rng)
    second = mint_credentials(full_session(), key_ring=ring, rng=rng)
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key != second.secret_access_key
    assert first.session_token != second.session_token


def test_large_contexts_are_compressed(ring: KeyRing, rng: random.Random) -> None:
    tags = tuple((f"Key{i:02d}", "value-" * 20) for i in range(50))
    session = replace(full_session(), session_tags=tags)
    minted = mint_credentials(session, key_ring=ring, rng=rng)
    assert len(minted.session_token) < 2000  # uncompressed it would be over 9,000 characters
    assert unseal_session_token(minted.session_token, minted.access_key_id, ring).session == session


def test_assumed_role_identity() -> None:
    session = full_session()
    assert session.assumed_role_arn == (
        "arn:aws:sts::123456789012:assumed-role/GameRole/player-42@example.com"
    )
    assert session.assumed_role_id == "AROACLKWSDQRAOEXAMPLE:player-42@example.com"


@pytest.mark.parametrize(
    "moment",
    [NOW.replace(tzinfo=None), NOW.replace(microsecond=5)],
    ids=["naive", "fractional-seconds"],
)
def test_session_times_must_be_aware_whole_seconds(moment: object) -> None:
    with pytest.raises(ValueError, match="whole seconds"):
        replace(minimal_session(), issued_at=moment)


# --- attacks ----------------------------------------------------------------------------------

# Byte offsets in the decoded token: version 0, key id 1..8, nonce 9..20, then ciphertext + tag.
_REGIONS = {
    "version": 0,
    "key-id-first": 1,
    "key-id-last": 8,
    "nonce-first": 9,
    "nonce-last": 20,
    "ciphertext-first": 21,
    "ciphertext-middle": 150,
    "tag-first": -16,
    "tag-last": -1,
}


@pytest.mark.parametrize("offset", list(_REGIONS.values()), ids=list(_REGIONS))
@pytest.mark.parametrize("flip", [0x01, 0x80], ids=["low-bit", "high-bit"])
def test_every_byte_region_is_authenticated(offset: int, flip: int, ring: KeyRing) -> None:
    raw = _raw(GOLDEN_TOKEN)
    raw[offset] ^= flip
    _rejected(_text(raw), GOLDEN_ACCESS_KEY_ID, ring)


def test_swapping_in_a_known_key_id_is_refused(rng: random.Random) -> None:
    other = new_sealing_key(rng, NOW)
    two = KeyRing([FIXED_KEY, other], NOW)
    raw = _raw(GOLDEN_TOKEN)
    raw[1:9] = other.key_id.encode()
    _rejected(_text(raw), GOLDEN_ACCESS_KEY_ID, two)


@pytest.mark.parametrize(
    "access_key_id",
    ["ASIAUJZDEGXDNCF32EPG", "ASIAUJZDEGXDNCF32EP", "asiaujzdegxdncf32epf", "", "ASIAÜ", "A" * 129],
    ids=["one-char-off", "shorter", "lower-case", "empty", "non-ascii", "too-long"],
)
def test_token_is_bound_to_its_access_key_id(access_key_id: str, ring: KeyRing) -> None:
    _rejected(GOLDEN_TOKEN, access_key_id, ring)


def test_replay_with_another_sessions_access_key_id(ring: KeyRing, rng: random.Random) -> None:
    other = mint_credentials(minimal_session(), key_ring=ring, rng=rng)
    _rejected(GOLDEN_TOKEN, other.access_key_id, ring)


def test_unknown_key_id_is_refused(rng: random.Random) -> None:
    stranger = KeyRing([new_sealing_key(rng, NOW)], NOW)
    rejection = _rejected(GOLDEN_TOKEN, GOLDEN_ACCESS_KEY_ID, stranger)
    assert rejection.explanation is not None
    assert "GOLDENAA" in str(rejection.explanation["reason"])


def test_same_key_id_with_other_secret_is_refused() -> None:
    impostor = SealingKey("GOLDENAA", bytes(32), NOW)
    _rejected(GOLDEN_TOKEN, GOLDEN_ACCESS_KEY_ID, KeyRing([impostor], NOW))


def test_authorization_message_subkey_cannot_open_tokens() -> None:
    # Seal with the message subkey by hand: the session-token path must refuse it.
    cipher = KeyRing([FIXED_KEY], NOW).sealing_cipher(Purpose.AUTHORIZATION_MESSAGE)[1]
    header = b"\x01GOLDENAA"
    nonce = bytes(12)
    body = cipher.encrypt(nonce, b"J[1]", header + GOLDEN_ACCESS_KEY_ID.encode())
    _rejected(_text(header + nonce + body), GOLDEN_ACCESS_KEY_ID, KeyRing([FIXED_KEY], NOW))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "A",
        GOLDEN_TOKEN[:40],
        GOLDEN_TOKEN[:-1],
        GOLDEN_TOKEN + "A",
        GOLDEN_TOKEN + "=",
        GOLDEN_TOKEN.replace("-", "+"),
        " " + GOLDEN_TOKEN,
        GOLDEN_TOKEN + "\n",
        "é" * 40,
        "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE",
    ],
    ids=[
        "empty",
        "one-char",
        "truncated-header",
        "truncated-tag",
        "extra-char",
        "padding",
        "standard-base64-alphabet",
        "leading-space",
        "trailing-newline",
        "non-ascii",
        "aws-sample-token",
    ],
)
def test_malformed_tokens_are_refused(token: str, ring: KeyRing) -> None:
    _rejected(token, GOLDEN_ACCESS_KEY_ID, ring)


def test_size_cap_applies_before_decoding(ring: KeyRing) -> None:
    rejection = _rejected("A" * (MAX_SESSION_TOKEN_CHARS + 1), GOLDEN_ACCESS_KEY_ID, ring)
    assert rejection.explanation is not None
    assert "longer than" in str(rejection.explanation["reason"])


@pytest.mark.parametrize("token", [None, b"bytes", 42], ids=["none", "bytes", "int"])
def test_non_text_tokens_are_refused(token: object, ring: KeyRing) -> None:
    _rejected(token, GOLDEN_ACCESS_KEY_ID, ring)  # type: ignore[arg-type]  # hostile callers


# --- key lifecycle ----------------------------------------------------------------------------


def test_retired_but_unexpired_key_still_unseals(rng: random.Random) -> None:
    later = NOW + timedelta(hours=2)
    successor = new_sealing_key(rng, later)
    ring = KeyRing([FIXED_KEY.retire(later), successor], later + SEALING_LEAD)
    assert ring.current == successor
    unsealed = unseal_session_token(GOLDEN_TOKEN, GOLDEN_ACCESS_KEY_ID, ring)
    assert unsealed.session == full_session()


def test_key_past_its_grace_period_no_longer_unseals(rng: random.Random) -> None:
    retired_at = NOW + timedelta(hours=2)
    much_later = retired_at + RETIRED_KEY_GRACE
    ring = KeyRing([FIXED_KEY.retire(retired_at), new_sealing_key(rng, much_later)], much_later)
    _rejected(GOLDEN_TOKEN, GOLDEN_ACCESS_KEY_ID, ring)


# --- expiry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(seconds=59, minutes=59)],
    ids=["at-issue", "one-second-before-expiry"],
)
def test_session_is_valid_until_expiry(offset: timedelta) -> None:
    check_not_expired(full_session(), NOW + offset)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=1), timedelta(days=400)], ids=["at-expiry", "long-after"]
)
def test_expired_session_raises_expired_token(offset: timedelta) -> None:
    with pytest.raises(ExpiredToken) as caught:
        check_not_expired(full_session(), NOW + offset)
    assert caught.value.message == EXPIRED_TOKEN_MESSAGE
    assert caught.value.code == "ExpiredToken"


# --- secrets stay out of sight ----------------------------------------------------------------


def test_secrets_never_appear_in_repr_or_str(ring: KeyRing, rng: random.Random) -> None:
    minted = mint_credentials(full_session(), key_ring=ring, rng=rng)
    unsealed = unseal_session_token(minted.session_token, minted.access_key_id, ring)
    shown = " ".join(
        text for thing in (minted, unsealed, ring, FIXED_KEY) for text in (repr(thing), str(thing))
    )
    assert minted.secret_access_key not in shown
    assert minted.session_token not in shown
    assert FIXED_KEY.secret.hex() not in shown
    assert repr(FIXED_KEY.secret) not in shown
    assert minted.access_key_id in shown


def test_rejections_never_echo_the_token(ring: KeyRing) -> None:
    tampered = GOLDEN_TOKEN[:-2] + "AA"
    rejection = _rejected(tampered, GOLDEN_ACCESS_KEY_ID, ring)
    assert tampered not in repr(rejection)
    assert tampered not in rejection.full_message
    assert tampered not in str(rejection.explanation)


def test_temporary_credentials_type_is_frozen(ring: KeyRing, rng: random.Random) -> None:
    minted: TemporaryCredentials = mint_credentials(minimal_session(), key_ring=ring, rng=rng)
    with pytest.raises(AttributeError):
        minted.secret_access_key = "x"  # type: ignore[misc]  # proving immutability

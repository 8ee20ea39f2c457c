"""Property tests: sealing is the identity on any context, and hostile input only ever raises
the documented ``WebfedError`` leaves."""

from __future__ import annotations

import base64
import json
import random
import zlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.credentials.conftest import FIXED_KEY, NOW
from webfed.core.authz_message import decode_authorization_message, encode_authorization_message
from webfed.core.credentials import (
    SessionContext,
    WebIdentity,
    mint_credentials,
    unseal_session_token,
)
from webfed.core.keys import NONCE_BYTES, KeyRing, Purpose
from webfed.errors import InvalidAuthorizationMessage, InvalidClientTokenId

RING = KeyRing([FIXED_KEY], NOW)
ACCESS_KEY_ID = "ASIAUJZDEGXDNCF32EPF"
_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_zones = st.just(UTC) | st.builds(
    timezone, st.integers(-14 * 60, 14 * 60).map(lambda minutes: timedelta(minutes=minutes))
)
_moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2400, 1, 1), timezones=_zones
).map(lambda moment: moment.replace(microsecond=0))
_texts = st.text(max_size=80)
_web_identities = st.builds(
    WebIdentity,
    provider=_texts,
    aud=_texts,
    sub=_texts,
    amr=st.lists(_texts, max_size=4).map(tuple),
    id=st.none() | _texts,
    federated_provider=st.none() | _texts,
)
_sessions = st.builds(
    SessionContext,
    account_id=_texts,
    role_arn=_texts,
    role_id=_texts,
    role_name=_texts,
    session_name=_texts,
    issued_at=_moments,
    expires_at=_moments,
    session_policy=st.none() | st.text(max_size=2048),
    session_policy_arns=st.lists(_texts, max_size=10).map(tuple),
    session_tags=st.lists(st.tuples(_texts, _texts), max_size=50).map(tuple),
    transitive_tag_keys=st.lists(_texts, max_size=5).map(tuple),
    source_identity=st.none() | _texts,
    web_identity=st.none() | _web_identities,
    chained=st.booleans(),
)


@given(session=_sessions, seed=st.integers(0, 2**32))
def test_seal_then_unseal_is_the_identity(session: SessionContext, seed: int) -> None:
    minted = mint_credentials(session, key_ring=RING, rng=random.Random(seed))
    unsealed = unseal_session_token(minted.session_token, minted.access_key_id, RING)
    assert unsealed.session == session
    assert unsealed.secret_access_key == minted.secret_access_key
    shown = repr(minted) + str(unsealed) + repr(unsealed)
    assert minted.secret_access_key not in shown
    assert minted.session_token not in shown


def _sealed_plaintext(token: str, access_key_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    cipher = RING.opening_cipher(FIXED_KEY.key_id, Purpose.SESSION_TOKEN)
    assert cipher is not None
    header, nonce, sealed = raw[:9], raw[9 : 9 + NONCE_BYTES], raw[9 + NONCE_BYTES :]
    return cipher.decrypt(nonce, sealed, header + access_key_id.encode("ascii"))


def _documented_array(session: SessionContext, secret: str) -> list[object]:
    """The sealed context's positional JSON array, as the format has always been written."""
    web = session.web_identity
    return [
        1,
        secret,
        session.account_id,
        session.role_arn,
        session.role_id,
        session.role_name,
        session.session_name,
        int(session.issued_at.timestamp()),
        int(session.expires_at.timestamp()),
        session.session_policy,
        list(session.session_policy_arns),
        [[key, value] for key, value in session.session_tags],
        list(session.transitive_tag_keys),
        session.source_identity,
        None
        if web is None
        else [web.provider, web.aud, web.sub, list(web.amr), web.id, web.federated_provider],
        1 if session.chained else 0,
    ]


@given(session=_sessions, seed=st.integers(0, 2**32))
def test_sealed_plaintext_is_the_documented_compact_json(
    session: SessionContext, seed: int
) -> None:
    """Byte for byte what ``json.dumps`` writes (ASCII, compact) for the positional array, so
    tokens minted before and after the hand-written encoder are the same format."""
    minted = mint_credentials(session, key_ring=RING, rng=random.Random(seed))
    plaintext = _sealed_plaintext(minted.session_token, minted.access_key_id)
    expected = json.dumps(
        _documented_array(session, minted.secret_access_key), separators=(",", ":")
    ).encode("ascii")
    if plaintext[0] == ord("Z"):
        assert len(expected) > 1024
        assert zlib.decompress(plaintext[1:]) == expected
    else:
        assert plaintext == b"J" + expected


@given(session=_sessions, seed=st.integers(0, 2**32), other=st.text(max_size=40))
def test_no_other_access_key_id_opens_a_token(
    session: SessionContext, seed: int, other: str
) -> None:
    minted = mint_credentials(session, key_ring=RING, rng=random.Random(seed))
    if other == minted.access_key_id:
        return
    try:
        unseal_session_token(minted.session_token, other, RING)
    except InvalidClientTokenId:
        return
    raise AssertionError("a token opened under another access key id")


@given(token=st.text(max_size=400) | st.text(alphabet=_BASE64URL, max_size=1200))
def test_arbitrary_text_only_raises_invalid_client_token_id(token: str) -> None:
    try:
        unseal_session_token(token, ACCESS_KEY_ID, RING)
    except InvalidClientTokenId:
        return
    raise AssertionError("arbitrary text unsealed")


@given(body=st.binary(max_size=800))
def test_arbitrary_bytes_behind_a_valid_header_are_refused(body: bytes) -> None:
    token = base64.urlsafe_b64encode(b"\x01GOLDENAA" + body).rstrip(b"=").decode()
    try:
        unseal_session_token(token, ACCESS_KEY_ID, RING)
    except InvalidClientTokenId:
        return
    raise AssertionError("forged bytes unsealed")


@given(text=st.text(max_size=400) | st.text(alphabet=_BASE64URL, max_size=1200))
def test_arbitrary_text_is_never_an_authorization_message(text: str) -> None:
    try:
        decode_authorization_message(text, RING)
    except InvalidAuthorizationMessage:
        return
    raise AssertionError("arbitrary text decoded")


_json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=40)
_json = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60)
@given(explanation=st.dictionaries(st.text(max_size=12), _json, max_size=6), seed=st.integers())
def test_any_explanation_round_trips_without_the_token(
    explanation: dict[str, object], seed: int
) -> None:
    minted = mint_credentials(
        SessionContext("1", "r", "i", "n", "s", NOW, NOW), key_ring=RING, rng=random.Random(seed)
    )
    planted = {**explanation, "evidence": [minted.session_token]}
    text = encode_authorization_message(planted, key_ring=RING, rng=random.Random(seed), now=NOW)
    decoded = decode_authorization_message(text, RING)
    assert minted.session_token not in str(decoded)
    assert decoded["allowed"] == explanation.get("allowed", False)

"""Property tests: sealing is the identity on any context, and hostile input only ever raises
the documented ``WebfedError`` leaves."""

from __future__ import annotations

import base64
import random
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
from webfed.core.keys import KeyRing
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

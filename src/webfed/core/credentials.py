"""Temporary credentials: mint them, seal the session token, unseal it on every signed request.

STS answers ``AssumeRole*`` with an access key id (``ASIA`` + 16 base32 characters), a 40
character secret access key, a session token and an expiration (STS API reference,
``Credentials`` data type; IAM User Guide, "IAM identifiers"). AWS leaves the token opaque
("make no assumptions about the maximum size"); webfed makes it a sealed, self-contained blob so
any node can authorize a request without reading the database:

    token = base64url-without-padding( version ‖ key id ‖ nonce ‖ AES-256-GCM(plaintext) )

The associated data is ``version ‖ key id ‖ access key id``: a token only opens next to the access
key id it was minted with. The plaintext is one byte naming its encoding (JSON, or zlib'd JSON)
and a positional JSON array of the :class:`SessionContext` plus the secret access key. Input is
capped at :data:`MAX_SESSION_TOKEN_CHARS` before any decoding. Every rejection is the same
``InvalidClientTokenId``; the admin-only ``explanation`` says which check failed.

``packed_policy_percent`` (STS's ``PackedPolicySize``) lives in :mod:`webfed.core.packed_policy`
and is re-exported here. :class:`SessionTokenCache` remembers recent successful unseals.
"""

from __future__ import annotations

import base64
import json
import random
import re
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii

from cryptography.exceptions import InvalidTag

from webfed.core.identifiers import ACCESS_KEY_RANDOM_BYTES, access_key_id_from_bytes
from webfed.core.keys import KEY_ID_LENGTH, NONCE_BYTES, KeyRing, Purpose
from webfed.core.packed_policy import PACKED_POLICY_BUDGET_BYTES, packed_policy_percent
from webfed.errors import ExpiredToken, InvalidClientTokenId

__all__ = [
    "EXPIRED_TOKEN_MESSAGE",
    "INVALID_TOKEN_MESSAGE",
    "MAX_SESSION_TOKEN_CHARS",
    "PACKED_POLICY_BUDGET_BYTES",
    "SessionContext",
    "SessionTokenCache",
    "TemporaryCredentials",
    "UnsealedSession",
    "WebIdentity",
    "check_not_expired",
    "mint_credentials",
    "packed_policy_percent",
    "unseal_session_token",
]

MAX_SESSION_TOKEN_CHARS = 16_384

INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."  # noqa: S105
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"  # noqa: S105

_TOKEN_VERSION = 1
_HEADER_BYTES = 1 + KEY_ID_LENGTH
_MIN_TOKEN_BYTES = _HEADER_BYTES + NONCE_BYTES + 16 + 1
_PLAIN_JSON = 0x4A  # "J"
_ZLIB_JSON = 0x5A  # "Z"
_COMPRESS_ABOVE = 1_024  # inflating costs microseconds; only big contexts pay it
_MAX_PLAINTEXT = 65_536
_CONTEXT_FORMAT = 1
_SECRET_BYTES = 30  # 40 base64 characters, the length of an AWS secret access key
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_MAX_ACCESS_KEY_ID = 128
_FORMAT_TEXT = str(_CONTEXT_FORMAT)
_NONCE_AT = ACCESS_KEY_RANDOM_BYTES + _SECRET_BYTES
_FRESH_BYTES = _NONCE_AT + NONCE_BYTES
# The json module's own string writer for ``ensure_ascii`` output (escapes, quotes, \uXXXX for
# anything beyond ASCII): ASCII JSON is what the unsealing side decodes.
_quote = encode_basestring_ascii


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """The web identity behind a session (AWS condition keys ``<provider>:aud|sub|amr|id``).

    ``provider`` is the issuer host and path (``accounts.google.com``) or the OAuth provider id
    (``www.amazon.com``); ``federated_provider`` is the value of ``aws:FederatedProvider`` (the
    IAM OIDC provider ARN, or the built-in name).
    """

    provider: str
    aud: str
    sub: str
    amr: tuple[str, ...] = ()
    id: str | None = None
    federated_provider: str | None = None


@dataclass(frozen=True, slots=True)
class SessionContext:
    """Everything later requests need to be authorized, sealed inside the session token.

    Times are timezone-aware and whole seconds (AWS's ``Expiration`` has no fractions), so a
    context survives sealing unchanged. Tags keep the order they were given in.
    """

    account_id: str
    role_arn: str
    role_id: str
    role_name: str
    session_name: str
    issued_at: datetime
    expires_at: datetime
    session_policy: str | None = None
    session_policy_arns: tuple[str, ...] = ()
    session_tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    web_identity: WebIdentity | None = None
    chained: bool = False

    def __post_init__(self) -> None:
        for moment in (self.issued_at, self.expires_at):
            if moment.tzinfo is None or moment.microsecond:
                raise ValueError("session times must be timezone-aware whole seconds")

    @property
    def assumed_role_arn(self) -> str:
        """``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` (the role path is dropped)."""
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def assumed_role_id(self) -> str:
        """``ROLE_ID:SESSION_NAME``, also the ``aws:userid`` of the session."""
        return f"{self.role_id}:{self.session_name}"


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    """What ``AssumeRole*`` returns; the secret and the token never appear in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime


@dataclass(frozen=True, slots=True)
class UnsealedSession:
    """A verified session token: its context and the secret the request must be signed with."""

    access_key_id: str
    session: SessionContext
    secret_access_key: str = field(repr=False)


# --- minting and sealing ----------------------------------------------------------------------


def mint_credentials(
    session: SessionContext, *, key_ring: KeyRing, rng: random.Random
) -> TemporaryCredentials:
    """New access key id and secret for ``session``, sealed into a session token.

    One random read per mint: the access key id's bits, then the secret, then the nonce.
    """
    fresh = rng.randbytes(_FRESH_BYTES)
    access_key_id = access_key_id_from_bytes(fresh[:ACCESS_KEY_RANDOM_BYTES])
    secret = base64.b64encode(fresh[ACCESS_KEY_RANDOM_BYTES:_NONCE_AT]).decode("ascii")
    nonce = fresh[_NONCE_AT:]
    plaintext = _encode_plaintext(session, secret)
    key_id, cipher = key_ring.sealing_cipher(Purpose.SESSION_TOKEN)
    header = bytes([_TOKEN_VERSION]) + key_id.encode("ascii")
    sealed = cipher.encrypt(nonce, plaintext, header + access_key_id.encode("ascii"))
    token = base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode("ascii")
    return TemporaryCredentials(access_key_id, secret, token, session.expires_at)


def _encode_plaintext(session: SessionContext, secret: str) -> bytes:
    text = _context_json(session, secret).encode("ascii")
    if len(text) > _COMPRESS_ABOVE:
        packed = zlib.compress(text, 1)  # JSON packs nearly as well at level 1, twice as fast
        if len(packed) < len(text):
            return bytes([_ZLIB_JSON]) + packed
    return bytes([_PLAIN_JSON]) + text


def _context_json(session: SessionContext, secret: str) -> str:
    """The positional array, written as compact ASCII JSON (what ``json.dumps(array,
    separators=(",", ":"))`` writes, byte for byte) without building the array, nor the new
    encoder ``JSONEncoder.encode`` makes at every call:
    ``[format, secret, account, role arn, role id, role name, session name, issued, expires,
    policy, [policy arns], [[tag key, value]], [transitive keys], source identity,
    web identity (null or [provider, aud, sub, [amr], id, federated provider]), chained]``."""
    quote = _quote
    fields = (
        _FORMAT_TEXT,
        quote(secret),
        quote(session.account_id),
        quote(session.role_arn),
        quote(session.role_id),
        quote(session.role_name),
        quote(session.session_name),
        str(int(session.issued_at.timestamp())),
        str(int(session.expires_at.timestamp())),
        _optional_text(session.session_policy),
        _text_list(session.session_policy_arns),
        _tag_list(session.session_tags),
        _text_list(session.transitive_tag_keys),
        _optional_text(session.source_identity),
        _web_identity_json(session.web_identity),
        "1" if session.chained else "0",
    )
    return "[" + ",".join(fields) + "]"


def _web_identity_json(web: WebIdentity | None) -> str:
    if web is None:
        return "null"
    fields = (
        _quote(web.provider),
        _quote(web.aud),
        _quote(web.sub),
        _text_list(web.amr),
        _optional_text(web.id),
        _optional_text(web.federated_provider),
    )
    return "[" + ",".join(fields) + "]"


def _optional_text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _text_list(values: tuple[str, ...]) -> str:
    return "[" + ",".join(map(_quote, values)) + "]"


def _tag_list(tags: tuple[tuple[str, str], ...]) -> str:
    return "[" + ",".join([f"[{_quote(key)},{_quote(value)}]" for key, value in tags]) + "]"


# --- unsealing --------------------------------------------------------------------------------


class _Rejected(Exception):
    """Internal: why a token was refused (becomes the admin-only explanation)."""


def unseal_session_token(
    session_token: str, access_key_id: str, key_ring: KeyRing
) -> UnsealedSession:
    """Verify and open a session token minted for ``access_key_id``; no database is read.

    Raises ``InvalidClientTokenId`` for anything not sealed by a key of ``key_ring`` for exactly
    this access key id. Expiry is the caller's check: :func:`check_not_expired`.
    """
    try:
        session, secret = _unseal(session_token, access_key_id, key_ring)
    except _Rejected as rejection:
        raise InvalidClientTokenId(
            INVALID_TOKEN_MESSAGE,
            explanation={"check": "session-token", "reason": str(rejection)},
        ) from None
    return UnsealedSession(access_key_id, session, secret)


def _unseal(token: object, access_key_id: object, key_ring: KeyRing) -> tuple[SessionContext, str]:
    raw = _decode_token_text(token)
    if raw[0] != _TOKEN_VERSION:
        raise _Rejected(f"unknown token version {raw[0]}")
    key_id = raw[1:_HEADER_BYTES].decode("latin-1")
    cipher = key_ring.opening_cipher(key_id, Purpose.SESSION_TOKEN)
    if cipher is None:
        raise _Rejected(f"unknown or expired sealing key {key_id!r}")
    if not (isinstance(access_key_id, str) and access_key_id.isascii()):
        raise _Rejected("access key id is not ASCII")
    if len(access_key_id) > _MAX_ACCESS_KEY_ID:
        raise _Rejected("access key id too long")
    nonce = raw[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
    associated = raw[:_HEADER_BYTES] + access_key_id.encode("ascii")
    try:
        plaintext = cipher.decrypt(nonce, raw[_HEADER_BYTES + NONCE_BYTES :], associated)
    except InvalidTag:
        raise _Rejected("authentication failed (tampered, or minted for another key)") from None
    return _decode_plaintext(plaintext)


def _decode_token_text(token: object) -> bytes:
    if not isinstance(token, str):
        raise _Rejected("token is not text")
    if len(token) > MAX_SESSION_TOKEN_CHARS:
        raise _Rejected(f"token longer than {MAX_SESSION_TOKEN_CHARS} characters")
    if _TOKEN_TEXT.fullmatch(token) is None or len(token) % 4 == 1:
        raise _Rejected("token is not base64url")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if len(raw) < _MIN_TOKEN_BYTES:
        raise _Rejected("token too short")
    return raw


def _decode_plaintext(plaintext: bytes) -> tuple[SessionContext, str]:
    """Our own bytes (the AEAD vouched for them), still parsed defensively."""
    kind, body = plaintext[0], plaintext[1:]
    if kind == _ZLIB_JSON:
        body = _bounded_inflate(body)
    elif kind != _PLAIN_JSON:
        raise _Rejected(f"unknown plaintext encoding {kind}")
    try:
        # JSON text is ASCII (``ensure_ascii``): decoding it ourselves skips json's sniffing.
        return _context_from_array(json.loads(body.decode("ascii")))
    except (ValueError, TypeError, OverflowError, OSError) as error:
        raise _Rejected(f"malformed sealed context ({type(error).__name__})") from None


def _bounded_inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(data, _MAX_PLAINTEXT)
    except zlib.error:
        raise _Rejected("sealed context does not inflate") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise _Rejected("sealed context inflates beyond its cap")
    return body


def _context_from_array(fields: object) -> tuple[SessionContext, str]:
    # Runs on every signed request: one flat pass of checks, no per-field function calls.
    if type(fields) is not list or len(fields) != 16 or fields[0] != _CONTEXT_FORMAT:
        raise ValueError("unknown sealed context format")
    (_, secret, account, role_arn, role_id, role_name, session_name) = fields[:7]
    (issued, expires, policy, arns, tags, transitive, source, web, chained) = fields[7:]
    _require_texts(secret, account, role_arn, role_id, role_name, session_name)
    _require_optional_texts(policy, source)
    session = SessionContext(
        account_id=account,
        role_arn=role_arn,
        role_id=role_id,
        role_name=role_name,
        session_name=session_name,
        issued_at=_moment(issued),
        expires_at=_moment(expires),
        session_policy=policy,
        session_policy_arns=_text_tuple(arns),
        session_tags=_tag_tuple(tags),
        transitive_tag_keys=_text_tuple(transitive),
        source_identity=source,
        web_identity=None if web is None else _web_identity(web),
        chained=chained == 1,
    )
    return session, secret


def _web_identity(value: object) -> WebIdentity:
    if type(value) is not list or len(value) != 6:
        raise ValueError("a web identity has six fields")
    provider, aud, sub, amr, user_id, federated_provider = value
    _require_texts(provider, aud, sub)
    _require_optional_texts(user_id, federated_provider)
    return WebIdentity(provider, aud, sub, _text_tuple(amr), user_id, federated_provider)


def _require_texts(*values: object) -> None:
    for value in values:
        if type(value) is not str:
            raise TypeError("expected text")


def _require_optional_texts(*values: object) -> None:
    for value in values:
        if value is not None and type(value) is not str:
            raise TypeError("expected text or null")


def _text_tuple(value: object) -> tuple[str, ...]:
    if type(value) is not list:
        raise TypeError("expected a list")
    _require_texts(*value)
    return tuple(value)


def _tag_tuple(value: object) -> tuple[tuple[str, str], ...]:
    if type(value) is not list:
        raise TypeError("expected a list of tags")
    for pair in value:
        if type(pair) is not list or len(pair) != 2:
            raise ValueError("a tag is a key and a value")
        if type(pair[0]) is not str or type(pair[1]) is not str:
            raise TypeError("tag keys and values are text")
    return tuple(map(tuple, value))


def _moment(value: object) -> datetime:
    if type(value) is not int:
        raise TypeError("expected epoch seconds")
    return datetime.fromtimestamp(value, UTC)


class SessionTokenCache:
    """Recent successful unseals, for the same token presented on request after request.

    A client signs every call of its session with the same token, so most unseals repeat one
    already done. Only successes are remembered (a forger cannot fill the cache), entries are
    keyed by token *and* access key id, and the cache empties whenever it is handed a different
    key ring, so a key leaving the ring takes its tokens with it. Expiry is not cached: callers
    still run :func:`check_not_expired` on every request. Least recently used entries go first.
    One cache per event loop: it is not meant to be shared between threads.
    """

    __slots__ = ("_entries", "_max_entries", "_ring")

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[tuple[str, str], UnsealedSession] = OrderedDict()
        self._max_entries = max_entries
        self._ring: KeyRing | None = None

    def unseal(self, session_token: str, access_key_id: str, key_ring: KeyRing) -> UnsealedSession:
        """:func:`unseal_session_token`, remembered."""
        if key_ring is not self._ring:
            self._entries.clear()
            self._ring = key_ring
        key = (session_token, access_key_id)
        unsealed = self._entries.get(key)
        if unsealed is not None:
            self._entries.move_to_end(key)
            return unsealed
        unsealed = unseal_session_token(session_token, access_key_id, key_ring)
        self._entries[key] = unsealed
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return unsealed

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SessionTokenCache(entries={len(self._entries)}, max_entries={self._max_entries})"


def check_not_expired(session: SessionContext, now: datetime) -> None:
    """Raise ``ExpiredToken`` once ``now`` has reached the session's expiration."""
    if now >= session.expires_at:
        raise ExpiredToken(
            EXPIRED_TOKEN_MESSAGE,
            explanation={
                "check": "session-expiry",
                "reason": "the session has expired",
                "expiredAt": session.expires_at.isoformat(),
                "now": now.isoformat(),
            },
        )

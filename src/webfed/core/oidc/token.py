"""Reading a web identity token's envelope before any key is touched.

The caller must find the IAM OIDC provider whose URL equals the token's ``iss`` before the
signature can be checked (IAM API reference, ``CreateOpenIDConnectProvider``: the URL
"corresponds to the iss claim"). :func:`peek_token` gives it ``iss``, ``kid`` and ``alg``
cheaply and safely: the token's size and shape are capped first (STS API reference,
``AssumeRoleWithWebIdentity``: ``WebIdentityToken`` is 4..20,000 characters), only the JWS
Compact Serialization of RFC 7515 section 7.1 is accepted (three base64url segments, RFC 7515
section 2: no padding), and nothing read here is trusted until the signature verifies.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from webfed.core.oidc.json_values import JsonObject, MalformedJson, parse_json_object
from webfed.errors import InvalidIdentityToken

__all__ = [
    "MAX_HEADER_CHARS",
    "MAX_TOKEN_CHARS",
    "MIN_TOKEN_CHARS",
    "UnverifiedToken",
    "peek_token",
    "token_fingerprint",
]

MIN_TOKEN_CHARS = 4
MAX_TOKEN_CHARS = 20_000
#: Largest protected header segment accepted (base64url characters); real headers are < 300.
MAX_HEADER_CHARS = 2_048
MAX_KID_CHARS = 256
MAX_ISSUER_CHARS = 2_048

_BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url's two own characters become standard base64's, and standard base64's own three
# (``+``, ``/``, padding ``=``) become ``*``, which no base64 alphabet has: a strict standard
# decoder then accepts exactly the base64url alphabet (RFC 4648 sections 4 and 5).
_BASE64URL_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
_PADDING = (b"", b"", b"==", b"=")
# By the segment's length modulo 4: the low bits of its last character that carry no data (a
# final group of 2 characters holds 1 byte, of 3 characters 2 bytes; 1 is refused before).
_UNUSED_LOW_BITS = (0, 0, 0b1111, 0b11)


def token_fingerprint(token: str) -> str:
    """First 16 hex digits of SHA-256 over the token: names a token in logs without leaking it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """The parts of a token that are read before verification. Nothing here is trusted yet.

    ``issuer`` selects the provider, ``kid`` and ``algorithm`` select the key within that
    provider's set; ``header`` and ``claims`` are the decoded JSON, kept for the validator.
    ``segments`` (the three base64url segments), ``header_json`` (the header's decoded bytes)
    and ``signature`` (the decoded signature) let the validator verify without reading the
    token a second time. None of them appears in the ``repr``.
    """

    issuer: str
    kid: str | None
    algorithm: str
    fingerprint: str
    header: JsonObject
    claims: JsonObject
    segments: tuple[str, str, str] = ("", "", "")
    header_json: bytes = b""
    signature: bytes = b""

    @property
    def signing_input(self) -> bytes:
        """What the signature covers: ``header.payload`` as sent (RFC 7515 section 5.2)."""
        return f"{self.segments[0]}.{self.segments[1]}".encode("ascii")

    def __repr__(self) -> str:
        return (
            f"UnverifiedToken(issuer={self.issuer!r}, kid={self.kid!r}, "
            f"algorithm={self.algorithm!r}, fingerprint={self.fingerprint!r})"
        )


def _malformed(reason: str, fingerprint: str) -> InvalidIdentityToken:
    return InvalidIdentityToken(
        "The web identity token is not a well-formed signed JWT.",
        explanation={"check": "structure", "reason": reason, "token_fingerprint": fingerprint},
    )


class _SegmentProblem(ValueError):
    """Why a segment cannot be read (the reason names the segment, never shows it)."""


def _decode(segment: str, what: str) -> bytes:
    """The bytes base64url ``segment`` spells (no padding, canonical), else ``_SegmentProblem``.

    One strict C decoder checks the alphabet and decodes, instead of a regular expression over
    every character followed by a lenient decode."""
    remainder = len(segment) % 4
    if remainder == 1:  # no base64 group ends with a single character
        raise _SegmentProblem(f"{what} is not base64url")
    try:
        standard = segment.encode("ascii").translate(_BASE64URL_TO_STANDARD)
        decoded = binascii.a2b_base64(standard + _PADDING[remainder], strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _SegmentProblem(f"{what} is not base64url") from None
    # Unused low bits of the last character make several spellings of the same bytes; only the
    # canonical one (those bits zero, RFC 4648 section 3.5) is accepted, so a token cannot be
    # altered and still verify.
    unused = _UNUSED_LOW_BITS[remainder]
    if unused and _BASE64URL_ALPHABET.index(segment[-1]) & unused:
        raise _SegmentProblem(f"{what} is not canonical base64url")
    return decoded


def _decode_segment(segment: str, what: str, fingerprint: str) -> bytes:
    try:
        return _decode(segment, what)
    except _SegmentProblem as problem:
        raise _malformed(str(problem), fingerprint) from None


def _split(token: str, fingerprint: str) -> tuple[str, str, str]:
    if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS:
        raise _malformed(
            f"length {len(token)} outside {MIN_TOKEN_CHARS}..{MAX_TOKEN_CHARS}", fingerprint
        )
    parts = token.split(".")
    if len(parts) != 3:
        raise _malformed(f"{len(parts)} segments, a signed JWT has 3", fingerprint)
    header, payload, signature = parts
    if not header or not payload or not signature:
        raise _malformed("empty segment", fingerprint)
    if len(header) > MAX_HEADER_CHARS:
        raise _malformed(f"header longer than {MAX_HEADER_CHARS} characters", fingerprint)
    return header, payload, signature


def _parse(decoded: bytes, what: str, fingerprint: str) -> JsonObject:
    try:
        return parse_json_object(decoded)
    except MalformedJson as exc:
        raise _malformed(f"{what}: {exc}", fingerprint) from None


@lru_cache(maxsize=256)
def _read_header(segment: str) -> tuple[bytes, JsonObject]:
    """The protected header's bytes and its frozen JSON, else ``_SegmentProblem``.

    A pure function of the segment's text, and an issuer sends the same header with every
    token, so a header that was read is remembered (a failure raises and is not). The payload
    and the signature, which differ from token to token, are read every time."""
    decoded = _decode(segment, "header")
    try:
        return decoded, parse_json_object(decoded)
    except MalformedJson as exc:
        raise _SegmentProblem(f"header: {exc}") from None


def _optional_string(value: object, limit: int, what: str, fingerprint: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _malformed(f"{what} is not a string of 1..{limit} characters", fingerprint)
    return value


def peek_token(token: str) -> UnverifiedToken:
    """Split and decode ``token`` under strict caps; raise ``InvalidIdentityToken`` if it is not
    a three-segment JWS whose header names a string ``alg`` and whose payload names a string
    ``iss``. The signature is NOT checked here: use the result only to find the provider."""
    fingerprint = token_fingerprint(token)
    segments = _split(token, fingerprint)
    header_segment, payload_segment, signature_segment = segments
    signature = _decode_segment(signature_segment, "signature", fingerprint)
    try:
        header_json, header = _read_header(header_segment)
    except _SegmentProblem as problem:
        raise _malformed(str(problem), fingerprint) from None
    payload_json = _decode_segment(payload_segment, "payload", fingerprint)
    claims = _parse(payload_json, "payload", fingerprint)
    algorithm = _optional_string(header.get("alg"), 32, "alg", fingerprint)
    if algorithm is None:
        raise _malformed("header has no alg", fingerprint)
    kid = _optional_string(header.get("kid"), MAX_KID_CHARS, "kid", fingerprint)
    issuer = _optional_string(claims.get("iss"), MAX_ISSUER_CHARS, "iss", fingerprint)
    if issuer is None:
        raise InvalidIdentityToken(
            "The web identity token has no issuer (iss) claim.",
            explanation={"check": "issuer", "seen": None, "token_fingerprint": fingerprint},
        )
    return UnverifiedToken(
        issuer, kid, algorithm, fingerprint, header, claims, segments, header_json, signature
    )

"""Steps 2 to 4 of SigV4: string to sign, signing key, signature (AWS IAM User Guide,
"Create a string to sign", "Calculate the signature").

The signing key is an HMAC-SHA256 chain over the scope::

    kDate    = HMAC("AWS4" + secret, YYYYMMDD)
    kRegion  = HMAC(kDate, region)
    kService = HMAC(kRegion, service)
    kSigning = HMAC(kService, "aws4_request")

and the signature is the lower-case hex ``HMAC(kSigning, string_to_sign)``. The key depends
only on (secret, day, region, service), so a verifier keeps recent keys in a small LRU
(:class:`SigningKeyCache`) keyed by a SHA-256 of the secret, never the secret itself. Beside
each key the cache keeps the two SHA-256 states of RFC 2104 that depend only on the key (the
padded key XOR ``ipad``, and XOR ``opad``, each hashed once), so that
:meth:`SigningKeyCache.signature` costs two state copies and two short hashes instead of keying
a new HMAC per request; it is property-tested against :mod:`hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict

from webfed.core.sigv4.authorization import ALGORITHM, SCOPE_TERMINATOR
from webfed.core.sigv4.encoding import wire_bytes

__all__ = [
    "DEFAULT_KEY_CACHE",
    "SigningKeyCache",
    "compute_signature",
    "derive_signing_key",
    "string_to_sign",
]


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def string_to_sign(canonical_request: str, amz_date: str, credential_scope: str) -> str:
    """``AWS4-HMAC-SHA256\\n<amz date>\\n<scope>\\n<hex sha256 of the canonical request>``.

    The canonical request is hashed as UTF-8; text that came off the wire as undecodable bytes
    (``surrogateescape``) hashes back to those bytes.
    """
    digest = hashlib.sha256(wire_bytes(canonical_request)).hexdigest()
    return "\n".join((ALGORITHM, amz_date, credential_scope, digest))


def derive_signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for one day, region and service (the HMAC chain above)."""
    date_key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    region_key = _hmac(date_key, region)
    service_key = _hmac(region_key, service)
    return _hmac(service_key, SCOPE_TERMINATOR)


class _KeyedHmacSha256:
    """HMAC-SHA256 (RFC 2104 section 2) with the key-dependent first blocks hashed once.

    ``HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m))`` where ``K'`` is the key (hashed
    first if longer than the 64-byte block) padded with zeros to the block size.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK_SIZE:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK_SIZE, b"\0")
        self._inner = hashlib.sha256(bytes(octet ^ 0x36 for octet in block))
        self._outer = hashlib.sha256(bytes(octet ^ 0x5C for octet in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return "_KeyedHmacSha256(<key hidden>)"


_BLOCK_SIZE = 64  # SHA-256's block size in bytes


def compute_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SigningKeyCache:
    """A bounded, thread-safe LRU of derived signing keys.

    Entries are keyed by ``sha256(secret)``, day, region and service, so the secret itself is
    never held; the repr shows only the size.
    """

    def __init__(self, maxsize: int = 256) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple[bytes, str, str, str], tuple[bytes, _KeyedHmacSha256]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def signing_key(self, secret_access_key: str, date: str, region: str, service: str) -> bytes:
        """The signing key, derived once per (secret, day, region, service) while cached."""
        return self._entry(secret_access_key, date, region, service)[0]

    def signature(
        self, secret_access_key: str, date: str, region: str, service: str, string_to_sign: str
    ) -> str:
        """``compute_signature(signing_key(...), string_to_sign)``, from the cached HMAC state."""
        keyed = self._entry(secret_access_key, date, region, service)[1]
        return keyed.hexdigest(string_to_sign.encode("utf-8"))

    def _entry(
        self, secret_access_key: str, date: str, region: str, service: str
    ) -> tuple[bytes, _KeyedHmacSha256]:
        fingerprint = hashlib.sha256(secret_access_key.encode("utf-8", "surrogatepass")).digest()
        entry = (fingerprint, date, region, service)
        with self._lock:
            cached = self._entries.get(entry)
            if cached is not None:
                self._entries.move_to_end(entry)
                return cached
        derived = derive_signing_key(secret_access_key, date, region, service)
        keyed = (derived, _KeyedHmacSha256(derived))
        with self._lock:
            self._entries[entry] = keyed
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
        return keyed

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SigningKeyCache({len(self._entries)}/{self._maxsize} entries)"


DEFAULT_KEY_CACHE = SigningKeyCache()
"""The process-wide cache used by the verifier unless another is passed."""

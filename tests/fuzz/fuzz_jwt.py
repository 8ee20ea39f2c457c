"""Fuzz the web identity token path: peek, key set parsing, signature and claims validation.

Three shapes of input, chosen by the first byte:

0. **raw token**: the rest is the token's text, as ``AssumeRoleWithWebIdentity`` receives it.
   It is peeked and validated against a provider whose keys the fuzzer has never seen, so any
   token that validates is a forgery: a crash.
1. **signed token**: a key of the provider's set is picked, then a header and a payload (raw
   JSON bytes, anything at all) are signed with it, so the signature verifies and the claims
   checks (times, audience, ``azp``, subject, ``amr``, session tags, source identity) and the
   condition keys are what gets fuzzed.
2. **JWK Set**: the rest is a JWKS document; it is parsed and a key selected from it.

Run: ``.venv/bin/python tests/fuzz/fuzz_jwt.py -runs=1000000 tests/fuzz/corpus/jwt``.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from joserfc.jws import JWSRegistry

from tests.fuzz._common import FuzzFailure, Input, expect_client_error, instrumented, main
from tests.support.tokens import SigningKey, generate_signing_key, jwks_document

with instrumented(__name__ == "__main__"):
    from webfed.core.oidc import (
        ALLOWED_ALGORITHMS,
        TrustedProvider,
        ValidatedToken,
        parse_key_set,
        peek_token,
        select_key,
        validate_token,
        web_identity_condition_keys,
    )

__all__ = ["ISSUER", "KEYS", "NOW", "check"]

ISSUER = "https://issuer.example.com"
CLIENT_IDS = ("client-1", "client-2")
NOW = 1_700_000_000
PROVIDER = TrustedProvider(ISSUER, CLIENT_IDS)
#: Fresh keys per process: a raw token can never carry a valid signature by one of them.
KEYS: tuple[SigningKey, ...] = (
    generate_signing_key("RS256", "rsa-1"),
    generate_signing_key("ES256", "ec-1"),
    generate_signing_key("PS384", "rsa-2", bits=2048),
)
KEY_SET = parse_key_set(jwks_document(*KEYS))
_ALGORITHMS = tuple(sorted(ALLOWED_ALGORITHMS))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _validated(token: str) -> ValidatedToken | None:
    def run() -> ValidatedToken:
        unverified = peek_token(token)
        validated = validate_token(unverified, PROVIDER, KEY_SET, now=NOW)
        if validated.issuer != ISSUER or validated.audience not in CLIENT_IDS:
            raise FuzzFailure(f"validated a token for another party: {validated!r}")
        web_identity_condition_keys(validated)
        return validated

    result = expect_client_error(run)
    assert result is None or isinstance(result, ValidatedToken)
    return result


def _raw_token(data: Input) -> None:
    token = data.rest().decode("utf-8", "replace")
    if _validated(token) is not None:
        raise FuzzFailure("a token not signed by any of the provider's keys validated")


def _signed_token(data: Input) -> None:
    key = data.pick(KEYS)
    header = data.chunk(4096)
    payload = data.rest()
    # The header bytes are signed exactly as the fuzzer made them (sign_raw would re-encode).
    signing_input = f"{_b64url(header)}.{_b64url(payload)}"
    signature = JWSRegistry.algorithms[key.algorithm].sign(signing_input.encode(), key.private)
    token = f"{signing_input}.{_b64url(signature)}"
    _validated(token)


def _key_set(data: Input) -> None:
    kid = data.text(300) or None
    algorithm = data.pick(_ALGORITHMS)
    try:
        document = json.loads(data.rest())
    except (ValueError, RecursionError):
        return  # the JWKS fetcher refuses what is not JSON before this parser runs

    def run() -> None:
        key_set = parse_key_set(document)
        if len(key_set.keys) + len(key_set.skipped) > 100:
            raise FuzzFailure("a key set larger than MAX_KEYS_PER_SET was accepted")
        select_key(key_set, kid, algorithm, fingerprint="fuzz")

    expect_client_error(run)


_MODES = (_raw_token, _signed_token, _key_set)


def check(data: bytes) -> None:
    """Drive the token path with ``data``; raise only on a crash."""
    reader = Input(data)
    reader.pick(_MODES)(reader)


if __name__ == "__main__":
    main(check)

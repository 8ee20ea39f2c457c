"""The relying-party ID-token checks (OpenID Foundation conformance "RP" tests, in spirit),
each with its AWS error code and the explanation's ``check``."""

from __future__ import annotations

import json

import pytest

from tests.support.tokens import (
    SigningKey,
    b64url,
    forge_hmac_with_public_key,
    forge_none,
    generate_signing_key,
    jwks_document,
    sign,
    tamper_payload,
)
from tests.unit.oidc.conftest import CLIENT, ISSUER, NOW, claims, token
from tests.unit.oidc.helpers import rejection
from webfed.core.oidc import (
    IssuerKeySet,
    TrustedProvider,
    parse_key_set,
    token_fingerprint,
    validate_token,
)

INVALID = "InvalidIdentityToken"


def test_valid_rsa_token_is_accepted(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, amr=["pwd", "mfa"], azp=CLIENT)
    result = validate_token(raw, provider, key_set, now=NOW)
    assert (result.issuer, result.subject, result.audience) == (ISSUER, "user-1", CLIENT)
    assert result.audiences == (CLIENT,)
    assert result.amr == ("pwd", "mfa")
    assert result.authorized_party == CLIENT
    assert (result.issued_at, result.expires_at, result.not_before) == (NOW, NOW + 600, None)
    assert result.key_id == "rsa-1"
    assert result.algorithm == "RS256"
    assert result.fingerprint == token_fingerprint(raw)
    assert result.claims["sub"] == "user-1"
    assert raw not in repr(result)


@pytest.mark.parametrize(
    "algorithm", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
)
def test_every_allowed_algorithm_verifies(algorithm: str, provider: TrustedProvider) -> None:
    key = generate_signing_key(algorithm, f"k-{algorithm}")
    raw = sign(claims(), key)
    result = validate_token(raw, provider, parse_key_set(jwks_document(key)), now=NOW)
    assert result.algorithm == algorithm


def test_claims_are_read_only(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    result = validate_token(token(rsa_key, groups=["a"]), provider, key_set, now=NOW)
    assert result.claims["groups"] == ("a",)
    with pytest.raises(TypeError):
        result.claims["sub"] = "admin"  # type: ignore[index]


class TestSignatureAttacks:
    def test_alg_none_is_refused(self, provider: TrustedProvider, key_set: IssuerKeySet) -> None:
        raw = forge_none(claims(), kid="rsa-1")
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure")

    def test_alg_none_with_a_signature_is_refused(
        self, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = forge_none(claims(), kid="rsa-1") + "c2ln"
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "algorithm")

    @pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
    def test_hmac_keyed_with_the_public_key_is_refused(
        self, alg: str, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = forge_hmac_with_public_key(claims(), rsa_key, alg=alg)
        rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "algorithm", token=raw
        )

    @pytest.mark.parametrize("alg", ["EdDSA", "ES256K", "Ed25519", "RSA1_5", "rs256", ""])
    def test_other_algorithms_are_refused(
        self, alg: str, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        header = b64url({"alg": alg, "kid": "rsa-1"}) if alg else b64url({"kid": "rsa-1"})
        raw = f"{header}.{b64url(claims())}.c2lnbmF0dXJl"
        check = "algorithm" if alg else "structure"
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, check)

    def test_tampered_payload_fails_signature(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = tamper_payload(token(rsa_key), sub="admin")
        rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "signature", token=raw
        )

    def test_key_outside_the_set_fails_signature(
        self, other_rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = sign(claims(), other_rsa_key, kid="rsa-1")
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "signature")

    def test_unknown_kid_is_reported(
        self, other_rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = sign(claims(), other_rsa_key)
        error = rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "unknown_kid"
        )
        assert error.explanation is not None
        assert error.explanation["kid"] == "rsa-other"
        assert error.explanation["known_kids"] == ["ec-1", "rsa-1"]

    def test_kid_of_another_issuer_is_unknown_here(
        self, other_rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        """The other issuer's set has the kid; ours does not: keys never cross issuers."""
        other_set = parse_key_set(jwks_document(other_rsa_key))
        raw = sign(claims(), other_rsa_key)
        validate_token(raw, TrustedProvider(ISSUER, (CLIENT,)), other_set, now=NOW)
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "unknown_kid")

    def test_missing_kid_with_one_fitting_key_is_accepted(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = sign(claims(), rsa_key, kid=None)
        assert validate_token(raw, provider, key_set, now=NOW).key_id == "rsa-1"

    def test_missing_kid_with_several_fitting_keys_is_refused(
        self, rsa_key: SigningKey, other_rsa_key: SigningKey, provider: TrustedProvider
    ) -> None:
        key_set = parse_key_set(jwks_document(rsa_key, other_rsa_key))
        raw = sign(claims(), rsa_key, kid=None)
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "ambiguous_kid")

    def test_alg_that_the_key_does_not_fit_is_unknown(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        """kid names the key whose JWK declares alg RS256, the token says PS256: no key fits."""
        raw = sign(claims(), rsa_key, alg="PS256")
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "unknown_kid")

    @pytest.mark.parametrize(
        "header",
        [
            {"crit": ["exp"], "exp": 1},
            {"b64": False, "crit": ["b64"]},
            {"b64": True},
        ],
        ids=["crit", "b64-false", "b64-true"],
    )
    def test_unsupported_extensions_are_refused(
        self,
        header: dict[str, object],
        rsa_key: SigningKey,
        provider: TrustedProvider,
        key_set: IssuerKeySet,
    ) -> None:
        raw = sign(claims(), rsa_key, headers=header)
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "header")

    @pytest.mark.parametrize("member", ["jku", "x5u", "jwk"])
    def test_header_key_pointers_are_never_used(
        self,
        member: str,
        rsa_key: SigningKey,
        other_rsa_key: SigningKey,
        provider: TrustedProvider,
        key_set: IssuerKeySet,
    ) -> None:
        """A token signed by the attacker's key, pointing at that key, still fails."""
        pointer: object = (
            other_rsa_key.public_jwk() if member == "jwk" else "https://evil.example/keys"
        )
        raw = sign(claims(), other_rsa_key, kid="rsa-1", headers={member: pointer})
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "signature")
        honest = sign(claims(), rsa_key, headers={member: pointer})
        assert validate_token(honest, provider, key_set, now=NOW).subject == "user-1"


class TestIssuer:
    def test_other_issuer_gets_aws_message(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = token(rsa_key, iss="https://evil.example.com")
        error = rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "issuer"
        )
        assert error.message == (
            "No OpenIDConnect provider found in your account for https://evil.example.com"
        )

    @pytest.mark.parametrize(
        ("iss", "check"),
        [
            (None, "issuer"),
            (42, "structure"),
            ("", "structure"),
            ("https://ISSUER.example.com", "issuer"),
            (ISSUER + "/", "issuer"),
        ],
        ids=["missing", "number", "empty", "case", "trailing-slash"],
    )
    def test_issuer_must_match_exactly(
        self,
        iss: object,
        check: str,
        rsa_key: SigningKey,
        provider: TrustedProvider,
        key_set: IssuerKeySet,
    ) -> None:
        raw = sign(claims(iss=iss), rsa_key)
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, check)


class TestStructureAndSize:
    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a.b.c.d.e",
            "..",
            "eyJ.eyJ.",
            "e$J.eyJ.c2ln",
            "eyJhbGciOiJSUzI1NiJ9=.eyJ.c2ln",
            "é.b.c",
        ],
        ids=[
            "empty",
            "short",
            "two-segments",
            "four-segments",
            "jwe-shape",
            "empty-segments",
            "empty-signature",
            "bad-char",
            "padding",
            "non-ascii",
        ],
    )
    def test_not_a_jws(self, raw: str, provider: TrustedProvider, key_set: IssuerKeySet) -> None:
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure")

    @pytest.mark.parametrize(
        ("header", "payload"),
        [
            (b"[]", b"{}"),
            (b'{"alg":"RS256"}', b"[1]"),
            (b'{"alg":"RS256","alg":"none"}', b"{}"),
            (b'{"alg":"RS256"}', b'{"iss":"a","iss":"b"}'),
            (b'{"alg":"RS256"}', b'{"exp":NaN}'),
            (b'{"alg":"RS256"}', b"\xff\xfe"),
            (b'{"alg":"RS256"}', b"[" * 5000 + b"]" * 5000),
            (b'{"alg":"RS256","kid":7}', b"{}"),
        ],
        ids=[
            "header-array",
            "payload-array",
            "duplicate-header",
            "duplicate-claim",
            "nan",
            "not-utf8",
            "deep",
            "kid-number",
        ],
    )
    def test_malformed_json(
        self, header: bytes, payload: bytes, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = f"{b64url(header)}.{b64url(payload)}.c2ln"
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure")

    def test_too_deep_nesting_is_refused(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        nested: object = "x"
        for _ in range(20):
            nested = [nested]
        raw = token(rsa_key, deep=nested)
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure")

    def test_token_of_20000_characters_is_read(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        base = len(token(rsa_key, pad=""))
        raw = token(rsa_key, pad="x" * ((20_000 - base) * 3 // 4))
        raw = token(rsa_key, pad="x" * ((20_000 - base) * 3 // 4 + (20_000 - len(raw)) * 3 // 4))
        assert 19_990 <= len(raw) <= 20_000
        assert validate_token(raw, provider, key_set, now=NOW).subject == "user-1"

    def test_token_over_20000_characters_is_refused(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = token(rsa_key, pad="x" * 15_000)
        assert len(raw) > 20_000
        error = rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure"
        )
        assert "20000" in json.dumps(error.explanation)

    def test_huge_header_is_refused(
        self, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
    ) -> None:
        raw = sign(claims(), rsa_key, headers={"x-pad": "p" * 2000})
        rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "structure")

"""User names, extra claims and the ID token's claims and signature."""

from __future__ import annotations

import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from webfed.devidp.claims import (
    MAX_CLAIMS_BYTES,
    MAX_CLAIMS_DEPTH,
    RESERVED_CLAIMS,
    check_username,
    id_token_claims,
    parse_extra_claims,
    sign_id_token,
    user_claims,
)
from webfed.issuer import IssuerKeys, SigningKey


@pytest.mark.parametrize("name", ["alice", "a", "Bob.Smith_2-x", "x" * 64, "  padded  "])
def test_accepted_user_names(name: str) -> None:
    assert check_username(name) == name.strip()


@pytest.mark.parametrize(
    "name", ["", " ", "x" * 65, "a b", "a@b", "<b>", "é", "a\nb", "a/b", "a:b"]
)
def test_refused_user_names(name: str) -> None:
    with pytest.raises(ValueError, match="user name"):
        check_username(name)


def test_extra_claims_parse() -> None:
    text = '{"groups": ["a", "b"], "level": 3, "vip": true, "profile": {"x": null}}'
    assert parse_extra_claims(text) == json.loads(text)
    assert parse_extra_claims("") == parse_extra_claims("  \n") == {}


@pytest.mark.parametrize("claim", sorted(RESERVED_CLAIMS))
def test_reserved_claims_are_refused(claim: str) -> None:
    with pytest.raises(ValueError, match=f"may not set {claim}"):
        parse_extra_claims(json.dumps({claim: "x"}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ('"text"', "must be a JSON object"),
        ("{nope", "not valid JSON"),
        ('{"a": NaN}', "not valid JSON"),
        ('{"a": Infinity}', "not valid JSON"),
        ('{"a": 1e400}', "not valid JSON"),
        ('{"a": [-1E+999]}', "not valid JSON"),
        ('{"a": 1, "a": 2}', "given twice"),
        ('{"a": {"b": 1, "b": 2}}', "given twice"),
        ('{"a": ' + "[" * 2000 + "]" * 2000 + "}", "at most|nested too deeply"),
        (json.dumps({"a": "x" * MAX_CLAIMS_BYTES}), "at most"),
    ],
    ids=[
        "array",
        "string",
        "syntax",
        "nan",
        "infinity",
        "overflow",
        "negative-overflow",
        "repeat",
        "nested-repeat",
        "deep",
        "big",
    ],
)
def test_malformed_extra_claims(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_extra_claims(text, source="claims")


def test_deep_nesting_within_the_size_limit() -> None:
    text = '{"a": ' + "[" * 1500 + "]" * 1500 + "}"
    assert len(text) < MAX_CLAIMS_BYTES
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_extra_claims(text)


def _nested(levels: int) -> str:
    """A claims object ``levels`` deep: the object itself, then arrays in arrays."""
    return '{"a": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def test_the_deepest_claims_allowed() -> None:
    assert parse_extra_claims(_nested(MAX_CLAIMS_DEPTH)) == json.loads(_nested(MAX_CLAIMS_DEPTH))


@pytest.mark.parametrize("levels", [MAX_CLAIMS_DEPTH + 1, 100, 900])
def test_deeper_claims_are_refused(levels: int) -> None:
    """Within the size limit and json's own recursion limit, 900 levels used to pass here and
    then fail (RecursionError, a 500) when the code carrying them was sealed."""
    assert len(_nested(levels)) < MAX_CLAIMS_BYTES
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_extra_claims(_nested(levels))


def test_user_claims_layers() -> None:
    claims = user_claims(
        "alice",
        ("openid", "profile", "email"),
        {"team": "blue", "name": "Alice A."},
        {"team": "red"},
    )
    assert claims == {
        "preferred_username": "alice",
        "name": "Alice A.",
        "email": "alice@dev.invalid",
        "team": "red",
    }


@pytest.mark.parametrize(
    ("scope", "standard"),
    [
        (("openid",), set()),
        (("openid", "profile"), {"preferred_username", "name"}),
        (("openid", "email"), {"email"}),
        (("openid", "profile", "email"), {"preferred_username", "name", "email"}),
    ],
    ids=["openid", "profile", "email", "both"],
)
def test_standard_claims_follow_the_scope(scope: tuple[str, ...], standard: set[str]) -> None:
    """OpenID Connect Core 5.4: profile and email each ask for their claims; extra claims are
    the administrator's and come whatever the scope."""
    assert set(user_claims("alice", scope)) == standard
    assert set(user_claims("alice", scope, {"team": "red"})) == standard | {"team"}


def test_id_token_claims_put_the_provider_last() -> None:
    claims = id_token_claims(
        issuer="http://127.0.0.1:8700/dev-idp",
        subject="alice",
        client_id="web",
        nonce=None,
        auth_time=100,
        now=110,
        claims={"email": "alice@dev.invalid", "amr": ["pwd"]},
    )
    assert claims == {
        "email": "alice@dev.invalid",
        "amr": ["pwd"],
        "iss": "http://127.0.0.1:8700/dev-idp",
        "sub": "alice",
        "aud": "web",
        "iat": 110,
        "exp": 3710,
        "auth_time": 100,
    }
    with_nonce = id_token_claims(
        issuer="i", subject="s", client_id="c", nonce="n", auth_time=1, now=1, claims={}
    )
    assert with_nonce["nonce"] == "n"


def test_signed_token_verifies_with_the_published_key(
    signing_key: SigningKey, issuer_keys: IssuerKeys
) -> None:
    claims = {"iss": "i", "sub": "alice", "aud": "web", "iat": 1, "exp": 2}
    token = sign_id_token(claims, signing_key)
    decoded = jwt.decode(token, KeySet.import_key_set(dict(issuer_keys.jwks())))
    assert decoded.header == {"alg": "RS256", "kid": signing_key.kid, "typ": "JWT"}
    assert decoded.claims == claims

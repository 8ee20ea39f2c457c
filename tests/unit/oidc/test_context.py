"""The web-identity condition keys built from a validated token."""

from __future__ import annotations

import pytest

from tests.support.tokens import SigningKey, jwks_document, sign
from tests.unit.oidc.conftest import CLIENT, ISSUER, NOW, claims, token
from webfed.core.oidc import (
    TAGS_CLAIM,
    IssuerKeySet,
    TrustedProvider,
    issuer_matches,
    parse_key_set,
    provider_key,
    validate_token,
    web_identity_condition_keys,
)


def test_provider_key_strips_the_scheme() -> None:
    assert provider_key("https://server.example.com") == "server.example.com"
    assert provider_key("https://oidc.eks.us-east-1.amazonaws.com/id/ABC/") == (
        "oidc.eks.us-east-1.amazonaws.com/id/ABC"
    )
    assert provider_key("http://127.0.0.1:8000") == "127.0.0.1:8000"


def test_generic_provider_keys(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    extra = claims(
        amr=["pwd"],
        azp=CLIENT,
        email="a@example.com",
        email_verified=True,
        groups=["dev", 7, None, {"nested": 1}],
        address={"street": "x"},
        score=1.5,
        **{TAGS_CLAIM: {"principal_tags": {"k": ["v"]}}},
    )
    raw = sign({**extra, "nothing": None}, rsa_key)
    keys = web_identity_condition_keys(validate_token(raw, provider, key_set, now=NOW))
    p = "issuer.example.com"
    assert keys == {
        f"{p}:iss": ISSUER,
        f"{p}:aud": CLIENT,
        f"{p}:sub": "user-1",
        f"{p}:amr": ["pwd"],
        f"{p}:azp": CLIENT,
        f"{p}:iat": str(NOW),
        f"{p}:exp": str(NOW + 600),
        f"{p}:email": "a@example.com",
        f"{p}:email_verified": "true",
        f"{p}:groups": ["dev", "7", "null"],
        f"{p}:score": "1.5",
        f"{p}:nothing": "null",
    }


def test_aud_key_is_the_matched_client_not_the_raw_list(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, aud=["other-api", CLIENT], azp=CLIENT)
    keys = web_identity_condition_keys(validate_token(raw, provider, key_set, now=NOW), "p")
    assert keys["p:aud"] == CLIENT
    assert keys["p:amr"] == []
    assert "p:oaud" not in keys


def _google(rsa_key: SigningKey, **overrides: object) -> dict[str, str | list[str]]:
    issuer = "https://accounts.google.com"
    provider = TrustedProvider(issuer, ("web-client",))
    raw = sign(claims(iss=issuer, aud="web-client", **overrides), rsa_key)
    validated = validate_token(raw, provider, parse_key_set(jwks_document(rsa_key)), now=NOW)
    return web_identity_condition_keys(validated)


def test_google_aud_is_azp_when_present(rsa_key: SigningKey) -> None:
    keys = _google(rsa_key, azp="android-client")
    assert keys["accounts.google.com:aud"] == "android-client"
    assert keys["accounts.google.com:oaud"] == "web-client"
    assert keys["accounts.google.com:azp"] == "android-client"


def test_google_aud_is_aud_without_azp(rsa_key: SigningKey) -> None:
    keys = _google(rsa_key)
    assert keys["accounts.google.com:aud"] == "web-client"
    assert keys["accounts.google.com:oaud"] == "web-client"


def test_a_claim_spelled_like_a_documented_key_cannot_override_it(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    # Condition keys are case-insensitive: "SUB", "Aud", "AMR", "Azp" must not pose as sub/aud/...
    raw = token(rsa_key, SUB="victim", Aud="other-client", AMR=["mfa"], Azp="x", ID="y")
    keys = web_identity_condition_keys(validate_token(raw, provider, key_set, now=NOW), "p")
    lowered: dict[str, object] = {}
    for key, value in keys.items():
        assert key.lower() not in lowered, f"two spellings of {key}"
        lowered[key.lower()] = value
    assert lowered["p:sub"] == "user-1"
    assert lowered["p:aud"] == CLIENT
    assert lowered["p:amr"] == []
    assert "p:azp" not in lowered
    assert "p:id" not in lowered


def test_claims_differing_only_in_case_are_dropped_as_ambiguous(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, repository="org/good", Repository="org/evil", team="games")
    keys = web_identity_condition_keys(validate_token(raw, provider, key_set, now=NOW), "p")
    assert "p:repository" not in {key.lower() for key in keys}
    assert keys["p:team"] == "games"


@pytest.mark.parametrize(
    ("issuer", "provider_url", "matches"),
    [
        ("https://accounts.google.com", "https://accounts.google.com", True),
        ("accounts.google.com", "https://accounts.google.com", True),  # Google's other spelling
        ("https://id.example.com", "https://id.example.com", True),
        ("id.example.com", "https://id.example.com", False),  # only Google may drop its scheme
        ("accounts.google.com", "https://id.example.com", False),
        ("https://accounts.google.com/", "https://accounts.google.com", False),
        ("http://accounts.google.com", "https://accounts.google.com", False),
    ],
)
def test_issuer_matches_is_exact_but_for_googles_bare_issuer(
    issuer: str, provider_url: str, matches: bool
) -> None:
    assert issuer_matches(issuer, provider_url) is matches

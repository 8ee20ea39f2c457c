"""aud (string or list) against the registered client ids, azp rules, and sub / amr."""

from __future__ import annotations

import pytest

from tests.support.tokens import SigningKey
from tests.unit.oidc.conftest import CLIENT, NOW, token
from tests.unit.oidc.helpers import rejection
from webfed.core.oidc import IssuerKeySet, TrustedProvider, validate_token

INVALID = "InvalidIdentityToken"


@pytest.mark.parametrize(
    ("aud", "azp", "matched"),
    [
        (CLIENT, None, CLIENT),
        ([CLIENT], None, CLIENT),
        (CLIENT, "android-app", CLIENT),
        (CLIENT, CLIENT, CLIENT),
        ([CLIENT, "other-api"], CLIENT, CLIENT),
        (["other-api", "client-2"], "client-2", "client-2"),
    ],
    ids=[
        "string",
        "list-of-one",
        "single-aud-unregistered-azp-is-informational",
        "azp-equals-aud",
        "several-with-registered-azp",
        "azp-picks-second",
    ],
)
def test_accepted_audiences(
    aud: object,
    azp: str | None,
    matched: str,
    rsa_key: SigningKey,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    result = validate_token(token(rsa_key, aud=aud, azp=azp), provider, key_set, now=NOW)
    assert result.audience == matched
    assert result.audiences == ((aud,) if isinstance(aud, str) else tuple(aud))  # type: ignore[arg-type]
    assert result.authorized_party == azp


@pytest.mark.parametrize(
    ("aud", "azp"),
    [
        ("someone-else", None),
        ("someone-else", CLIENT),
        ("CLIENT-1", None),
        ([CLIENT, "other-api"], None),
        ([CLIENT, "other-api"], "other-api"),
        ([CLIENT, "other-api"], "client-2"),
        (None, None),
        ("", None),
        ([], None),
        ([CLIENT, 7], None),
        (7, None),
        ({"aud": CLIENT}, None),
        (CLIENT, 7),
        (CLIENT, ""),
        (["x"] * 101, "x"),
    ],
    ids=[
        "unregistered",
        "unregistered-aud-registered-azp",
        "case-differs",
        "several-without-azp",
        "several-azp-unregistered",
        "several-azp-not-in-aud",
        "missing",
        "empty-string",
        "empty-list",
        "list-with-number",
        "number",
        "object",
        "azp-number",
        "azp-empty",
        "too-many",
    ],
)
def test_refused_audiences(
    aud: object,
    azp: object,
    rsa_key: SigningKey,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    raw = token(rsa_key, aud=aud, azp=azp)
    error = rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "audience")
    assert error.message == "Incorrect token audience"


def test_audience_explanation_shows_wanted_and_seen(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, aud=["a", "b"], azp="a")
    error = rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "audience")
    assert error.explanation is not None
    assert error.explanation["aud"] == ["a", "b"]
    assert error.explanation["azp"] == "a"
    assert error.explanation["client_ids"] == ["client-1", "client-2"]


@pytest.mark.parametrize(
    "sub",
    [None, "", 42, ["user"], "u" * 256],
    ids=["missing", "empty", "number", "list", "too-long"],
)
def test_subject_is_required(
    sub: object, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, sub=sub)
    rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "subject")


def test_subject_of_255_characters_is_accepted(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, sub="u" * 255)
    assert validate_token(raw, provider, key_set, now=NOW).subject == "u" * 255


@pytest.mark.parametrize(
    ("amr", "expected"),
    [(None, ()), ("pwd", ("pwd",)), (["pwd", "otp"], ("pwd", "otp")), ([], ())],
    ids=["absent", "string", "list", "empty-list"],
)
def test_amr_forms(
    amr: object,
    expected: tuple[str, ...],
    rsa_key: SigningKey,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    assert validate_token(token(rsa_key, amr=amr), provider, key_set, now=NOW).amr == expected


@pytest.mark.parametrize("amr", [7, [1], {"a": "b"}], ids=["number", "list-of-number", "object"])
def test_malformed_amr_is_refused(
    amr: object, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, amr=amr)
    rejection(lambda: validate_token(raw, provider, key_set, now=NOW), INVALID, "amr")

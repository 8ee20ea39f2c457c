"""exp / nbf / iat with AWS's five-minute grace, exact boundaries, and integer-only timestamps."""

from __future__ import annotations

import pytest

from tests.support.tokens import SigningKey
from tests.unit.oidc.conftest import NOW, token
from tests.unit.oidc.helpers import rejection
from webfed.core.oidc import IssuerKeySet, TrustedProvider, validate_token

EXP = NOW + 600


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (EXP - 1, True),
        (EXP, True),
        (EXP + 299, True),
        (EXP + 300, False),
        (EXP + 301, False),
        (EXP + 86_400, False),
    ],
    ids=["before", "at-exp", "last-grace-second", "grace-ends", "after-grace", "a-day-late"],
)
def test_expiry_has_a_five_minute_grace(
    now: int, accepted: bool, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, exp=EXP)
    if accepted:
        assert validate_token(raw, provider, key_set, now=now).expires_at == EXP
    else:
        error = rejection(
            lambda: validate_token(raw, provider, key_set, now=now),
            "ExpiredTokenException",
            "expired",
        )
        assert error.status == 400
        assert error.explanation is not None
        assert (error.explanation["exp"], error.explanation["now"]) == (EXP, now)


def test_custom_skew(rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet) -> None:
    raw = token(rsa_key, exp=EXP)
    assert validate_token(raw, provider, key_set, now=EXP + 9, clock_skew=10)
    rejection(
        lambda: validate_token(raw, provider, key_set, now=EXP + 10, clock_skew=10),
        "ExpiredTokenException",
        "expired",
    )


def test_missing_exp_is_refused(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, exp=None)
    rejection(
        lambda: validate_token(raw, provider, key_set, now=NOW),
        "InvalidIdentityToken",
        "missing_exp",
    )


@pytest.mark.parametrize(
    ("nbf", "accepted"),
    [(NOW, True), (NOW + 300, True), (NOW + 301, False), (NOW + 3600, False)],
    ids=["now", "at-skew", "past-skew", "an-hour-ahead"],
)
def test_not_before(
    nbf: int, accepted: bool, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, nbf=nbf)
    if accepted:
        assert validate_token(raw, provider, key_set, now=NOW).not_before == nbf
    else:
        rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW),
            "InvalidIdentityToken",
            "not_yet_valid",
        )


@pytest.mark.parametrize(
    ("iat", "accepted"),
    [(NOW - 86_400, True), (NOW + 300, True), (NOW + 301, False)],
    ids=["a-day-ago", "at-skew", "past-skew"],
)
def test_issued_at_not_in_the_future(
    iat: int, accepted: bool, rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    raw = token(rsa_key, iat=iat)
    if accepted:
        assert validate_token(raw, provider, key_set, now=NOW).issued_at == iat
    else:
        rejection(
            lambda: validate_token(raw, provider, key_set, now=NOW),
            "InvalidIdentityToken",
            "issued_in_future",
        )


def test_iat_is_optional(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    assert validate_token(token(rsa_key, iat=None), provider, key_set, now=NOW).issued_at is None


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [float(NOW + 600), NOW + 600.5, str(NOW + 600), True, False, [NOW + 600], {"t": 1}, -1, 10**13],
    ids=["float-whole", "float", "string", "true", "false", "list", "object", "negative", "huge"],
)
def test_timestamps_must_be_integers(
    claim: str,
    value: object,
    rsa_key: SigningKey,
    provider: TrustedProvider,
    key_set: IssuerKeySet,
) -> None:
    raw = token(rsa_key, **{claim: value})
    error = rejection(
        lambda: validate_token(raw, provider, key_set, now=NOW),
        "InvalidIdentityToken",
        "timestamp_type",
    )
    assert error.explanation is not None
    assert error.explanation["claim"] == claim


def test_null_timestamp_is_refused(
    rsa_key: SigningKey, provider: TrustedProvider, key_set: IssuerKeySet
) -> None:
    from tests.support.tokens import sign
    from tests.unit.oidc.conftest import claims

    raw = sign({**claims(), "nbf": None}, rsa_key)
    rejection(
        lambda: validate_token(raw, provider, key_set, now=NOW),
        "InvalidIdentityToken",
        "timestamp_type",
    )

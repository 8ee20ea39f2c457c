"""aws-c-auth's SigV4 suite: every case in the header form and the presigned query form."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.sigv4.vectors import (
    ACCESS_KEY_ID,
    SECRET,
    crt_cases,
    crt_context,
    flip_last_character,
    parse_raw_request,
    read_text,
    replace_header,
)
from webfed.core.sigv4 import (
    STANDARD_RULES,
    HttpRequest,
    canonical_request,
    compute_signature,
    derive_signing_key,
    parse_authorization,
    string_to_sign,
    verify_request,
)
from webfed.errors import SignatureDoesNotMatch, XAmzContentSHA256Mismatch

CASES = crt_cases()
FORMS = ("header", "query")
MATRIX = [(case, form) for case in CASES for form in FORMS]


def _id(item: tuple[Path, str]) -> str:
    case, form = item
    return f"{case.name}-{form}"


def test_suite_is_complete() -> None:
    assert len(CASES) == 38


def _signed(case: Path, form: str) -> HttpRequest:
    return parse_raw_request((case / f"{form}-signed-request.txt").read_bytes())


@pytest.mark.parametrize("item", MATRIX, ids=_id)
def test_every_step_matches(item: tuple[Path, str]) -> None:
    case, form = item
    context = crt_context(case)
    request = _signed(case, form)
    parsed = parse_authorization(request)
    assert (parsed.access_key_id, parsed.region, parsed.service) == (
        ACCESS_KEY_ID,
        context.region,
        context.service,
    )
    assert parsed.presigned is (form == "query")
    assert parsed.expires == (context.expires if form == "query" else None)
    assert parsed.security_token == context.token
    creq = canonical_request(request, parsed, context.rules)
    assert creq == read_text(case / f"{form}-canonical-request.txt")
    sts = string_to_sign(creq, parsed.amz_date, parsed.credential_scope)
    assert sts == read_text(case / f"{form}-string-to-sign.txt")
    key = derive_signing_key(SECRET, parsed.scope_date, context.region, context.service)
    expected = read_text(case / f"{form}-signature.txt").strip()
    assert compute_signature(key, sts) == expected == parsed.signature


@pytest.mark.parametrize("item", MATRIX, ids=_id)
def test_signed_request_verifies(item: tuple[Path, str]) -> None:
    case, form = item
    context = crt_context(case)
    request = _signed(case, form)
    parsed = parse_authorization(request)
    verify_request(request, parsed, SECRET, now=context.signed_at, rules=context.rules)


@pytest.mark.parametrize("item", MATRIX, ids=_id)
def test_one_byte_in_signature_is_rejected(item: tuple[Path, str]) -> None:
    case, form = item
    context = crt_context(case)
    request = _signed(case, form)
    parsed = parse_authorization(request)
    tampered = replace(parsed, signature=flip_last_character(parsed.signature))
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(request, tampered, SECRET, now=context.signed_at, rules=context.rules)


@pytest.mark.parametrize("item", MATRIX, ids=_id)
def test_one_byte_in_host_is_rejected(item: tuple[Path, str]) -> None:
    case, form = item
    context = crt_context(case)
    tampered = replace_header(_signed(case, form), "host", "example.amazonaws.con")
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(
            tampered,
            parse_authorization(tampered),
            SECRET,
            now=context.signed_at,
            rules=context.rules,
        )


@pytest.mark.parametrize("item", MATRIX, ids=_id)
def test_one_byte_in_path_is_rejected(item: tuple[Path, str]) -> None:
    case, form = item
    context = crt_context(case)
    request = _signed(case, form)
    tampered = replace(request, raw_path=request.raw_path + "x")
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(
            tampered,
            parse_authorization(tampered),
            SECRET,
            now=context.signed_at,
            rules=context.rules,
        )


def test_presigned_token_added_after_signing_needs_the_rule() -> None:
    """``post-sts-header-after``: the unsigned presigned token verifies only when the rules say
    the token is not part of the canonical query; default rules reject it."""
    case = next(case for case in CASES if case.name == "post-sts-header-after")
    context = crt_context(case)
    assert not context.rules.sign_presigned_token
    request = _signed(case, "query")
    parsed = parse_authorization(request)
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(request, parsed, SECRET, now=context.signed_at, rules=STANDARD_RULES)


@pytest.mark.parametrize(
    ("form", "error"),
    [("header", XAmzContentSHA256Mismatch), ("query", SignatureDoesNotMatch)],
    ids=["header-declared-digest", "query-body-hash"],
)
def test_body_change_is_rejected(form: str, error: type[Exception]) -> None:
    """The header form signs a declared ``x-amz-content-sha256``, so a changed body fails the
    digest check; the query form signs the body's own hash, so the signature fails."""
    case = next(case for case in CASES if case.name == "post-x-www-form-urlencoded")
    context = crt_context(case)
    request = _signed(case, form)
    tampered = replace(request, body=request.body.replace(b"value1", b"value2"))
    with pytest.raises(error):
        verify_request(
            tampered,
            parse_authorization(tampered),
            SECRET,
            now=context.signed_at,
            rules=context.rules,
        )

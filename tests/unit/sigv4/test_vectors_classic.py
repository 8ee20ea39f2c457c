"""AWS's classic SigV4 test suite (aws4_testsuite): every case, every step, then verification."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.sigv4.vectors import (
    ACCESS_KEY_ID,
    SECRET,
    SIGNED_AT,
    classic_cases,
    classic_file,
    classic_id,
    flip_last_character,
    parse_raw_request,
    read_text,
    replace_header,
    with_header,
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
from webfed.errors import SignatureDoesNotMatch

CASES = classic_cases()
SESSION_TOKEN_CASE = "get-vanilla-with-session-token"


def test_suite_is_complete() -> None:
    assert len(CASES) == 34


def _session_token(case: Path) -> str | None:
    for line in read_text(classic_file(case, "creq")).splitlines():
        if line.startswith("x-amz-security-token:"):
            return line.partition(":")[2]
    return None


def _signed_from_req(case: Path) -> HttpRequest:
    """The ``.req`` plus its expected ``Authorization`` (and token header where signed)."""
    request = parse_raw_request(classic_file(case, "req").read_bytes())
    token = _session_token(case)
    if token is not None and not request.header_values("x-amz-security-token"):
        request = with_header(request, "X-Amz-Security-Token", token)
    return with_header(request, "Authorization", read_text(classic_file(case, "authz")))


@pytest.mark.parametrize("case", CASES, ids=classic_id)
def test_canonical_request_string_to_sign_and_signature(case: Path) -> None:
    request = _signed_from_req(case)
    parsed = parse_authorization(request)
    assert parsed.access_key_id == ACCESS_KEY_ID
    creq = canonical_request(request, parsed, STANDARD_RULES)
    assert creq == read_text(classic_file(case, "creq"))
    sts = string_to_sign(creq, parsed.amz_date, parsed.credential_scope)
    assert sts == read_text(classic_file(case, "sts"))
    key = derive_signing_key(SECRET, parsed.scope_date, parsed.region, parsed.service)
    assert compute_signature(key, sts) == parsed.signature


def _signed_request(case: Path) -> HttpRequest:
    if case.name == SESSION_TOKEN_CASE:
        return _signed_from_req(case)
    return parse_raw_request(classic_file(case, "sreq").read_bytes())


@pytest.mark.parametrize("case", CASES, ids=classic_id)
def test_signed_request_verifies(case: Path) -> None:
    request = _signed_request(case)
    verify_request(
        request, parse_authorization(request), SECRET, now=SIGNED_AT, rules=STANDARD_RULES
    )


@pytest.mark.parametrize("case", CASES, ids=classic_id)
def test_one_byte_in_signature_is_rejected(case: Path) -> None:
    request = _signed_request(case)
    parsed = parse_authorization(request)
    tampered = replace(parsed, signature=flip_last_character(parsed.signature))
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(request, tampered, SECRET, now=SIGNED_AT, rules=STANDARD_RULES)


@pytest.mark.parametrize("case", CASES, ids=classic_id)
def test_one_byte_in_host_is_rejected(case: Path) -> None:
    request = _signed_request(case)
    tampered = replace_header(request, "host", "example.amazonaws.con")
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(
            tampered, parse_authorization(tampered), SECRET, now=SIGNED_AT, rules=STANDARD_RULES
        )


def test_published_session_token_sreq_is_rejected() -> None:
    """Upstream quirk: this ``.sreq`` carries get-vanilla's signature, so it must not verify."""
    case = next(case for case in CASES if case.name == SESSION_TOKEN_CASE)
    request = parse_raw_request(classic_file(case, "sreq").read_bytes())
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(
            request, parse_authorization(request), SECRET, now=SIGNED_AT, rules=STANDARD_RULES
        )


def test_session_token_is_parsed() -> None:
    case = next(case for case in CASES if case.name == SESSION_TOKEN_CASE)
    parsed = parse_authorization(_signed_from_req(case))
    assert parsed.security_token == _session_token(case)
    assert "x-amz-security-token" in parsed.signed_headers

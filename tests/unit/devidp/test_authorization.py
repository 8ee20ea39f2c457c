"""Authorization request parsing: what is shown, what is redirected, with which error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.devidp.conftest import RFC_CHALLENGE
from webfed.devidp.authorization import (
    AuthorizationError,
    RedirectPolicy,
    UnsafeRedirect,
    is_loopback_host,
    parse_authorization_request,
    redirect_to,
    single_values,
)

REDIRECT = "http://127.0.0.1:5173/cb"
POLICY = RedirectPolicy.from_setting("https://app.example.test/cb, https://other.example.test/x")


def _params(**overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "web",
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "abc",
        "nonce": "n1",
        "code_challenge": RFC_CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def _parse(params: dict[str, str], repeated: frozenset[str] = frozenset()) -> object:
    return parse_authorization_request(params, repeated, POLICY)


def test_a_valid_request() -> None:
    request = parse_authorization_request(
        _params(scope="email openid offline_access profile", login_hint="bob"),
        frozenset(),
        POLICY,
    )
    assert request.client_id == "web" and request.redirect_uri == REDIRECT
    assert request.scope == ("openid", "profile", "email")  # unknown scopes are not granted
    assert (request.state, request.nonce, request.login_hint) == ("abc", "n1", "bob")
    assert request.form_fields()["code_challenge_method"] == "S256"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]"],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "10.0.0.1", "example.com", "localhost.example.com", ""]
)
def test_other_hosts(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:3000/callback",
        "https://127.0.0.1/cb?keep=1",
        "http://[::1]:8080/",
        "https://app.example.test/cb",
    ],
)
def test_allowed_redirects(uri: str) -> None:
    assert POLICY.check(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.test/cb/",  # listed URIs match exactly
        "https://evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://127.0.0.1:5173/cb#frag",
        "http://user@127.0.0.1/cb",
        "ftp://127.0.0.1/cb",
        "/relative/cb",
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1/c b",
        "http://127.0.0.1:5173/cb\n",  # a regular expression's $ matches before a final \n
        "http://127.0.0.1:5173/c\tb",  # urlsplit silently drops tabs and newlines
        "",
    ],
)
def test_refused_redirects(uri: str) -> None:
    with pytest.raises(UnsafeRedirect):
        POLICY.check(uri)


def test_a_bad_listed_uri_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="dev_idp_redirect_uris"):
        RedirectPolicy.from_setting("https://ok.example/cb,not a url")


@pytest.mark.parametrize(
    ("overrides", "repeated"),
    [
        ({"client_id": None}, frozenset()),
        ({"client_id": "tab\there"}, frozenset()),
        ({"client_id": "x" * 256}, frozenset()),
        ({}, frozenset({"client_id"})),
        ({"redirect_uri": None}, frozenset()),
        ({}, frozenset({"redirect_uri"})),
        ({"redirect_uri": "https://evil.example/cb"}, frozenset()),
        ({"client_id": "web\n"}, frozenset()),
        ({"redirect_uri": REDIRECT + "\n"}, frozenset()),
    ],
    ids=[
        "no-client",
        "control-char",
        "long-client",
        "two-clients",
        "no-uri",
        "two-uris",
        "evil",
        "client-final-newline",
        "uri-final-newline",
    ],
)
def test_shown_on_the_page(overrides: dict[str, str | None], repeated: frozenset[str]) -> None:
    with pytest.raises(UnsafeRedirect):
        _parse(_params(**overrides), repeated)


@pytest.mark.parametrize(
    ("overrides", "repeated", "error"),
    [
        ({"response_type": None}, frozenset(), "invalid_request"),
        ({"response_type": "id_token"}, frozenset(), "unsupported_response_type"),
        ({"response_mode": "fragment"}, frozenset(), "invalid_request"),
        ({"request": "eyJ..."}, frozenset(), "request_not_supported"),
        ({"request_uri": "urn:x"}, frozenset(), "request_uri_not_supported"),
        ({"prompt": "login none"}, frozenset(), "login_required"),
        ({"scope": None}, frozenset(), "invalid_scope"),
        ({"scope": "profile"}, frozenset(), "invalid_scope"),
        ({"scope": 'openid "quoted"'}, frozenset(), "invalid_scope"),
        ({"scope": "openid email\n"}, frozenset(), "invalid_scope"),
        ({"nonce": ""}, frozenset(), "invalid_request"),
        ({"nonce": "n" * 513}, frozenset(), "invalid_request"),
        ({"code_challenge": None}, frozenset(), "invalid_request"),
        ({"code_challenge_method": None}, frozenset(), "invalid_request"),
        ({"code_challenge_method": "plain"}, frozenset(), "invalid_request"),
        ({"code_challenge": "short"}, frozenset(), "invalid_request"),
        ({"code_challenge": RFC_CHALLENGE[:-1] + "="}, frozenset(), "invalid_request"),
        ({"code_challenge": RFC_CHALLENGE + "\n"}, frozenset(), "invalid_request"),
        ({"nonce": "n1\n"}, frozenset(), "invalid_request"),
        ({}, frozenset({"scope"}), "invalid_request"),
    ],
    ids=[
        "no-response-type",
        "implicit",
        "fragment-mode",
        "request-object",
        "request-uri",
        "prompt-none",
        "no-scope",
        "no-openid",
        "bad-scope-token",
        "scope-final-newline",
        "empty-nonce",
        "long-nonce",
        "no-challenge",
        "no-method",
        "plain",
        "short-challenge",
        "padded-challenge",
        "challenge-final-newline",
        "nonce-final-newline",
        "repeated-scope",
    ],
)
def test_redirected_errors(
    overrides: dict[str, str | None], repeated: frozenset[str], error: str
) -> None:
    with pytest.raises(AuthorizationError) as caught:
        _parse(_params(**overrides), repeated)
    assert caught.value.error == error
    assert caught.value.redirect_uri == REDIRECT and caught.value.state == "abc"


@pytest.mark.parametrize("state", ["line\nbreak", "final newline\n", "x" * 1025])
def test_a_malformed_state_is_not_echoed(state: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        _parse(_params(state=state))
    assert caught.value.state is None
    location = caught.value.redirect("http://127.0.0.1:8700/dev-idp")
    assert "state" not in parse_qs(urlsplit(location).query)


def test_error_redirect_keeps_the_query_and_names_the_issuer() -> None:
    error = AuthorizationError("invalid_scope", "no openid", "http://127.0.0.1/cb?a=1", "s&t")
    location = error.redirect("http://127.0.0.1:8700/dev-idp")
    parts = urlsplit(location)
    assert parts.path == "/cb"
    assert parse_qs(parts.query) == {
        "a": ["1"],
        "error": ["invalid_scope"],
        "error_description": ["no openid"],
        "state": ["s&t"],
        "iss": ["http://127.0.0.1:8700/dev-idp"],
    }


def test_redirect_to_without_a_query() -> None:
    assert redirect_to("http://127.0.0.1/cb", {"code": "a b"}) == "http://127.0.0.1/cb?code=a+b"


def test_single_values_reports_repeats() -> None:
    values, repeated = single_values([("a", "1"), ("b", "2"), ("a", "3")])
    assert values == {"a": "3", "b": "2"} and repeated == {"a"}

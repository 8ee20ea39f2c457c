"""The sign-in and error pages: stable ids, every value escaped, the banner always there."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.unit.devidp.conftest import RFC_CHALLENGE
from webfed.devidp.authorization import AuthorizationRequest
from webfed.devidp.page import SECURITY_HEADERS, error_page, sign_in_page

HOSTILE = '"><script>alert(1)</script>'
REQUEST = AuthorizationRequest(
    client_id=HOSTILE,
    redirect_uri="http://127.0.0.1/cb?a=1&b=2",
    scope=("openid",),
    state=HOSTILE,
    nonce=None,
    code_challenge=RFC_CHALLENGE,
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hidden: dict[str, str] = {}
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values["value"]


def _parse(text: str) -> _Elements:
    elements = _Elements()
    elements.feed(text)
    return elements


def test_sign_in_page_carries_the_request_escaped() -> None:
    text = sign_in_page(
        REQUEST, action="http://127.0.0.1:8700/dev-idp/authorize", username=HOSTILE,
        claims="</textarea><script>", problem=HOSTILE,
    )  # fmt: skip
    assert "<script>" not in text
    elements = _parse(text)
    assert {"username", "claims", "sign-in", "cancel", "dev-idp-banner", "problem"} <= elements.ids
    assert "script" not in elements.tags
    assert elements.hidden == {**REQUEST.form_fields()}
    assert elements.hidden["state"] == HOSTILE  # round-trips exactly through the form
    assert "NOT for production" in text


def test_error_page() -> None:
    text = error_page(HOSTILE)
    assert "<script>" not in text and "NOT for production" in text
    assert "problem" in _parse(text).ids


def test_the_page_loads_nothing_and_cannot_be_framed() -> None:
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert SECURITY_HEADERS["Cache-Control"] == "no-store"

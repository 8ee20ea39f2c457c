"""The demo page's two relays on bad input, in this process: an answer, never a server error.

``POST /oidc/token`` passes the page's token request to the provider with the client secret;
``POST /cognito-identity`` passes the page's Cognito Identity calls to webfed. Whatever the page
or the far side sends (a JSON answer nested past the parser's depth, ``NaN``, an oversize
body, nobody listening), each relay answers with its protocol's error, and the demo's
discovery of a provider stops with a message, not a traceback.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.page_server import CLIENT_ID, PAGE_ORIGIN, page_app, post_to_page
from tests.support.ports import free_port
from webfed.demo import Provider, discover_provider
from webfed.demo.errors import DemoError

DEEP = b"[" * 30_000 + b"]" * 30_000  # 60 KB, under every size cap, past the parser's depth
FORM = {
    "grant_type": "authorization_code",
    "code": "c",
    "redirect_uri": f"{PAGE_ORIGIN}/",
    "code_verifier": "v" * 43,
}


@contextlib.contextmanager
def answering(body: bytes) -> Iterator[str]:
    """A loopback HTTP server answering ``body`` (200, JSON) to any GET or POST; its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "answer",
    [DEEP, b'{"id_token": NaN}', b'{"access_token": "a", "expires_in": Infinity}', b"[]"],
    ids=["nested-too-deep", "nan", "infinity", "not-an-object"],
)
def test_a_token_answer_that_is_not_a_json_object_is_a_502(answer: bytes) -> None:
    with answering(answer) as provider:
        app = page_app(token_endpoint=f"{provider}/token", webfed_url="http://127.0.0.1:1")
        reply = post_to_page(app, "/oidc/token", data=FORM)
    assert reply.status_code == 502, reply.text
    assert reply.json()["error"] == "temporarily_unavailable"
    assert reply.headers["cache-control"] == "no-store"


def test_a_token_request_without_a_grant_type_is_an_invalid_request() -> None:
    app = page_app(token_endpoint="http://127.0.0.1:1/token", webfed_url="http://127.0.0.1:1")
    form = {name: value for name, value in FORM.items() if name != "grant_type"}
    reply = post_to_page(app, "/oidc/token", data=form)
    assert reply.status_code == 400
    assert reply.json() == {
        "error": "invalid_request",
        "error_description": "grant_type is missing",
    }


@pytest.mark.parametrize("document", [DEEP, b'{"issuer": NaN}'], ids=["nested-too-deep", "nan"])
def test_a_discovery_document_that_is_not_json_stops_the_demo_with_a_message(
    document: bytes,
) -> None:
    with answering(document) as base, pytest.raises(DemoError) as raised:
        discover_provider(Provider(base, CLIENT_ID, "openid"))
    assert "not a JSON object" in raised.value.message


def test_cognito_identity_calls_are_relayed_and_refused_plainly() -> None:
    target = {"X-Amz-Target": "AWSCognitoIdentityService.GetId"}
    headers = {"Content-Type": "application/x-amz-json-1.1", **target}
    with answering(b'{"IdentityId": "us-east-1:x"}') as webfed:
        app = page_app(token_endpoint="http://127.0.0.1:1/token", webfed_url=webfed)
        relayed = post_to_page(app, "/cognito-identity", content=b"{}", headers=headers)
        assert relayed.status_code == 200 and relayed.json() == {"IdentityId": "us-east-1:x"}
        oversize = post_to_page(app, "/cognito-identity", content=b" " * 300_000, headers=headers)
        elsewhere = post_to_page(
            app,
            "/cognito-identity",
            content=b"{}",
            headers={**headers, "Origin": "http://evil.example"},
        )
    assert elsewhere.status_code == 403 and elsewhere.json()["__type"] == "AccessDeniedException"
    assert oversize.status_code == 413
    assert oversize.json()["__type"] == "RequestEntityTooLarge"
    closed = page_app(
        token_endpoint="http://127.0.0.1:1/token", webfed_url=f"http://127.0.0.1:{free_port()}"
    )
    unreachable = post_to_page(closed, "/cognito-identity", content=b"{}", headers=headers)
    assert unreachable.status_code == 502
    assert unreachable.json()["__type"] == "BadGateway"


def test_the_admin_helper_refuses_bodies_it_cannot_use_before_asking_webfed() -> None:
    """Bounded like the relays: an oversize body is 413 unread; JSON nested past the parser's
    depth, or not JSON, is a 400. None of them reaches webfed (nothing listens there)."""
    app = page_app(token_endpoint="http://127.0.0.1:1/token")
    json_headers = {"Content-Type": "application/json"}
    oversize = post_to_page(
        app,
        "/admin/decode",
        content=b'{"encodedMessage": "' + b"A" * 30_000 + b'"}',
        headers=json_headers,
    )
    assert oversize.status_code == 413
    deep = post_to_page(
        app, "/admin/decode", content=b"[" * 10_000 + b"]" * 10_000, headers=json_headers
    )
    assert deep.status_code == 400
    for content in (b"\xff\xfe", b'"just a string"', b"[]", b"{}"):
        answer = post_to_page(app, "/admin/decode", content=content, headers=json_headers)
        assert answer.status_code == 400, content
        assert answer.json() == {"error": 'send {"encodedMessage": "..."}'}

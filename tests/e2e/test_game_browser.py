"""The game page in a real browser: headless Chromium (Debian's) driven by Playwright.

Two players sign in through the development provider (authorization code + PKCE), each plays,
saves a score and an avatar through the gateways, and is refused the other's data, with the
refusal decoded for the administrator; a guest saves a score but may not upload an avatar.
The demo runs with 60-second identity-pool credentials, which the AWS SDK for JavaScript
refreshes before every call: the test sees the page fetch credentials again, and, once the first
credentials have expired, sees the gateways refuse them while the page goes on with new ones.

Every step is saved as a screenshot in tests/e2e/artifacts/. With WEBFED_E2E_UPDATE_DOCS=1 the
five of the walkthrough are also copied to docs/img/game-*.png (docs/game.md shows them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import ARTIFACTS, REPO, RunningDemo
from tests.support.browser import headless_chromium

DOCS_IMG = REPO / "docs" / "img"
WALKTHROUGH = ("1-signin", "2-playing", "3-saved", "4-denied", "5-guest")
IDENTITY_ID = re.compile(
    r"^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield from headless_chromium()


@dataclass
class Player:
    """One person at one browser: a fresh context (own cookies and storage) and its page."""

    page: Any
    demo: RunningDemo
    credential_requests: list[str] = field(default_factory=list)
    credential_responses: list[Any] = field(default_factory=list)

    def text(self, element_id: str) -> str:
        return str(self.page.locator(f"#{element_id}").inner_text()).strip()

    def wait_text(self, element_id: str, pattern: str) -> None:
        self.page.wait_for_function(
            "([id, pattern]) => new RegExp(pattern).test("
            "document.getElementById(id).textContent.trim())",
            arg=[element_id, pattern],
            timeout=TIMEOUT_MS,
        )

    def shot(self, name: str) -> None:
        path = ARTIFACTS / f"game-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if name in WALKTHROUGH and os.environ.get("WEBFED_E2E_UPDATE_DOCS") == "1":
            shutil.copyfile(path, DOCS_IMG / path.name)


def open_player(browser: Any, demo: RunningDemo) -> Player:
    context = browser.new_context(viewport={"width": 1180, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    player = Player(page, demo)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def count(request: Any) -> None:
        if request.headers.get("x-amz-target", "").endswith(".GetCredentialsForIdentity"):
            player.credential_requests.append(request.url)

    def keep(response: Any) -> None:
        if response.request.headers.get("x-amz-target", "").endswith(".GetCredentialsForIdentity"):
            player.credential_responses.append(response)  # read once the page is idle

    page.on("request", count)
    page.on("response", keep)
    page.goto(demo.url)
    page.locator("#signin-panel").wait_for(state="visible")
    assert not errors, errors
    return player


def sign_in(player: Player, name: str, screenshot: str | None = None) -> str:
    page = player.page
    if screenshot:
        player.shot(screenshot)
    page.click("#sign-in-button")
    page.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    page.fill("#username", name)
    player.shot(f"{name}-provider-sign-in")  # the development provider's own page
    page.click("#sign-in")
    page.locator("#player-panel").wait_for(state="visible")
    player.wait_text("status", "^Playing as ")  # own scores and avatar loaded
    assert player.text("player-name") == name
    assert player.text("role-kind") == "authenticated"
    identity_id = player.text("identity-id")
    assert IDENTITY_ID.match(identity_id), identity_id
    assert "?code=" not in page.url  # the single-use code is dropped from the address
    return identity_id


def play_round(player: Player, screenshot: str | None = None) -> int:
    for tap in range(10):
        player.page.click("#click-target")
        if tap == 4:
            assert player.text("game-state") == "playing"
            if screenshot:
                player.shot(screenshot)
    assert player.text("game-state") == "finished"
    score = int(player.text("game-score"))
    assert 1 <= score <= 1000
    return score


def save_score(player: Player, score: int) -> None:
    rows = f'#scores-list tr[data-score="{score}"]'
    before = player.page.locator(rows).count()  # an earlier round may have had the same score
    player.page.click("#save-score")
    player.page.wait_for_function(
        "([rows, before]) => document.querySelectorAll(rows).length > before",
        arg=[rows, before],
        timeout=TIMEOUT_MS,
    )


def upload_avatar(player: Player) -> None:
    player.page.click("#upload-avatar")
    player.page.locator('#avatar-image[data-loaded="true"]').wait_for(state="attached")
    natural = player.page.eval_on_selector("#avatar-image", "image => image.naturalWidth")
    assert natural == 128  # the canvas's PNG, read back from S3 through the gateway


def refused(player: Player, button: str, code: str) -> None:
    player.page.evaluate("document.getElementById('denial-code').textContent = ''")
    player.page.click(f"#{button}")
    player.wait_text("denial-code", f"^{code}$")
    assert "Encoded authorization failure message: " in player.text("denial-message")


def decode(player: Player) -> dict[str, Any]:
    player.page.click("#decode-button")
    player.wait_text("decoded-reason", r"^\{")
    decoded: dict[str, Any] = json.loads(player.text("decoded-reason"))
    return decoded


def expiration(player: Player) -> datetime:
    return datetime.fromisoformat(player.text("credentials-expiration").replace("Z", "+00:00"))


def test_two_players_each_reach_only_their_own_data(browser: Any, demo: RunningDemo) -> None:
    alice = open_player(browser, demo)
    alice_id = sign_in(alice, "alice", screenshot="1-signin")
    score = play_round(alice, screenshot="2-playing")
    save_score(alice, score)
    upload_avatar(alice)
    alice.shot("3-saved")

    # Credentials last 60 s, inside the SDK's five-minute refresh window: every call fetched
    # new ones (GetId once, GetCredentialsForIdentity again and again).
    left = (expiration(alice) - datetime.now(UTC)).total_seconds()
    assert 0 < left <= 61, left
    fetches = int(alice.text("credentials-fetches"))
    assert fetches >= 3, fetches
    assert len(alice.credential_requests) == fetches

    bob = open_player(browser, demo)
    bob_id = sign_in(bob, "bob")
    assert bob_id != alice_id
    bob_score = play_round(bob)
    save_score(bob, bob_score)
    upload_avatar(bob)
    assert bob.page.locator("#scores-list tr").count() == 1  # bob's own score only
    bob.shot("bob-saved")

    # Bob tries alice's data, alice tries bob's: refused every time, whatever the service.
    for player, other in ((alice, bob_id), (bob, alice_id)):
        player.page.fill("#other-identity", other)
        refused(player, "try-other-avatar", "AccessDenied")
        refused(player, "try-write-outside", "AccessDenied")
        refused(player, "try-other-scores", "AccessDeniedException")
        player.shot(f"{player.text('player-name')}-refused")
    reason = decode(bob)
    assert bob.text("decoded-summary") == f"Why: {reason['reason']}"
    assert "dynamodb:LeadingKeys" in reason["reason"]
    bob.page.locator("#denial-panel").scroll_into_view_if_needed()
    bob.shot("4-denied")
    assert reason["allowed"] is False
    assert reason["context"]["action"] == "dynamodb:Query"
    assert "/GameAuthenticated/" in reason["context"]["principal"]["arn"]
    assert alice_id in json.dumps(reason["context"]["conditions"])  # the key bob asked for

    # Alice's avatar is intact: bob's write under her prefix never reached the upstream.
    alice.page.reload()
    alice.page.locator('#avatar-image[data-loaded="true"]').wait_for(state="attached")
    assert alice.text("identity-id") == alice_id  # the same login, the same identity
    assert alice.page.locator(f'#scores-list tr[data-score="{score}"]').count() == 1
    for player in (alice, bob):
        player.page.context.close()


def test_a_guest_keeps_scores_but_may_not_upload_an_avatar(browser: Any, demo: RunningDemo) -> None:
    guest = open_player(browser, demo)
    # A visitor who cancels at the provider comes back to the choice, told why.
    guest.page.click("#sign-in-button")
    guest.page.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    guest.page.click("#cancel")
    guest.page.locator("#signin-panel").wait_for(state="visible")
    assert guest.page.locator("#status").get_attribute("data-state") == "error"
    assert "access_denied" in guest.text("status")
    guest.shot("guest-cancelled-sign-in")
    guest.page.click("#guest-button")
    guest.page.locator("#player-panel").wait_for(state="visible")
    guest.wait_text("status", "^Playing as guest")
    assert guest.text("role-kind") == "guest"
    assert guest.text("player-name") == "guest"
    assert IDENTITY_ID.match(guest.text("identity-id"))
    score = play_round(guest)
    save_score(guest, score)
    guest.page.click("#upload-avatar")
    guest.wait_text("denial-code", "^AccessDenied$")
    assert guest.page.locator("#status").get_attribute("data-state") == "error"
    reason = decode(guest)
    assert reason["allowed"] is False and reason["context"]["action"] == "s3:PutObject"
    assert "/GameGuest/" in reason["context"]["principal"]["arn"]
    guest.shot("5-guest")
    guest.page.context.close()


def issued_credentials(player: Player) -> list[dict[str, Any]]:
    """Every ``Credentials`` member the page's GetCredentialsForIdentity calls received."""
    return [response.json()["Credentials"] for response in player.credential_responses]


def gateway_client(demo: RunningDemo, service: str, credentials: dict[str, Any]) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{demo.ports[service]}",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 1}, parameter_validation=False
        ),
    )


def test_expired_credentials_are_refused_and_the_page_fetches_new_ones(
    browser: Any, demo: RunningDemo
) -> None:
    carol = open_player(browser, demo)
    carol_id = sign_in(carol, "carol")
    save_score(carol, play_round(carol))
    upload_avatar(carol)
    first = issued_credentials(carol)[0]
    first_expiration = datetime.fromtimestamp(first["Expiration"], UTC)
    s3 = gateway_client(demo, "s3", first)
    dynamodb = gateway_client(demo, "dynamodb", first)
    key = {"Bucket": "game-assets", "Key": f"{carol_id}/avatar.png"}
    assert s3.get_object(**key)["Body"].read()[:8] == b"\x89PNG\r\n\x1a\n"  # still valid

    # Wait out the first credentials (60 s from their issue), then use them again.
    wait = (first_expiration - datetime.now(UTC)).total_seconds() + 1.5
    assert 0 < wait <= 62, wait
    carol.page.wait_for_timeout(wait * 1000)
    with pytest.raises(ClientError) as refused_s3:
        s3.get_object(**key)
    assert refused_s3.value.response["Error"]["Code"] == "ExpiredToken"
    assert refused_s3.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    query = {
        "TableName": "game-scores",
        "KeyConditionExpression": "identityId = :id",
        "ExpressionAttributeValues": {":id": {"S": carol_id}},
    }
    with pytest.raises(ClientError) as refused_dynamodb:
        dynamodb.query(**query)
    assert refused_dynamodb.value.response["Error"]["Code"] == "ExpiredTokenException"

    # The page goes on: the SDK sees its credentials expired and fetches new ones first.
    fetches = int(carol.text("credentials-fetches"))
    score = play_round(carol)
    save_score(carol, score)
    assert int(carol.text("credentials-fetches")) > fetches
    assert expiration(carol) > first_expiration  # the panel shows the new credentials'
    newest = issued_credentials(carol)[-1]
    assert newest["AccessKeyId"] != first["AccessKeyId"]
    assert datetime.fromtimestamp(newest["Expiration"], UTC) > datetime.now(UTC)
    assert gateway_client(demo, "dynamodb", newest).query(**query)["Count"] == 2
    carol.shot("carol-refreshed")
    carol.page.context.close()

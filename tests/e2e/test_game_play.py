"""examples/game/play.py, the command-line twin of the page, against a running ``webfed demo``.

Each run signs in through the development provider's form (code + PKCE), or with an ID token
given on standard input (``--id-token -``), takes identity-pool credentials with boto3, uses
both gateways, and tries another player's data.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import GAME_DIR, RunningDemo


def play(demo: RunningDemo, *args: str) -> dict[str, Any]:
    command = [sys.executable, str(GAME_DIR / "play.py"), "--config-url", demo.config_url]
    result = subprocess.run(
        [*command, "--json", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr + demo.logs()
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.fixture(scope="module")
def alice(demo: RunningDemo) -> dict[str, Any]:
    return play(demo, "--user", "alice-cli", "--score", "870")


def test_a_signed_in_player_saves_a_score_and_an_avatar(alice: dict[str, Any]) -> None:
    assert alice["player"] == "alice-cli"
    region, _, uuid = alice["identityId"].partition(":")
    assert region == "us-east-1" and len(uuid) == 36
    assert alice["avatar"] == {"uploaded": True, "readBack": True}
    assert {"score": 870, "playedAt": alice["saved"]["playedAt"]} in alice["scores"]


def test_the_same_login_finds_the_same_identity_and_its_scores(
    demo: RunningDemo, alice: dict[str, Any]
) -> None:
    again = play(demo, "--user", "alice-cli", "--score", "910")
    assert again["identityId"] == alice["identityId"]
    assert [entry["score"] for entry in again["scores"][:2]] == [910, 870]  # newest first


def test_another_player_is_refused_alice_data_and_the_admin_reads_why(
    demo: RunningDemo, alice: dict[str, Any]
) -> None:
    bob = play(
        demo,
        "--user", "bob-cli",
        "--other", alice["identityId"],
        "--admin-credentials", str(demo.admin_credentials),
    )  # fmt: skip
    assert bob["identityId"] != alice["identityId"]
    assert bob["scores"] == [{"score": 500, "playedAt": bob["saved"]["playedAt"]}]
    expected = {
        "scores": ("AccessDeniedException", 400, "dynamodb:Query"),
        "avatar": ("AccessDenied", 403, "s3:GetObject"),
        "write": ("AccessDenied", 403, "s3:PutObject"),
    }
    for what, (code, status, action) in expected.items():
        outcome = bob["other"][what]
        assert (outcome["code"], outcome["status"]) == (code, status), outcome
        assert outcome["encoded"], outcome
        decoded = outcome["decoded"]
        assert decoded["allowed"] is False
        assert decoded["context"]["action"] == action
        assert decoded["context"]["principal"]["arn"].startswith(
            "arn:aws:sts::000000000000:assumed-role/GameAuthenticated/"
        )
        assert alice["identityId"] in json.dumps(decoded["context"])  # what bob asked for


def test_a_guest_saves_scores_but_may_not_upload_an_avatar(demo: RunningDemo) -> None:
    guest = play(demo, "--guest", "--score", "420")
    assert guest["player"] == "guest"
    assert guest["scores"] == [{"score": 420, "playedAt": guest["saved"]["playedAt"]}]
    assert guest["avatar"]["uploaded"] is False
    assert (guest["avatar"]["code"], guest["avatar"]["status"]) == ("AccessDenied", 403)
    assert all(outcome["code"] for key, outcome in guest["other"].items() if key != "identityId")


def test_without_the_admin_credentials_the_reason_stays_encoded(demo: RunningDemo) -> None:
    carol = play(demo, "--user", "carol-cli")
    outcome = carol["other"]["scores"]
    assert outcome["code"] == "AccessDeniedException" and outcome["encoded"]
    assert "decoded" not in outcome


def test_the_admin_helper_answers_the_page_alone(demo: RunningDemo) -> None:
    carol = play(demo, "--user", "carol-cli")
    encoded = carol["other"]["avatar"]["encoded"]
    helper = f"{demo.url}admin/decode"
    page_origin = demo.url.rstrip("/")
    body = {"encodedMessage": encoded}

    answer = httpx.post(helper, json=body, headers={"Origin": page_origin}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["decodedMessage"]["context"]["action"] == "s3:GetObject"

    foreign = httpx.post(helper, json=body, headers={"Origin": "http://evil.test"}, timeout=10)
    assert foreign.status_code == 403 and "decodedMessage" not in foreign.json()
    rebound = httpx.post(helper, json=body, headers={"Host": "evil.test"}, timeout=10)
    assert rebound.status_code == 403
    form = httpx.post(helper, content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    assert httpx.post(helper, json={"encodedMessage": 7}, timeout=10).status_code == 400
    assert (
        httpx.post(helper, content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    tampered = encoded[:-8] + ("A" if encoded[-8] != "A" else "B") + encoded[-7:]
    refused = httpx.post(helper, json={"encodedMessage": tampered}, timeout=10)
    assert refused.status_code == 400
    assert refused.json() == {"error": "InvalidAuthorizationMessageException"}


def _play_module() -> Any:
    """examples/game/play.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("game_play", GAME_DIR / "play.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_id_token_from_elsewhere_finds_the_same_identity(demo: RunningDemo) -> None:
    dora = play(demo, "--user", "dora-cli")
    config = httpx.get(demo.config_url, timeout=10).json()
    id_token = _play_module().sign_in(config["oidc"], "dora-cli")  # as another program would
    command = [sys.executable, str(GAME_DIR / "play.py"), "--config-url", demo.config_url]
    result = subprocess.run(
        [*command, "--json", "--id-token", "-"],
        input=id_token,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    again = json.loads(result.stdout)
    assert (again["player"], again["identityId"]) == ("dora-cli", dora["identityId"])


def test_a_step_that_cannot_work_is_one_line_and_exit_code_2(
    demo: RunningDemo, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-token"
    command = [sys.executable, str(GAME_DIR / "play.py"), "--config-url", demo.config_url]
    result = subprocess.run(
        [*command, "--id-token", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(missing) in result.stderr

#!/usr/bin/env python3
"""Tap Ten from the command line: the page's twin, with boto3 (and httpx for the sign-in form).

    python examples/game/play.py --user alice --score 870
    python examples/game/play.py --guest --score 420
    python examples/game/play.py --user bob --other "us-east-1:…alice's identity id…" \\
        --admin-credentials demo-data/admin-credentials
    python examples/game/play.py --id-token token.jwt    # demo with --oidc-issuer: see below

It reads the running demo's /config.json (``webfed demo``; --config-url), then does what the
page does:

1. signs in with the OpenID provider: authorization code + PKCE (RFC 7636), filling in the
   development provider's sign-in form as a person would (``--guest``: no sign-in). Another
   provider (``webfed demo --oidc-issuer``) has a sign-in page of its own, which a script
   cannot fill in: sign in elsewhere and pass the ID token with ``--id-token FILE`` (``-``:
   standard input); without it, ``--user`` stops with exit code 2;
2. takes credentials from the identity pool: ``cognito-identity`` GetId, then
   GetCredentialsForIdentity (both unsigned calls, as in AWS);
3. saves the score in DynamoDB (``game-scores``, partition key = the identity id) and uploads a
   generated PNG avatar to ``s3://game-assets/<identity id>/avatar.png``, through the gateways;
4. lists the player's own scores;
5. tries the other player's scores and avatar, and to write under their prefix: each is
   refused (``AccessDenied``) with an encoded authorization message, which it decodes with
   ``sts decode-authorization-message`` when given the administrator's credentials file.

``--json`` prints one JSON document with everything that happened (the tests read it). Exit
code: 0, or 1 when a call on the other player's data was allowed, or 2 when a step that must
work failed.
"""

from __future__ import annotations

import argparse
import base64
import configparser
import hashlib
import json
import re
import secrets
import struct
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import boto3
import httpx
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

# Where the provider would send a browser back; nothing listens there: the code is read from
# the redirect itself. The development provider accepts any loopback redirect URI.
REDIRECT_URI = "http://127.0.0.1/play.py/callback"
ENCODED = re.compile(r"Encoded authorization failure message: (\S+)")
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


class CannotPlay(Exception):
    """A step that must work cannot be done; the message says why (exit code 2)."""


class SignInForm(HTMLParser):
    """The fields of the sign-in page's form: its action and every named input's value."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "textarea" and values.get("name"):
            self._textarea = values["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_in(oidc: dict[str, str], user: str, claims: dict[str, Any] | None = None) -> str:
    """An ID token for ``user``: the authorization code flow with PKCE, form filled in."""
    verifier = _b64url(secrets.token_bytes(32))
    state = _b64url(secrets.token_bytes(16))
    query = {
        "response_type": "code",
        "client_id": oidc["clientId"],
        "redirect_uri": REDIRECT_URI,
        "scope": oidc.get("scope", "openid profile"),
        "state": state,
        "nonce": _b64url(secrets.token_bytes(16)),
        "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
        "code_challenge_method": "S256",
    }
    authorize = f"{oidc['authorizationEndpoint']}?{urlencode(query)}"
    with httpx.Client(timeout=10.0, follow_redirects=False) as http:
        page = http.get(authorize)
        page.raise_for_status()
        form = SignInForm()
        form.feed(page.text)
        form.fields.update(username=user, decision="sign-in")
        if claims:
            form.fields["claims"] = json.dumps(claims)
        answer = http.post(urljoin(authorize, form.action or ""), data=form.fields)
        location = answer.headers.get("location", "")
        if answer.status_code not in (302, 303) or not location.startswith(REDIRECT_URI):
            raise CannotPlay(f"sign-in failed: HTTP {answer.status_code} {answer.text[:300]}")
        returned = parse_qs(urlsplit(location).query)
        if returned.get("state") != [state] or "code" not in returned:
            raise CannotPlay(f"sign-in answer without a code or with another state: {location}")
        tokens = http.post(
            oidc["tokenEndpoint"],
            data={
                "grant_type": "authorization_code",
                "code": returned["code"][0],
                "redirect_uri": REDIRECT_URI,
                "client_id": oidc["clientId"],
                "code_verifier": verifier,
            },
        )
        if tokens.status_code != 200:
            raise CannotPlay(f"token endpoint: HTTP {tokens.status_code} {tokens.text[:300]}")
        return str(tokens.json()["id_token"])


def is_development_provider(config: dict[str, Any]) -> bool:
    """Whether the page signs in with webfed's own development provider (``/dev-idp``)."""
    return bool(config["oidc"]["issuer"] == f"{config['webfedEndpoint']}/dev-idp")


def read_id_token(path: str) -> str:
    """The ID token in ``path`` (``-``: standard input), as the provider issued it."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    token = text.strip()
    if token.count(".") != 2 or any(character.isspace() for character in token):
        raise CannotPlay(f"{path} does not hold one ID token (a JWT: three parts)")
    return token


def player_name(id_token: str) -> str:
    """The name the page shows: preferred_username, else name, else sub (display only)."""
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError as error:
        raise CannotPlay("the ID token's payload is not base64url JSON") from error
    if not isinstance(claims, dict):
        raise CannotPlay("the ID token's payload is not a JSON object")
    return str(claims.get("preferred_username") or claims.get("name") or claims.get("sub"))


def identity_credentials(config: dict[str, Any], logins: dict[str, str]) -> dict[str, Any]:
    """GetId, then GetCredentialsForIdentity: unsigned calls to webfed's Cognito Identity."""
    cognito = boto3.client(
        "cognito-identity",
        endpoint_url=config["webfedEndpoint"],
        region_name=config["region"],
        config=NO_RETRIES.merge(Config(signature_version=UNSIGNED)),
    )
    extra = {"Logins": logins} if logins else {}
    identity_id = cognito.get_id(IdentityPoolId=config["identityPoolId"], **extra)["IdentityId"]
    answer = cognito.get_credentials_for_identity(IdentityId=identity_id, **extra)
    return {"IdentityId": identity_id, **answer["Credentials"]}


def avatar_png(seed: str, size: int = 32) -> bytes:
    """A small PNG: a diagonal gradient in a colour derived from ``seed``."""
    red, green, blue = hashlib.sha256(seed.encode("utf-8")).digest()[:3]
    rows = b"".join(
        b"\x00"
        + b"".join(
            bytes(
                (
                    (red + 4 * (x + y)) % 256,
                    (green + 2 * x) % 256,
                    (blue + 2 * y) % 256,
                )
            )
            for x in range(size)
        )
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Player:
    """One player's session: the clients of both gateways with identity-pool credentials."""

    def __init__(self, config: dict[str, Any], credentials: dict[str, Any]) -> None:
        self.config = config
        self.identity_id: str = credentials["IdentityId"]
        keys = {
            "region_name": config["region"],
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        self.dynamodb = boto3.client(
            "dynamodb", endpoint_url=config["dynamodbEndpoint"], config=NO_RETRIES, **keys
        )
        self.s3 = boto3.client(
            "s3",
            endpoint_url=config["s3Endpoint"],
            config=NO_RETRIES.merge(Config(s3={"addressing_style": "path"})),
            **keys,
        )

    def save_score(self, score: int, name: str, played_at: str) -> None:
        self.dynamodb.put_item(
            TableName=self.config["table"],
            Item={
                "identityId": {"S": self.identity_id},
                "playedAt": {"S": played_at},
                "score": {"N": str(score)},
                "player": {"S": name},
            },
        )

    def scores(self, identity_id: str | None = None) -> list[dict[str, Any]]:
        answer = self.dynamodb.query(
            TableName=self.config["table"],
            KeyConditionExpression="identityId = :id",
            ExpressionAttributeValues={":id": {"S": identity_id or self.identity_id}},
            ScanIndexForward=False,
        )
        return [
            {"playedAt": item["playedAt"]["S"], "score": int(item["score"]["N"])}
            for item in answer["Items"]
        ]

    def avatar_key(self, identity_id: str | None = None) -> str:
        return f"{identity_id or self.identity_id}/avatar.png"

    def upload_avatar(self, png: bytes, identity_id: str | None = None) -> None:
        self.s3.put_object(
            Bucket=self.config["bucket"],
            Key=self.avatar_key(identity_id),
            Body=png,
            ContentType="image/png",
        )

    def avatar(self, identity_id: str | None = None) -> bytes:
        answer = self.s3.get_object(Bucket=self.config["bucket"], Key=self.avatar_key(identity_id))
        return bytes(answer["Body"].read())


def refusal(error: ClientError) -> dict[str, Any]:
    """The code and the encoded authorization message of a refused call."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    found = ENCODED.search(message)
    return {
        "code": error.response.get("Error", {}).get("Code"),
        "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        "encoded": found.group(1) if found else None,
    }


def admin_decoder(config: dict[str, Any], path: Path) -> Any:
    """``sts decode-authorization-message`` with the administrator's credentials file."""
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")
    section = parser["webfed"]
    sts = boto3.client(
        "sts",
        endpoint_url=config["webfedEndpoint"],
        region_name=config["region"],
        aws_access_key_id=section["aws_access_key_id"],
        aws_secret_access_key=section["aws_secret_access_key"],
        config=NO_RETRIES,
    )

    def decode(encoded: str) -> Any:
        answer = sts.decode_authorization_message(EncodedMessage=encoded)
        return json.loads(answer["DecodedMessage"])

    return decode


def attempt(action: Any, decode: Any) -> dict[str, Any]:
    """Runs a call the policies must refuse; what the refusal said (and meant)."""
    try:
        action()
    except ClientError as error:
        outcome = refusal(error)
        if decode is not None and outcome["encoded"]:
            outcome["decoded"] = decode(outcome["encoded"])
        return outcome
    return {"code": None, "allowed": True}


def play(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = httpx.get(args.config_url, timeout=10.0).raise_for_status().json()
    result: dict[str, Any] = {"player": "guest" if args.guest else args.user}
    logins: dict[str, str] = {}
    if args.id_token is not None:
        id_token = read_id_token(args.id_token)
        result["player"] = player_name(id_token)
        logins = {config["oidc"]["loginKey"]: id_token}
    elif not args.guest:
        if not is_development_provider(config):
            raise CannotPlay(
                f"the demo signs in with {config['oidc']['issuer']}, whose sign-in page "
                "a script cannot fill in: sign in there and pass the ID token with --id-token FILE"
            )
        id_token = sign_in(config["oidc"], args.user)
        logins = {config["oidc"]["loginKey"]: id_token}
    credentials = identity_credentials(config, logins)
    player = Player(config, credentials)
    result["identityId"] = player.identity_id
    result["expiration"] = credentials["Expiration"].isoformat()
    played_at = args.played_at
    player.save_score(args.score, result["player"], played_at)
    result["saved"] = {"score": args.score, "playedAt": played_at}
    png = avatar_png(player.identity_id)
    try:
        player.upload_avatar(png)
        result["avatar"] = {"uploaded": True, "readBack": player.avatar() == png}
    except ClientError as error:
        result["avatar"] = {"uploaded": False, **refusal(error)}
    result["scores"] = player.scores()
    decode = admin_decoder(config, args.admin_credentials) if args.admin_credentials else None
    other = args.other
    result["other"] = {
        "identityId": other,
        "scores": attempt(lambda: player.scores(other), decode),
        "avatar": attempt(lambda: player.avatar(other), decode),
        "write": attempt(lambda: player.upload_avatar(png, other), decode),
    }
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"player      {result['player']}")
    print(f"identity    {result['identityId']} (credentials until {result['expiration']})")
    print(f"saved       score {result['saved']['score']} at {result['saved']['playedAt']}")
    avatar = result["avatar"]
    if avatar["uploaded"]:
        print(f"avatar      uploaded, read back {'intact' if avatar['readBack'] else 'CHANGED'}")
    else:
        print(f"avatar      refused: {avatar['code']} (this role may not upload avatars)")
    print("scores      " + ", ".join(f"{s['score']} ({s['playedAt']})" for s in result["scores"]))
    for what, outcome in result["other"].items():
        if what == "identityId":
            continue
        print(f"other's {what:<7} {outcome['code'] or 'ALLOWED (unexpected)'}")
        if "decoded" in outcome:
            print("  decoded for the administrator: " + json.dumps(outcome["decoded"]))
        elif outcome.get("encoded"):
            print(f"  encoded message: {outcome['encoded'][:60]}…")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="sign in with the OpenID provider as this user")
    who.add_argument("--guest", action="store_true", help="play as a guest (no sign-in)")
    who.add_argument(
        "--id-token",
        metavar="FILE",
        help="sign in with this ID token of the demo's provider (- : standard input)",
    )
    parser.add_argument("--score", type=int, default=500, help="the score to save")
    parser.add_argument(
        "--played-at",
        default=None,
        help="the score's sort key (default: now, ISO 8601)",
    )
    parser.add_argument(
        "--other",
        default="us-east-1:00000000-0000-4000-8000-000000000000",
        help="another player's identity id, whose data must stay out of reach",
    )
    parser.add_argument(
        "--admin-credentials",
        type=Path,
        help="the administrator's credentials file (DATA_DIR/admin-credentials) to decode refusals",
    )
    parser.add_argument("--config-url", default="http://127.0.0.1:8710/config.json")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.played_at is None:
        from datetime import UTC, datetime

        # The page's spelling (JavaScript's toISOString), so that both sort together.
        args.played_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    try:
        result = play(args)
    except (ClientError, httpx.HTTPError, CannotPlay, OSError) as error:
        # A step that must work did not (webfed or the demo down, the pool misconfigured...).
        print(f"play.py: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print(result)
    refused = all(
        outcome.get("code") is not None
        for what, outcome in result["other"].items()
        if what != "identityId"
    )
    return 0 if refused else 1


if __name__ == "__main__":
    sys.exit(main())

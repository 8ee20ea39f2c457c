"""The reference pages match the code: operations, condition keys, settings and flags.

``docs/reference/operations.md`` and ``docs/reference/condition-keys.md`` are hand-written for
readers, so this file derives, from the handler tables and the gateway mappers, what webfed
actually serves and the keys it sets, and compares them with the pages: an operation or a key
added or removed in the code fails here until the page says so. Likewise the settings table of
``docs/configuration.md`` against :class:`webfed.settings.Settings` and ``webfed serve``'s
flags, and every ``webfed <command> --flag`` written anywhere in docs/ against the command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import botocore.session
import click
import pytest

from webfed.api import cognito_identity, iam, sts
from webfed.api.cognito_identity.exchange import _trust_keys as pool_trust_keys
from webfed.api.context import Auth, OperationTable
from webfed.api.sts.denials import _request_context as trust_request_context
from webfed.api.sts.web_identity import trust_context
from webfed.authorize import RequestFacts, session_context_keys, session_principal
from webfed.authorize import _request_keys as request_keys
from webfed.cli import main
from webfed.core.credentials import SessionContext, WebIdentity
from webfed.core.oidc.json_values import parse_json_object
from webfed.core.oidc.result import ValidatedToken
from webfed.core.oidc.session_claims import SessionClaims
from webfed.core.policy.principals import WebIdentityPrincipal
from webfed.core.policy.request import principal_context
from webfed.errors import WebfedError
from webfed.gateway.checks import AccessCheck
from webfed.gateway.dynamodb import (
    TARGET_PREFIX,
    DynamoDBRequest,
    KeySchema,
    map_dynamodb_request,
    operation_of,
)
from webfed.gateway.s3 import ROUTES, Level, S3Request, S3Route, map_s3_request
from webfed.gateway.s3_headers import HEADER_KEYS
from webfed.settings import Settings

REPO = Path(__file__).resolve().parent.parent
OPERATIONS_PAGE = REPO / "docs" / "reference" / "operations.md"
CONDITION_KEYS_PAGE = REPO / "docs" / "reference" / "condition-keys.md"
CONFIGURATION_PAGE = REPO / "docs" / "configuration.md"

# How the page words each level of ``Auth``.
AUTH_WORDS = {Auth.NONE: "unsigned", Auth.SIGNED: "any credentials", Auth.ADMIN: "administrator"}

# A table row whose first cell is one back-quoted name: "| `GetId` | unsigned | ... |".
ROW = re.compile(r"^\|\s*`(?P<name>[A-Za-z0-9]+)`\s*\|(?P<rest>.*)$")


def _section(heading: str, page: Path = OPERATIONS_PAGE, level: int = 2) -> str:
    """The text of the page's ``## heading`` section (``###`` for level 3), up to the next
    heading of that level or above."""
    text = page.read_text(encoding="utf-8")
    hashes = "#" * level
    pattern = rf"^{hashes} {re.escape(heading)}\n(.*?)(?=^#{{1,{level}}} |\Z)"
    match = re.search(pattern, text, re.M | re.S)
    assert match is not None, f"{page.name} has no '{hashes} {heading}' section"
    return match.group(1)


def _rows(heading: str) -> dict[str, list[str]]:
    """Each table row of a section: its back-quoted name to its other cells."""
    rows: dict[str, list[str]] = {}
    for line in _section(heading).splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        name = match["name"]
        assert name not in rows, f"{heading}: {name} is listed twice"
        rows[name] = [cell.strip() for cell in match["rest"].rstrip("|").split("|")]
    return rows


@pytest.mark.parametrize(
    ("heading", "table"),
    [
        ("STS", sts.OPERATIONS),
        ("IAM", iam.OPERATIONS),
        ("Cognito Identity", cognito_identity.OPERATIONS),
    ],
    ids=["sts", "iam", "cognito-identity"],
)
def test_api_operations_and_who_may_call_them(heading: str, table: OperationTable) -> None:
    rows = _rows(heading)
    assert sorted(rows) == sorted(table), f"{heading}: the page and the handler table differ"
    for name, operation in table.items():
        assert rows[name][0] == AUTH_WORDS[operation.auth], f"{heading}: {name}"


def _route_requests(route: S3Route) -> Iterator[S3Request]:
    """Requests that reach ``route``: plain, as a V2 listing, and as a copy (where S3 has one)."""
    bucket = None if route.level is Level.SERVICE else "bucket"
    key = "key" if route.level is Level.OBJECT else None
    query = {route.subresource: "id"} if route.subresource else {}
    yield S3Request(route.method, bucket, key, query, {})
    yield S3Request(route.method, bucket, key, {**query, "list-type": "2"}, {})
    yield S3Request(route.method, bucket, key, query, {"x-amz-copy-source": "/source/object"})


def test_s3_gateway_operations_and_their_actions() -> None:
    """Every operation name the mapper can produce is listed, with the route's actions."""
    served = {
        map_s3_request(request).name for route in ROUTES for request in _route_requests(route)
    }
    rows = _rows("S3 gateway")
    assert sorted(rows) == sorted(served), "S3 gateway: the page and webfed.gateway.s3 differ"
    for route in ROUTES:
        actions, versioned = rows[route.operation][1], rows[route.operation][2]
        assert re.findall(r"`([^`]+)`", actions) == list(route.actions), route.operation
        assert re.findall(r"`([^`]+)`", versioned) == list(route.version_actions or ()), (
            route.operation
        )


def _dynamodb_operations_served() -> set[str]:
    """The operations of botocore's DynamoDB model that the gateway's mapper accepts."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    served = set()
    for name in model.operation_names:
        try:
            operation_of(TARGET_PREFIX + name)
        except WebfedError:
            continue
        served.add(name)
    return served


def test_dynamodb_gateway_operations() -> None:
    served = _dynamodb_operations_served()
    assert "ExecuteStatement" not in served  # PartiQL stays refused, as the page says
    assert sorted(_rows("DynamoDB gateway")) == sorted(served)


def _documented_keys(heading: str) -> set[str]:
    """The back-quoted condition keys of a section of the condition-keys page."""
    return set(
        re.findall(r"`([a-z0-9-]+:[A-Za-z0-9/<>_-]+)`", _section(heading, CONDITION_KEYS_PAGE))
    )


def _keys_of(checks: tuple[AccessCheck, ...]) -> set[str]:
    """The condition keys of some checks, a tag key spelled as the page does (``/<key>``)."""
    return {re.sub(r"/.*$", "/<key>", key) for check in checks for key in check.context}


def test_s3_condition_keys_are_documented() -> None:
    """Every key the S3 mapper sets: listing, version, every header it reads, request tags."""
    headers = {header: "value" for header, _ in HEADER_KEYS}
    headers |= {"x-amz-copy-source": "/source/object?versionId=1", "x-amz-tagging": "team=red"}
    requests = [
        S3Request("PUT", "bucket", "key", {}, headers),
        S3Request("GET", "bucket", None, {"prefix": "p/", "delimiter": "/", "max-keys": "5"}, {}),
        S3Request("GET", "bucket", "key", {"versionId": "1"}, {}),
    ]
    produced = set().union(*(_keys_of(map_s3_request(request).checks) for request in requests))
    assert len(produced) > len(HEADER_KEYS)  # the requests above reached the mapper's keys
    assert produced <= _documented_keys("S3 gateway")


def _exchanged_token(issuer: str) -> ValidatedToken:
    """A token as validation leaves it: two audiences with ``azp``, ``amr``, session tags, a
    source identity, and claims beyond the standard ones (a list, a number, an object)."""
    claims = parse_json_object(
        b'{"iss": "%s", "sub": "user-1", "aud": ["app", "other"], "azp": "app", "amr": ["pwd"],'
        b' "exp": 2000000000, "groups": ["players"], "age": 30, "address": {"country": "FR"}}'
        % issuer.encode()
    )
    return ValidatedToken(
        issuer=issuer, subject="user-1", audience="app", audiences=("app", "other"),
        authorized_party="app", amr=("pwd",), issued_at=None, expires_at=2_000_000_000,
        not_before=None, claims=claims,
        session=SessionClaims({"team": "red"}, ("team",), "alice"),
        key_id=None, algorithm="RS256", fingerprint="0" * 16,
    )  # fmt: skip


def _trust_policy_keys(issuer: str, prefix: str) -> set[str]:
    """The keys a trust policy sees on AssumeRoleWithWebIdentity, spelled as the page does."""
    keys = trust_context(_exchanged_token(issuer), "session", "192.0.2.1")
    # What the trust evaluation sees: the principal's keys, the time keys, then those above.
    context = trust_request_context(WebIdentityPrincipal(prefix), keys, datetime.now(UTC))
    standard = {"aud", "sub", "amr", "azp", "oaud"}
    spelled = set()
    for key in context:
        if key.startswith(f"{prefix}:"):
            claim = key.removeprefix(f"{prefix}:")
            if prefix == "accounts.google.com" and claim in ("aud", "oaud"):
                spelled.add(key)
            else:
                spelled.add(f"<p>:{claim}" if claim in standard else "<p>:<claim>")
        else:
            spelled.add(re.sub(r"/.*$", "/<key>", key))
    return spelled


def _documented_names(heading: str) -> set[str]:
    """Every back-quoted key of a section's table rows (first cell), lowercased."""
    names = set()
    for line in _section(heading, CONDITION_KEYS_PAGE).splitlines():
        if line.startswith("| `"):
            names.update(name.lower() for name in re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def test_trust_policy_keys_of_the_exchange_are_documented() -> None:
    """What STS puts in a trust evaluation, for Google and any other issuer, is on the page."""
    produced = _trust_policy_keys("https://accounts.google.com", "accounts.google.com")
    produced |= _trust_policy_keys("https://idp.example.com/realms/r", "idp.example.com/realms/r")
    documented = _documented_names("Trust policies: `AssumeRoleWithWebIdentity`")
    assert {key.lower() for key in produced} == documented


def test_trust_policy_keys_of_identity_pools_are_documented() -> None:
    """What GetCredentialsForIdentity puts in a trust evaluation (the pool's tags included)."""
    pool = "cognito-identity.amazonaws.com"
    keys = pool_trust_keys(
        SimpleNamespace(source_ip="192.0.2.1"),
        SimpleNamespace(pool_id="us-east-1:00000000-0000-4000-8000-000000000001"),
        SimpleNamespace(identity_id="us-east-1:00000000-0000-4000-8000-000000000002"),
        ["authenticated", "accounts.google.com"],
        {"team": "red"},
    )
    context = trust_request_context(WebIdentityPrincipal(pool), keys, datetime.now(UTC))
    produced = {re.sub(r"/.*$", "/<key>", key) for key in context}
    assert produced == _documented_names("Trust policies: identity pools")


def test_keys_of_every_signed_request_are_documented() -> None:
    """A web identity session's keys on a signed request (tags and source identity included)."""
    now = datetime.now(UTC).replace(microsecond=0)
    session = SessionContext(
        account_id="000000000000", role_arn="arn:aws:iam::000000000000:role/Player",
        role_id="AROAEXAMPLEEXAMPLE01", role_name="Player", session_name="player-1",
        issued_at=now, expires_at=now + timedelta(hours=1), session_tags=(("team", "red"),),
        source_identity="alice",
        web_identity=WebIdentity("idp.example.com", "app", "user-1", ("pwd",), id="7",
                                 federated_provider="arn:aws:iam::000000000000:oidc-provider/idp.example.com"),
    )  # fmt: skip
    keys = principal_context(session_principal(session))
    keys |= session_context_keys(session, (), source_ip="192.0.2.1")
    keys |= request_keys(RequestFacts(now, "192.0.2.1", True, "us-east-1"), None)
    produced = {re.sub(r"/.*$", "/<key>", key.replace("idp.example.com:", "<p>:")) for key in keys}
    assert {key.lower() for key in produced} == _documented_names("Every signed request")


def test_dynamodb_condition_keys_are_documented() -> None:
    schemas = {"scores": KeySchema("identityId")}
    value = {"S": "us-east-1:0000"}
    bodies = {
        "Query": {
            "TableName": "scores",
            "KeyConditionExpression": "identityId = :id",
            "ExpressionAttributeValues": {":id": value},
            "Select": "SPECIFIC_ATTRIBUTES",
            "ProjectionExpression": "score",
        },
        "PutItem": {
            "TableName": "scores",
            "Item": {"identityId": value},
            "ReturnValues": "ALL_OLD",
        },
    }
    produced: set[str] = set()
    for operation, body in bodies.items():
        request = DynamoDBRequest(operation, body, "us-east-1", "000000000000")
        produced |= _keys_of(map_dynamodb_request(request, schemas))
    assert len(produced) == 4  # LeadingKeys, Attributes, Select, ReturnValues
    assert produced <= _documented_keys("DynamoDB gateway")


# A settings row: "| `port` | `--port` | `8700` | the port to listen on |".
SETTINGS_ROW = re.compile(r"^\|\s*`(?P<name>[a-z0-9_]+)`\s*\|(?P<rest>.*)$")


def _settings_rows() -> dict[str, tuple[list[str], str]]:
    """The settings table of configuration.md: each setting to (its flags, its default cell)."""
    rows: dict[str, tuple[list[str], str]] = {}
    for line in _section("`settings:`", CONFIGURATION_PAGE, level=3).splitlines():
        match = SETTINGS_ROW.match(line)
        if match is None:
            continue
        cells = [cell.strip() for cell in match["rest"].rstrip("|").split("|")]
        assert match["name"] not in rows, f"settings: {match['name']} is listed twice"
        rows[match["name"]] = (re.findall(r"`(--[a-z-]+)`", cells[0]), cells[1])
    return rows


def _spelled(value: object) -> str:
    """A default as the page writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_in_the_configuration_reference_with_its_default() -> None:
    rows = _settings_rows()
    assert sorted(rows) == sorted(Settings.model_fields), "configuration.md and Settings differ"
    for name, field in Settings.model_fields.items():
        default, cell = field.default, rows[name][1]
        if default is None:
            assert not cell.startswith("`"), f"{name}: no default in the code, {cell} on the page"
        elif default == "":
            assert cell.startswith("empty"), f"{name}: {cell}"
        else:
            written = re.match(r"`([^`]*)`", cell)
            assert written is not None, f"{name}: {cell}"
            if isinstance(default, Path):
                assert Path(written[1]) == default, name
            else:
                assert written[1] == _spelled(default), f"{name}: {written[1]} != {default!r}"


def test_the_settings_flags_are_webfed_serves() -> None:
    """Each flag on the page is ``webfed serve``'s for that setting, and every flag is there."""
    serve = main.commands["serve"]
    flags_of = {
        parameter.name: list(parameter.opts)
        for parameter in serve.params
        if isinstance(parameter, click.Option) and parameter.name != "help"
    }
    documented = {name: flags for name, (flags, _) in _settings_rows().items() if flags}
    assert flags_of == documented


# "webfed" then up to two subcommand words and the rest of the line, in prose or code; a
# backslash-continued shell line is joined first. A table cell ends at "|".
COMMAND_LINE = re.compile(r"(?:^|[\s`(/])webfed ((?:[a-z][a-z0-9-]*\s+){0,2}[^`\n|]*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _command_of(words: list[str]) -> tuple[click.Command, list[str]]:
    """The deepest ``webfed`` subcommand the words name, and those words."""
    command: click.Command = main
    path: list[str] = []
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return command, path


def test_command_lines_in_the_docs_use_real_flags() -> None:
    """Every ``--flag`` after ``webfed <command>`` anywhere in docs/ is one that command has."""
    checked, unknown = 0, []
    for page in sorted((REPO / "docs").rglob("*.md")):
        if "vendor" in page.relative_to(REPO / "docs").parts:
            continue
        text = re.sub(r"\\\n\s*", " ", page.read_text(encoding="utf-8"))
        for match in COMMAND_LINE.finditer(text):
            command, path = _command_of(match[1].split())
            if not path:
                continue
            known = {"--help"}.union(*(p.opts + p.secondary_opts for p in command.params))
            for flag in FLAG.findall(match[1]):
                checked += 1
                if flag not in known:
                    unknown.append(f"{page.name}: webfed {' '.join(path)} {flag}")
    assert checked > 50  # the pattern still finds the docs' command lines
    assert not unknown, unknown

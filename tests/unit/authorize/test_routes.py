"""Route tables: patterns, templates, the fallback, the file format, ambiguous paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.asgi.routes import RouteRule, RouteTable, load_route_table, route_table_from_data

TABLE = RouteTable(
    (
        RouteRule("GET", "/games/{game}", "games:Get", "arn:aws:games:{region}:{account}:g/{game}"),
        RouteRule(
            "*",
            "/files/{key+}",
            "files:{method}",
            "arn:aws:files:::{key}",
            context={"files:Agent": "{header.user-agent}", "files:Tag": "{query.tag}"},
        ),
    ),
    api="a1b2c3",
)


def resolve(method: str, path: str, query: str = "", table: RouteTable = TABLE) -> object:
    headers = {"user-agent": "game/1.0"}
    return table.resolve(method, path, query, headers, region="eu-west-1", account="123456789012")


@pytest.mark.parametrize(
    ("method", "path", "query", "action", "resource", "context"),
    [
        (
            "GET",
            "/games/chess",
            "",
            "games:Get",
            "arn:aws:games:eu-west-1:123456789012:g/chess",
            {},
        ),
        (
            "PUT",
            "/files/a/b/c.txt",
            "tag=x",
            "files:PUT",
            "arn:aws:files:::a/b/c.txt",
            {"files:Agent": "game/1.0", "files:Tag": "x"},
        ),
        (
            "GET",
            "/files/%C3%A9t%C3%A9",
            "",
            "files:GET",
            "arn:aws:files:::été",
            {"files:Agent": "game/1.0"},
        ),
        (
            "DELETE",
            "/games/chess",
            "",
            "execute-api:Invoke",
            "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/DELETE/games/chess",
            {},
        ),
    ],
    ids=["segment", "greedy-and-context", "decoded", "fallback"],
)
def test_resolve(
    method: str, path: str, query: str, action: str, resource: str, context: dict[str, str]
) -> None:
    route = resolve(method, path, query)
    assert route is not None
    assert (route.action, route.resource, dict(route.context)) == (action, resource, context)  # type: ignore[attr-defined]


def test_without_fallback_unknown_routes_are_refused() -> None:
    strict = RouteTable(TABLE.rules, fallback=False)
    assert resolve("DELETE", "/games/chess", table=strict) is None
    assert resolve("GET", "/games/chess/extra", table=strict) is None


def test_a_missing_resource_placeholder_refuses() -> None:
    table = RouteTable((RouteRule("GET", "/x", "x:Get", "arn:aws:x:::{query.id}"),), fallback=False)
    assert resolve("GET", "/x", table=table) is None
    assert resolve("GET", "/x", "id=7", table=table) is not None


@pytest.mark.parametrize(
    ("method", "path", "problem"),
    [("BREW", "/x", "method"), ("GET", "x", "starts with")],
    ids=["bad-method", "relative-path"],
)
def test_rule_validation(method: str, path: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        RouteRule(method, path, "a:B", "*")


def test_file_format(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(
        "api: games-api\n"
        "service: games\n"
        "fallback: false\n"
        "routes:\n"
        "  - method: GET\n"
        "    path: /games/{game}/scores\n"
        "    action: games:GetScores\n"
        "    resource: arn:aws:games:{region}:{account}:game/{game}\n"
        "    context:\n"
        "      games:Limit: '{query.limit}'\n",
        encoding="utf-8",
    )
    table = load_route_table(path)
    assert (table.api, table.service, table.fallback) == ("games-api", "games", False)
    route = resolve("GET", "/games/go/scores", "limit=3", table=table)
    assert route is not None
    assert route.context == {"games:Limit": "3"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "mapping"),
        ({"routez": []}, "unknown"),
        ({"routes": {}}, "list"),
        ({"routes": [{"method": "GET"}]}, "lacks"),
        (
            {
                "routes": [
                    {
                        "method": "GET",
                        "path": "/",
                        "action": "a",
                        "resource": "r",
                        "context": {"k": 1},
                    }
                ]
            },
            "templates",
        ),
    ],
    ids=["not-mapping", "unknown-field", "routes-not-list", "missing-fields", "bad-context"],
)
def test_file_format_errors(data: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        route_table_from_data(data)


_SEGMENT = st.text(alphabet="abcXYZ019-_~", min_size=1, max_size=8)
_TRICK = st.sampled_from([".", "..", "%2e%2e", "%2E.", "", "a%2Fb", "a%5cb", "a\\b"])


@settings(max_examples=100, deadline=None)
@given(
    before=st.lists(_SEGMENT, max_size=3),
    trick=_TRICK,
    after=st.lists(_SEGMENT, min_size=1, max_size=3),
)
def test_ambiguous_paths_resolve_to_nothing(
    before: list[str], trick: str, after: list[str]
) -> None:
    path = "/" + "/".join([*before, trick, *after])
    assert resolve("GET", path) is None


@settings(max_examples=100, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=5))
def test_plain_paths_always_resolve(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    route = resolve("GET", path)
    assert route is not None
    assert route.resource.endswith(path) or route.resource.endswith(path.split("/", 2)[-1])  # type: ignore[attr-defined]

"""Route tables: which IAM action and resource ARN a plain HTTP request stands for.

A team's API is not an AWS service, so webfed cannot know that ``GET /games/7/scores`` means
"read the scores of game 7". A :class:`RouteTable` says so, as data: an HTTP method and a path
pattern map to an action (``games:GetScores``), a resource ARN template
(``arn:aws:games:{region}:{account}:game/{game}``) and, optionally, service condition keys.
Anything the table does not name falls back to API Gateway's model, ``execute-api:Invoke`` on
``arn:aws:execute-api:REGION:ACCOUNT:API/METHOD/PATH`` (API Gateway Developer Guide, "Resource
format of permissions for executing API"), unless the fallback is turned off, in which case the
request is refused.

Path patterns: ``{name}`` matches one path segment, ``{name+}`` the rest of the path (at least
one character, slashes included); everything else is literal. Templates may use the path
parameters and ``{region}``, ``{account}``, ``{api}``, ``{method}``, ``{path}`` (without the
leading slash), ``{query.NAME}`` and ``{header.NAME}``. A value that is not present makes a
context key absent and a resource template fail (the request is refused).

Requests whose path holds ``.`` or ``..`` segments, empty segments or a percent-encoded slash
match nothing: a path that means two things to two parsers is not authorized.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import yaml

__all__ = [
    "ContextExtractor",
    "ResolvedRoute",
    "RouteMatch",
    "RouteRule",
    "RouteTable",
    "load_route_table",
    "route_table_from_data",
]

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"})


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One request seen through a matching rule: the values templates and extractors read."""

    method: str
    path: str  # percent-decoded
    params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    region: str
    account: str
    api: str

    def lookup(self, name: str) -> str | None:
        """The value of a template placeholder, or ``None`` when the request has none."""
        if name in self.params:
            return self.params[name]
        builtin = {
            "region": self.region,
            "account": self.account,
            "api": self.api,
            "method": self.method,
            "path": self.path.lstrip("/"),
        }
        if name in builtin:
            return builtin[name]
        kind, _, key = name.partition(".")
        if kind == "query":
            return self.query.get(key)
        if kind == "header":
            return self.headers.get(key.lower())
        return None


ContextExtractor = Callable[[RouteMatch], str | Sequence[str] | None]


@dataclass(frozen=True, slots=True)
class RouteRule:
    """``method`` + ``path`` pattern → ``action`` on ``resource`` (a template), plus keys.

    ``context`` maps a condition key to a template string or a function of the match.
    """

    method: str
    path: str
    action: str
    resource: str
    context: Mapping[str, str | ContextExtractor] = field(default_factory=dict)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method.upper() not in _METHODS:
            raise ValueError(f"unsupported method {self.method!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"a path pattern starts with '/': {self.path!r}")
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "_pattern", _compile(self.path))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("*", method):
            return None
        found = self._pattern.fullmatch(path)
        return None if found is None else found.groupdict()


def _compile(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for found in _PARAMETER.finditer(pattern):
        parts.append(re.escape(pattern[position : found.start()]))
        name, greedy = found.groups()
        parts.append(f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)")
        position = found.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts))


@dataclass(frozen=True, slots=True)
class ResolvedRoute:
    """The action, resource and service keys a request stands for."""

    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Rules tried in order; then the ``execute-api:Invoke`` fallback (if ``fallback``)."""

    rules: tuple[RouteRule, ...] = ()
    api: str = "api"
    fallback: bool = True
    service: str = "execute-api"  # the SigV4 signing name callers use for this API

    def resolve(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, str],
        *,
        region: str,
        account: str,
    ) -> ResolvedRoute | None:
        """The route for a request, or ``None`` when nothing (not even the fallback) applies."""
        path = _safe_path(raw_path)
        if path is None:
            return None
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        for rule in self.rules:
            params = rule.match(method, path)
            if params is None:
                continue
            seen = RouteMatch(method, path, params, query, headers, region, account, self.api)
            return _resolve(rule, seen)
        if not self.fallback:
            return None
        resource = f"arn:aws:execute-api:{region}:{account}:{self.api}/{method}{path}"
        return ResolvedRoute("execute-api:Invoke", resource, {})


def _safe_path(raw_path: str) -> str | None:
    """The decoded path, or ``None`` for one that parsers could read differently."""
    if "%2f" in raw_path.lower() or "%5c" in raw_path.lower() or "\\" in raw_path:
        return None
    path = unquote(raw_path)
    segments = path.split("/")[1:]
    if not path.startswith("/") or any(s in (".", "..") for s in segments):
        return None
    if any(not segment for segment in segments[:-1]):
        return None  # "//": an empty segment in the middle
    return path


def _resolve(rule: RouteRule, seen: RouteMatch) -> ResolvedRoute | None:
    resource = _fill(rule.resource, seen)
    if resource is None:
        return None
    context: dict[str, str | tuple[str, ...]] = {}
    for key, source in rule.context.items():
        value = _fill(source, seen) if isinstance(source, str) else source(seen)
        if value is None:
            continue
        context[key] = value if isinstance(value, str) else tuple(value)
    return ResolvedRoute(_fill(rule.action, seen) or rule.action, resource, context)


def _fill(template: str, seen: RouteMatch) -> str | None:
    missing = False

    def value(found: re.Match[str]) -> str:
        nonlocal missing
        text = seen.lookup(found.group(1))
        if text is None:
            missing = True
            return ""
        return text

    filled = _PLACEHOLDER.sub(value, template)
    return None if missing else filled


# --- the file format --------------------------------------------------------------------------


def load_route_table(path: Path) -> RouteTable:
    """Read a route table from YAML (or JSON, a subset of YAML); see ``docs/authorization.md``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return route_table_from_data(document if document is not None else {})


def route_table_from_data(data: Any) -> RouteTable:
    if not isinstance(data, dict):
        raise ValueError("a route table is a mapping with 'routes'")
    unknown = set(data) - {"api", "fallback", "routes", "service"}
    if unknown:
        raise ValueError(f"unknown route table fields: {sorted(unknown)}")
    routes = data.get("routes", [])
    if routes is None:
        routes = []
    if not isinstance(routes, list):
        raise ValueError("'routes' is a list")
    return RouteTable(
        rules=tuple(_rule_from_data(item, index) for index, item in enumerate(routes)),
        api=str(data.get("api", "api")),
        fallback=bool(data.get("fallback", True)),
        service=str(data.get("service", "execute-api")),
    )


def _rule_from_data(item: Any, index: int) -> RouteRule:
    if not isinstance(item, dict):
        raise ValueError(f"routes[{index}] is a mapping")
    missing = {"method", "path", "action", "resource"} - set(item)
    if missing:
        raise ValueError(f"routes[{index}] lacks {sorted(missing)}")
    context = item.get("context") or {}
    if not isinstance(context, dict) or not all(isinstance(v, str) for v in context.values()):
        raise ValueError(f"routes[{index}].context maps condition keys to templates")
    return RouteRule(
        method=str(item["method"]),
        path=str(item["path"]),
        action=str(item["action"]),
        resource=str(item["resource"]),
        context={str(key): value for key, value in context.items()},
    )

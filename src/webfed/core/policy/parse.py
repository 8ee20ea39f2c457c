"""Parse and validate a policy document, once, into a frozen :class:`Policy`.

IAM User Guide, "IAM JSON policy grammar" and "IAM JSON policy element reference": a policy is
``{Version?, Id?, Statement}``; ``Statement`` is one object or a list; a statement has ``Sid?``,
``Effect``, ``Principal``/``NotPrincipal`` (required in trust and resource policies, forbidden
elsewhere), ``Action``/``NotAction``, ``Resource``/``NotResource`` (forbidden in a role's trust
policy, required elsewhere) and ``Condition?``. Version ``2012-10-17`` enables policy variables;
with ``2008-10-17`` or no ``Version``, ``${...}`` is literal text.

:func:`find_problems` reports every statement's first problem (for people: the CLI); the
functions others call, :func:`parse_policy`, raise the first one as ``MalformedPolicyDocument``.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from webfed.core.policy.document import JsonValue, Problem, ProblemError, load_json
from webfed.core.policy.elements import (
    compile_actions,
    compile_conditions,
    compile_principal,
    compile_resources,
)
from webfed.core.policy.model import DOCUMENT_MAX_CHARACTERS, Effect, Policy, PolicyKind, Statement
from webfed.errors import MalformedPolicyDocument

__all__ = ["VERSIONS", "find_problems", "parse_policy"]

VERSIONS = ("2012-10-17", "2008-10-17")
_VARIABLES_VERSION = "2012-10-17"
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_SID = re.compile(r"[A-Za-z0-9]*")
_NO_ID_KINDS = frozenset({PolicyKind.IDENTITY, PolicyKind.SESSION, PolicyKind.BOUNDARY})
_CACHE_SIZE = 2048
_CACHED_DOCUMENT_MAX = 16_384


def parse_policy(document: str, kind: PolicyKind, *, name: str = "") -> Policy:
    """Parse, validate and compile ``document``; raise ``MalformedPolicyDocument``.

    Cached by (document text, kind): the same text is parsed and compiled once; documents
    longer than ``_CACHED_DOCUMENT_MAX`` are compiled each time so the cache stays bounded in
    memory. Named copies share the compiled statements.
    """
    if len(document) > _CACHED_DOCUMENT_MAX:
        return _named(_compile(document, kind), name)
    return _named_cached(document, kind, name)


@lru_cache(maxsize=_CACHE_SIZE)
def _named_cached(document: str, kind: PolicyKind, name: str) -> Policy:
    return _named(_compiled_cached(document, kind), name)


def _named(policy: Policy, name: str) -> Policy:
    return policy if policy.name == name else dataclasses.replace(policy, name=name)


@lru_cache(maxsize=_CACHE_SIZE)
def _compiled_cached(document: str, kind: PolicyKind) -> Policy:
    return _compile(document, kind)


def _compile(document: str, kind: PolicyKind) -> Policy:
    policy, problems = _parse(document, kind)
    if problems:
        raise MalformedPolicyDocument(str(problems[0]))
    assert policy is not None
    return policy


def find_problems(document: str, kind: PolicyKind) -> list[Problem]:
    """Every problem found (at most one per statement); empty when the document is valid."""
    return _parse(document, kind)[1]


def _parse(document: str, kind: PolicyKind) -> tuple[Policy | None, list[Problem]]:
    if len(document) > DOCUMENT_MAX_CHARACTERS:
        message = f"document is longer than {DOCUMENT_MAX_CHARACTERS} characters"
        return None, [Problem(message)]
    try:
        root = load_json(document)
        version, policy_id, raw_statements = _top_level(root, kind)
    except ProblemError as error:
        return None, [error.problem]
    statements: list[Statement] = []
    problems: list[Problem] = []
    for index, raw in enumerate(raw_statements):
        try:
            statements.append(_statement(index, raw, kind, version))
        except ProblemError as error:
            problems.append(_located(error.problem, index, raw))
    problems.extend(_duplicate_sids(statements))
    if problems:
        return None, problems
    effects = {statement.effect for statement in statements}
    policy = Policy(
        "", kind, document, version, policy_id, tuple(statements),
        Effect.DENY in effects, Effect.ALLOW in effects,
    )  # fmt: skip
    return policy, []


def _located(problem: Problem, index: int, raw: JsonValue) -> Problem:
    sid = raw.get("Sid") if isinstance(raw, dict) else None
    return dataclasses.replace(problem, statement=index, sid=sid if isinstance(sid, str) else "")


def _top_level(root: JsonValue, kind: PolicyKind) -> tuple[str | None, str | None, list[JsonValue]]:
    if not isinstance(root, dict):
        raise ProblemError(Problem("a policy must be a JSON object"))
    unknown = sorted(set(root) - _POLICY_ELEMENTS)
    if unknown:
        raise ProblemError(Problem(f'unknown element "{unknown[0]}"', element=unknown[0]))
    version = root.get("Version")
    if version is not None and version not in VERSIONS:
        raise ProblemError(Problem(f"must be one of {', '.join(VERSIONS)}", element="Version"))
    policy_id = root.get("Id")
    if policy_id is not None and (not isinstance(policy_id, str) or kind in _NO_ID_KINDS):
        message = (
            "must be a string"
            if kind not in _NO_ID_KINDS
            else f"not allowed in a {kind.value} policy"
        )
        raise ProblemError(Problem(message, element="Id"))
    return (version if isinstance(version, str) else None), policy_id, _statement_list(root)


def _statement_list(root: dict[str, JsonValue]) -> list[JsonValue]:
    raw = root.get("Statement")
    if raw is None:
        raise ProblemError(Problem("is required", element="Statement"))
    statements: list[JsonValue] = list(raw) if isinstance(raw, list) else [raw]
    if not statements:
        raise ProblemError(Problem("must contain at least one statement", element="Statement"))
    return statements


def _statement(index: int, raw: JsonValue, kind: PolicyKind, version: str | None) -> Statement:
    if not isinstance(raw, dict):
        raise ProblemError(Problem("a statement must be a JSON object"))
    unknown = sorted(set(raw) - _STATEMENT_ELEMENTS)
    if unknown:
        raise ProblemError(Problem(f'unknown element "{unknown[0]}"', element=unknown[0]))
    variables = version == _VARIABLES_VERSION
    principal_key = _one_of(raw, "Principal", "NotPrincipal", required=kind.needs_principal)
    if principal_key and not kind.needs_principal:
        message = f"not allowed in a {kind.value} policy"
        raise ProblemError(Problem(message, element=principal_key))
    action_key = _one_of(raw, "Action", "NotAction", required=True)
    resource_key = _resource_key(raw, kind)
    return Statement(
        index=index,
        sid=_sid(raw.get("Sid")),
        effect=_effect(raw.get("Effect")),
        principal=compile_principal(raw[principal_key], principal_key) if principal_key else None,
        not_principal=principal_key == "NotPrincipal",
        actions=compile_actions(raw[action_key], action_key, sts_only=kind is PolicyKind.TRUST),
        not_action=action_key == "NotAction",
        resources=(
            compile_resources(raw[resource_key], resource_key, variables=variables)
            if resource_key
            else None
        ),
        not_resource=resource_key == "NotResource",
        conditions=compile_conditions(raw.get("Condition", {}), variables=variables),
    )


def _one_of(raw: dict[str, JsonValue], positive: str, negative: str, *, required: bool) -> str:
    if positive in raw and negative in raw:
        raise ProblemError(
            Problem(f"use either {positive} or {negative}, not both", element=negative)
        )
    if positive in raw:
        return positive
    if negative in raw:
        return negative
    if required:
        raise ProblemError(Problem(f"is required (or {negative})", element=positive))
    return ""


def _resource_key(raw: dict[str, JsonValue], kind: PolicyKind) -> str:
    required = kind is not PolicyKind.TRUST
    key = _one_of(raw, "Resource", "NotResource", required=required)
    if key and not required:
        raise ProblemError(Problem("not allowed in a trust policy", element=key))
    return key


def _sid(value: JsonValue) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or _SID.fullmatch(value) is None:
        raise ProblemError(Problem("must contain only letters and digits", element="Sid"))
    return value


def _effect(value: JsonValue) -> Effect:
    if value == "Allow":
        return Effect.ALLOW
    if value == "Deny":
        return Effect.DENY
    message = "is required" if value is None else 'must be "Allow" or "Deny" (case-sensitive)'
    raise ProblemError(Problem(message, element="Effect"))


def _duplicate_sids(statements: list[Statement]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for statement in statements:
        if statement.sid and statement.sid in seen:
            problems.append(
                Problem("must be unique in the policy", "Sid", statement.index, statement.sid)
            )
        seen.add(statement.sid)
    return problems

"""Warnings for valid but risky policies, and statement line numbers for people reading them.

The warnings follow the IAM User Guide's advice for web identity roles ("Create a role for
OpenID Connect federation": always condition on the audience; for issuers shared by many
tenants, such as GitHub Actions, also on the subject) and its general warnings about
``NotAction`` with ``Allow`` and about granting every action on every resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from webfed.core.policy.document import position_of
from webfed.core.policy.model import Effect, Policy, PolicyKind, Statement

__all__ = ["SHARED_ISSUERS", "PolicyWarning", "lint_policy", "statement_lines"]

SHARED_ISSUERS = (
    "token.actions.githubusercontent.com",
    "gitlab.com",
    "app.terraform.io",
    "oidc.circleci.com",
    "vstoken.actions.githubusercontent.com",
)
_AUDIENCE_SUFFIXES = (":aud", ":app_id")


@dataclass(frozen=True, slots=True)
class PolicyWarning:
    """One risky pattern found in a statement."""

    statement: int
    message: str


def lint_policy(policy: Policy) -> list[PolicyWarning]:
    """Every warning for every statement, in statement order."""
    found: list[PolicyWarning] = []
    for statement in policy.statements:
        found.extend(
            PolicyWarning(statement.index, text) for text in _statement_warnings(policy, statement)
        )
    return found


def _statement_warnings(policy: Policy, statement: Statement) -> list[str]:
    if statement.effect is not Effect.ALLOW:
        return []
    messages = []
    if statement.not_action:
        messages.append("Allow with NotAction grants every other action, including future ones")
    if _grants_everything(statement):
        messages.append('Allow of Action "*" on Resource "*" grants full access')
    if policy.kind is PolicyKind.TRUST:
        messages.extend(_trust_warnings(statement))
    return messages


def _grants_everything(statement: Statement) -> bool:
    every_action = not statement.not_action and "*" in statement.actions.sources
    every_resource = (
        statement.resources is not None
        and not statement.not_resource
        and any(pattern.everything for pattern in statement.resources)
    )
    return every_action and every_resource


def _trust_warnings(statement: Statement) -> list[str]:
    keys = {condition.key_lower for condition in statement.conditions}
    principal = statement.principal
    messages = []
    if principal is not None and principal.everyone and not statement.conditions:
        messages.append('trust policy lets any principal ("*") assume the role without conditions')
    providers = principal.federated if principal is not None else frozenset()
    if providers and not any(key.endswith(_AUDIENCE_SUFFIXES) for key in keys):
        messages.append(
            "web identity trust without an audience condition (…:aud or …:app_id): any app "
            "registered with the provider could assume the role"
        )
    for issuer in SHARED_ISSUERS:
        shared = any(provider.endswith(issuer) for provider in providers)
        if shared and f"{issuer}:sub" not in keys:
            messages.append(
                f"trust for the shared issuer {issuer} without a `{issuer}:sub` condition: "
                "every tenant of that issuer could assume the role"
            )
    return messages


def statement_lines(document: str) -> list[int]:
    """The 1-based line on which each statement starts; empty if the layout cannot be read."""
    decoder = json.JSONDecoder()
    try:
        index = _skip(document, 0)
        if document[index] != "{":
            return []
        index = _skip(document, index + 1)
        while document[index] != "}":
            key, index = decoder.raw_decode(document, index)
            index = _skip(document, _skip(document, index) + 1)
            if key == "Statement":
                return _element_lines(document, index, decoder)
            _, index = decoder.raw_decode(document, index)
            index = _skip(document, index)
            index = _skip(document, index + 1) if document[index] == "," else index
    except (ValueError, IndexError):
        return []
    return []


def _element_lines(document: str, index: int, decoder: json.JSONDecoder) -> list[int]:
    if document[index] != "[":
        return [position_of(document, index)[0]]
    lines = []
    index = _skip(document, index + 1)
    while document[index] != "]":
        lines.append(position_of(document, index)[0])
        _, index = decoder.raw_decode(document, index)
        index = _skip(document, index)
        index = _skip(document, index + 1) if document[index] == "," else index
    return lines


def _skip(document: str, index: int) -> int:
    while document[index] in " \t\r\n":
        index += 1
    return index

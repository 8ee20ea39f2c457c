"""Compiling the statement elements: ``Principal``, ``Action``, ``Resource`` and ``Condition``.

IAM User Guide, "IAM JSON policy elements" (Principal, Action, Resource, Condition) and
"Condition operators". Each function takes the JSON value of one element and returns its
compiled matcher, or raises :class:`~webfed.core.policy.document.ProblemError` naming the element
and the offending value.
"""

from __future__ import annotations

import re

from webfed.core.arn import ArnError, arn_components, is_account_id, parse_arn
from webfed.core.policy.conditions import Condition, Qualifier
from webfed.core.policy.document import JsonValue, Number, Problem, ProblemError
from webfed.core.policy.model import ActionMatcher, ResourcePattern
from webfed.core.policy.operators import OPERATORS, VARIABLE_FAMILIES, OperatorSpec
from webfed.core.policy.principals import PrincipalMatcher
from webfed.core.policy.variables import (
    DynamicGlob,
    InvalidVariable,
    has_variables,
    parse_template,
    resolve,
)
from webfed.core.policy.wildcard import StaticGlob, compile_glob

__all__ = ["compile_actions", "compile_conditions", "compile_principal", "compile_resources"]

_ACTION = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9_.*?-]+)")
_ACTION_PREFIX = re.compile(r"([^:]*):.*")
_UNIQUE_ID = re.compile(r"A[A-Z0-9]{15,127}")
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*(/[A-Za-z0-9._~/-]+)?")
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
_PRINCIPAL_TYPES = ("AWS", "Federated", "Service", "CanonicalUser")


def _fail(element: str, message: str) -> ProblemError:
    return ProblemError(Problem(message, element=element))


def string_list(value: JsonValue, element: str) -> list[str]:
    """A string or a non-empty list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return [item for item in value if isinstance(item, str)]
    raise _fail(element, "must be a string or a non-empty list of strings")


# --- Action -----------------------------------------------------------------------------------


def compile_actions(value: JsonValue, element: str, *, sts_only: bool) -> ActionMatcher:
    """Compile ``Action``/``NotAction``: ``*`` or ``service:name`` (wildcards in the name only)."""
    sources = string_list(value, element)
    exact: set[str] = set()
    wild: dict[str, StaticGlob] = {}
    for source in sources:
        _check_action(source, element, sts_only=sts_only)
        lowered = source.lower()
        if "*" in lowered or "?" in lowered:
            wild.setdefault(lowered, compile_glob(lowered))
        else:
            exact.add(lowered)
    return ActionMatcher(tuple(sources), frozenset(exact), tuple(wild.values()))


def _check_action(source: str, element: str, *, sts_only: bool) -> None:
    if source == "*":
        if sts_only:
            raise _fail(element, 'a trust policy may only name sts actions, not "*"')
        return
    prefix = _ACTION_PREFIX.fullmatch(source)
    if prefix is not None and ("*" in prefix.group(1) or "?" in prefix.group(1)):
        raise _fail(element, f'wildcards are not allowed in the service prefix of "{source}"')
    if _ACTION.fullmatch(source) is None:
        raise _fail(element, f'"{source}" is not "*" or service:action')
    if sts_only and source.split(":", 1)[0].lower() != "sts":
        raise _fail(element, f'a trust policy may only name sts actions, not "{source}"')


# --- Resource ---------------------------------------------------------------------------------


def compile_resources(
    value: JsonValue, element: str, *, variables: bool
) -> tuple[ResourcePattern, ...]:
    """Compile ``Resource``/``NotResource``: ``*`` or ARNs; variables in the resource part only."""
    return tuple(_resource(source, element, variables) for source in string_list(value, element))


def _resource(source: str, element: str, variables: bool) -> ResourcePattern:
    if source == "*":
        return ResourcePattern(source, True, None, None, None, None)
    parts = arn_components(source)
    if parts is None:
        raise _fail(element, f'"{source}" must be an ARN (arn:partition:service:...) or "*"')
    if not parts[1] or not parts[2] or "*" in parts[2] or "?" in parts[2]:
        raise _fail(element, f'"{source}" needs a partition and a service without wildcards')
    head = parts[:5]
    try:
        template = parse_template(parts[5], variables=variables, wildcards=True)
    except InvalidVariable as error:
        raise _fail(element, str(error)) from None
    tokens = None if has_variables(template) else resolve(template, {})
    static = None if tokens is None else StaticGlob(parts[5], tokens)
    dynamic = None if tokens is not None else DynamicGlob(parts[5], template)
    if any("*" in part or "?" in part for part in head):
        globs = tuple(compile_glob(part) for part in head)
        return ResourcePattern(source, False, None, globs, static, dynamic)
    return ResourcePattern(source, False, head, None, static, dynamic)


# --- Principal --------------------------------------------------------------------------------


def compile_principal(value: JsonValue, element: str) -> PrincipalMatcher:
    """Compile ``Principal``/``NotPrincipal``: ``"*"`` or a map of principal types to names."""
    if value == "*":
        return PrincipalMatcher(everyone=True)
    if not isinstance(value, dict) or not value:
        raise _fail(element, 'must be "*" or an object keyed by AWS, Federated, Service, ...')
    unknown = sorted(set(value) - set(_PRINCIPAL_TYPES))
    if unknown:
        raise _fail(element, f'unknown principal type "{unknown[0]}"')
    names = {kind: string_list(value[kind], f"{element}.{kind}") for kind in value}
    for kind, entries in names.items():
        for entry in entries:
            if ("*" in entry or "?" in entry) and not (kind == "AWS" and entry == "*"):
                raise _fail(element, f'wildcards are not allowed in principal "{entry}"')
    return _principal_sets(names, element)


def _principal_sets(names: dict[str, list[str]], element: str) -> PrincipalMatcher:
    accounts: set[str] = set()
    arns: set[str] = set()
    unique_ids: set[str] = set()
    for entry in names.get("AWS", []):
        if entry == "*":
            return PrincipalMatcher(everyone=True)
        if is_account_id(entry):
            accounts.add(entry)
        elif _UNIQUE_ID.fullmatch(entry):
            unique_ids.add(entry)
        else:
            _aws_principal_arn(entry, element, accounts, arns)
    federated = names.get("Federated", [])
    for entry in federated:
        _check_federated(entry, element)
    services = names.get("Service", [])
    for entry in services:
        if _SERVICE_NAME.fullmatch(entry) is None:
            raise _fail(element, f'"{entry}" is not a service principal name')
    return PrincipalMatcher(
        accounts=frozenset(accounts),
        arns=frozenset(arns),
        unique_ids=frozenset(unique_ids),
        federated=frozenset(federated),
        services=frozenset(services),
        canonical_users=frozenset(names.get("CanonicalUser", [])),
    )


def _aws_principal_arn(entry: str, element: str, accounts: set[str], arns: set[str]) -> None:
    try:
        arn = parse_arn(entry)
    except ArnError:
        raise _fail(element, f'"{entry}" is not an account id, a unique id or an ARN') from None
    if arn.service not in ("iam", "sts") or not is_account_id(arn.account):
        raise _fail(element, f'"{entry}" is not an IAM or STS principal ARN')
    if arn.service == "iam" and arn.resource == "root":
        accounts.add(arn.account)
    else:
        arns.add(entry)


def _check_federated(entry: str, element: str) -> None:
    if entry.startswith("arn:"):
        try:
            arn = parse_arn(entry)
        except ArnError:
            raise _fail(element, f'"{entry}" is not a provider ARN') from None
        if arn.service != "iam" or arn.resource_type not in ("oidc-provider", "saml-provider"):
            raise _fail(element, f'"{entry}" is not an OIDC or SAML provider ARN')
    elif _PROVIDER_NAME.fullmatch(entry) is None:
        raise _fail(element, f'"{entry}" is not an identity provider name')


# --- Condition --------------------------------------------------------------------------------


def compile_conditions(value: JsonValue, *, variables: bool) -> tuple[Condition, ...]:
    """Compile ``Condition``: ``{operator: {key: value | [values]}}``."""
    if not isinstance(value, dict):
        raise _fail("Condition", "must be an object of operators")
    clauses: list[Condition] = []
    for operator_text, block in value.items():
        spec, qualifier, if_exists = _operator(operator_text)
        if not isinstance(block, dict):
            raise _fail("Condition", f'"{operator_text}" must map condition keys to values')
        for key, raw in block.items():
            clauses.append(_clause(operator_text, spec, qualifier, if_exists, key, raw, variables))
    return tuple(clauses)


def _operator(text: str) -> tuple[OperatorSpec, Qualifier, bool]:
    qualifier = Qualifier.NONE
    base = text
    for candidate in (Qualifier.FOR_ALL_VALUES, Qualifier.FOR_ANY_VALUE):
        if text.startswith(candidate.value + ":"):
            qualifier, base = candidate, text[len(candidate.value) + 1 :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    spec = OPERATORS.get(base)
    if spec is None or (spec.family == "Null" and (if_exists or qualifier is not Qualifier.NONE)):
        raise _fail("Condition", f'unknown condition operator "{text}"')
    return spec, qualifier, if_exists


def _clause(
    operator_text: str,
    spec: OperatorSpec,
    qualifier: Qualifier,
    if_exists: bool,
    key: str,
    raw: JsonValue,
    variables: bool,
) -> Condition:
    where = f"Condition.{operator_text}"
    if not key.strip():
        raise _fail(where, "condition key names must not be empty")
    texts = _condition_values(raw, f"{where}.{key}")
    allow_variables = variables and spec.family in VARIABLE_FAMILIES
    try:
        matchers = tuple(spec.build(text, allow_variables) for text in texts)
    except (ValueError, InvalidVariable) as error:
        raise _fail(f"{where}.{key}", str(error)) from None
    return Condition(operator_text, spec, qualifier, if_exists, key, key.lower(), matchers)


def _condition_values(raw: JsonValue, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(where, "needs at least one value")
    texts = []
    for item in items:
        if isinstance(item, bool):
            texts.append("true" if item else "false")
        elif isinstance(item, Number):
            texts.append(item.text)
        elif isinstance(item, str):
            texts.append(item)
        else:
            raise _fail(where, "values must be strings, numbers or booleans")
    return texts

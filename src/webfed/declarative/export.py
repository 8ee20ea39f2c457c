"""Writing a state in the configuration file format, so ``webfed export | webfed apply`` is a no-op.

Policy documents are written as YAML mappings, numbers exactly as IAM holds them; defaults
(path ``/``, no description, 3600 s, no tags) are left out, as :mod:`webfed.declarative.schema`
reads them back. A role names a customer
managed policy of the account by name and anything else by ARN.
"""

from __future__ import annotations

from typing import Any

import yaml

from webfed.declarative.model import (
    DEFAULT_MAX_SESSION_DURATION,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    State,
)
from webfed.declarative.schema import FORMAT_VERSION
from webfed.declarative.source import Dumper

__all__ = ["export_text", "state_to_document"]


def export_text(state: State) -> str:
    """The YAML text of a configuration file declaring ``state``."""
    header = f"# webfed configuration: IAM state of account {state.account_id}\n"
    body = yaml.dump(
        state_to_document(state),
        Dumper=Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + body


def state_to_document(state: State) -> dict[str, Any]:
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    if state.providers:
        document["providers"] = [_provider(provider) for provider in state.providers]
    if state.policies:
        document["policies"] = [_policy(policy) for policy in state.policies]
    if state.roles:
        names = {policy.arn(state.account_id): policy.name for policy in state.policies}
        document["roles"] = [_role(role, names) for role in state.roles]
    return document


def _document(document: PolicyDocument) -> Any:
    """A YAML mapping, or the JSON text as a string when the document could not be parsed (apply
    then reports it with its line instead of export failing for the whole account)."""
    return document.value() if document.parsed else document.text


def _provider(provider: Provider) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": provider.url}
    if provider.client_ids:
        entry["client_ids"] = list(provider.client_ids)
    if provider.thumbprints:
        entry["thumbprints"] = list(provider.thumbprints)
    if provider.tags.items:
        entry["tags"] = provider.tags.as_dict()
    return entry


def _policy(policy: ManagedPolicy) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": policy.name}
    if policy.path != "/":
        entry["path"] = policy.path
    if policy.description:
        entry["description"] = policy.description
    entry["document"] = _document(policy.document)
    if policy.tags.items:
        entry["tags"] = policy.tags.as_dict()
    return entry


def _role(role: Role, policy_names: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": role.name}
    if role.path != "/":
        entry["path"] = role.path
    if role.description:
        entry["description"] = role.description
    if role.max_session_duration != DEFAULT_MAX_SESSION_DURATION:
        entry["max_session_duration"] = role.max_session_duration
    entry["trust_policy"] = _document(role.trust_policy)
    if role.inline_policies:
        entry["inline_policies"] = {p.name: _document(p.document) for p in role.inline_policies}
    if role.managed_policies:
        entry["managed_policies"] = [policy_names.get(a, a) for a in role.managed_policies]
    if role.permissions_boundary is not None:
        boundary = role.permissions_boundary
        entry["permissions_boundary"] = policy_names.get(boundary, boundary)
    if role.tags.items:
        entry["tags"] = role.tags.as_dict()
    return entry

"""Declarative configuration: ``webfed apply -f FILE.yaml`` and ``webfed export``.

One YAML file declares OpenID Connect providers, managed policies and roles (with their trust,
inline and attached policies, boundary and tags), Cognito Identity pools, plus default
``settings:`` for ``webfed serve``. Applying it reads the account's state through the IAM and
Cognito Identity handlers, checks the whole file, plans the changes and makes them through the
same handlers. The format is in ``docs/configuration.md``.

    source     YAML text -> nodes with lines; Problem
    fields     one field against IAM's lengths and patterns
    schema     nodes -> Config (typed, names not yet resolved); pool_schema for identity_pools
    settings_section   the settings: section
    references whole-file checks against the current state -> desired State
    pool_checks        identity pools: ids, references, the Cognito Identity API's rules
    plan       desired State x current State -> Plan (ordered, typed changes)   [pure]
    execute    change -> IAM / Cognito Identity requests (pool_wire); run them
    pool_operations    the Cognito Identity handlers, and a create with a chosen pool id
    static_keys        a provider's static key set in the file (inline or a file), checked
    provider_operations   webfed's own operations storing and reading a static key set
    read_state IAM and Cognito Identity -> current State
    export     State -> YAML
    apply      the steps above, end to end
"""

from __future__ import annotations

from webfed.declarative.apply import (
    ApplyReport,
    apply_config,
    apply_file,
    apply_to_store,
    export_state,
    load_config,
    load_config_file,
)
from webfed.declarative.iam_client import IamClient
from webfed.declarative.model import State
from webfed.declarative.plan import Plan, plan
from webfed.declarative.references import Limits, resolve
from webfed.declarative.schema import FORMAT_VERSION, Config, read_config
from webfed.declarative.settings_section import read_settings_defaults
from webfed.declarative.source import Problem

__all__ = [
    "FORMAT_VERSION",
    "ApplyReport",
    "Config",
    "IamClient",
    "Limits",
    "Plan",
    "Problem",
    "State",
    "apply_config",
    "apply_file",
    "apply_to_store",
    "export_state",
    "load_config",
    "load_config_file",
    "plan",
    "read_config",
    "read_settings_defaults",
    "resolve",
]

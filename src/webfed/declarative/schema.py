"""The configuration file format, version 1: YAML nodes in, a typed :class:`Config` out.

Top level: ``version: 1`` and the optional sections ``settings``, ``providers``, ``policies``,
``roles`` and ``identity_pools`` (:mod:`webfed.declarative.pool_schema`). A provider may carry
a static key set (:mod:`webfed.declarative.static_keys`). Unknown keys are refused rather than
ignored, so a typo never silently drops a setting. The format is described for people in
``docs/configuration.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import yaml

from webfed.declarative.fields import (
    DESCRIPTION,
    POLICY_NAME,
    POLICY_PATH,
    ROLE_NAME,
    ROLE_PATH,
    Reader,
    TextRule,
)
from webfed.declarative.model import (
    DEFAULT_MAX_SESSION_DURATION,
    IdentityPool,
    InlinePolicy,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    Tags,
)
from webfed.declarative.pool_schema import read_identity_pool
from webfed.declarative.source import Json, Problem, compose
from webfed.declarative.static_keys import STATIC_KEY_FIELDS, read_static_keys

__all__ = ["FORMAT_VERSION", "Config", "read_config"]

FORMAT_VERSION = 1

_TOP = frozenset({"version", "settings", "providers", "policies", "roles", "identity_pools"})
_PROVIDER = frozenset({"url", "client_ids", "thumbprints", "tags"}) | STATIC_KEY_FIELDS
_POLICY = frozenset({"name", "path", "description", "document", "tags"})
_ROLE = frozenset(
    {
        "name",
        "path",
        "description",
        "max_session_duration",
        "trust_policy",
        "inline_policies",
        "managed_policies",
        "permissions_boundary",
        "tags",
    }
)
_URL = TextRule(1, 255)
_CLIENT_ID = TextRule(1, 255)
_THUMBPRINT = TextRule(40, 40, re.compile("[0-9a-fA-F]{40}"), explain="40 hexadecimal digits")
_REFERENCE = TextRule(1, 2048)
_MAX_ATTACHED = 20
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Config:
    """A parsed configuration file.

    ``roles`` may still name managed policies by name; ``lines`` maps a location such as
    ``roles[2].trust_policy`` to its line in the file, for later problems. ``identity_pools``
    may still name providers by URL and roles by name, and lack ids.
    """

    version: int
    settings: Mapping[str, Json] = field(default_factory=dict)
    providers: tuple[Provider, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    identity_pools: tuple[IdentityPool, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line(self, where: str) -> int | None:
        return self.lines.get(where)


def read_config(text: str, base_dir: Path | None = None) -> tuple[Config | None, list[Problem]]:
    """Parse and check the structure of a configuration file.

    Returns the config (``None`` when the file is unusable) and every problem found. Relative
    paths in the file (``static_keys_file``) are read from ``base_dir`` (the file's directory).
    """
    root, problems = compose(text)
    if root is None:
        return None, problems or [Problem("the file is empty; it needs at least 'version: 1'")]
    reader = Reader()
    top = reader.mapping(root, "", allowed=_TOP, required=frozenset({"version"}))
    if top is None:
        return None, reader.problems
    config = Config(
        version=_version(reader, top.get("version")),
        settings=_settings(reader, top.get("settings")),
        providers=_each(
            reader, top.get("providers"), "providers", partial(_provider, base_dir=base_dir)
        ),
        policies=_each(reader, top.get("policies"), "policies", _policy),
        roles=_each(reader, top.get("roles"), "roles", _role),
        identity_pools=_each(
            reader, top.get("identity_pools"), "identity_pools", read_identity_pool
        ),
        lines=reader.lines,
    )
    return config, reader.problems


def _version(reader: Reader, node: yaml.Node | None) -> int:
    if node is None:
        return FORMAT_VERSION
    value = reader.scalar(node, "version")
    if value != FORMAT_VERSION or isinstance(value, bool):
        reader.report(
            f"unsupported version {value!r}; this webfed reads version 1", node, "version"
        )
    return FORMAT_VERSION


def _settings(reader: Reader, node: yaml.Node | None) -> dict[str, Json]:
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        reader.report("must be a mapping of setting names to values", node, "settings")
        return {}
    reader.lines["settings"] = node.start_mark.line + 1
    result: dict[str, Json] = {}
    for key, value_node in reader.pairs(node, "settings").items():
        reader.lines[f"settings.{key}"] = value_node.start_mark.line + 1
        result[key] = reader.scalar(value_node, f"settings.{key}")
    return result


def _each(
    reader: Reader,
    node: yaml.Node | None,
    section: str,
    read: Callable[[Reader, yaml.Node, str], _T | None],
) -> tuple[_T, ...]:
    if node is None:
        return ()
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return ()
    reader.lines[section] = node.start_mark.line + 1
    nodes = reader.sequence(node, section)
    items = (read(reader, item, f"{section}[{index}]") for index, item in enumerate(nodes))
    return tuple(item for item in items if item is not None)


def _provider(
    reader: Reader, node: yaml.Node, where: str, *, base_dir: Path | None
) -> Provider | None:
    fields = reader.mapping(node, where, allowed=_PROVIDER, required=frozenset({"url"}))
    if fields is None:
        return None
    url = reader.text(fields["url"], f"{where}.url", _URL) if "url" in fields else None
    client_ids = _optional_texts(
        reader, fields, where, "client_ids", rule=_CLIENT_ID, max_items=100
    )
    thumbprints = _optional_texts(
        reader, fields, where, "thumbprints", rule=_THUMBPRINT, max_items=5
    )
    tags = _optional_tags(reader, fields, where, case_sensitive=True)
    keys_ok, static_keys = read_static_keys(reader, fields, where, url, base_dir)
    if url is None or client_ids is None or thumbprints is None or tags is None or not keys_ok:
        return None
    return Provider(
        url=url,
        client_ids=client_ids,
        thumbprints=thumbprints,
        tags=tags,
        static_keys=static_keys,
    )


def _policy(reader: Reader, node: yaml.Node, where: str) -> ManagedPolicy | None:
    required = frozenset({"name", "document"})
    fields = reader.mapping(node, where, allowed=_POLICY, required=required)
    if fields is None:
        return None
    before = len(reader.problems)
    name = _optional_text(reader, fields, where, "name", rule=POLICY_NAME, default=None)
    path = _optional_text(reader, fields, where, "path", rule=POLICY_PATH, default="/")
    description = _optional_text(reader, fields, where, "description", rule=DESCRIPTION, default="")
    document = _document(reader, fields.get("document"), f"{where}.document")
    tags = _optional_tags(reader, fields, where, case_sensitive=False)
    if len(reader.problems) > before or name is None or document is None:
        return None  # every missing value was reported as a problem
    return ManagedPolicy(
        name, document, path=path or "/", description=description or "", tags=tags or Tags()
    )


def _role(reader: Reader, node: yaml.Node, where: str) -> Role | None:
    required = frozenset({"name", "trust_policy"})
    fields = reader.mapping(node, where, allowed=_ROLE, required=required)
    if fields is None:
        return None
    before = len(reader.problems)
    text = partial(_optional_text, reader, fields, where)
    name = text("name", rule=ROLE_NAME, default=None)
    path = text("path", rule=ROLE_PATH, default="/")
    description = text("description", rule=DESCRIPTION, default="")
    boundary = text("permissions_boundary", rule=_REFERENCE, default=None)
    trust = _document(reader, fields.get("trust_policy"), f"{where}.trust_policy")
    inline = _inline_policies(reader, fields.get("inline_policies"), f"{where}.inline_policies")
    attached = _optional_texts(
        reader, fields, where, "managed_policies", rule=_REFERENCE, max_items=_MAX_ATTACHED
    )
    duration = _duration(reader, fields, where)
    tags = _optional_tags(reader, fields, where, case_sensitive=False)
    if len(reader.problems) > before or name is None or trust is None:
        return None  # every missing value was reported as a problem
    return Role(
        name,
        trust,
        path=path or "/",
        description=description or "",
        max_session_duration=duration,
        inline_policies=inline or (),
        managed_policies=attached or (),
        permissions_boundary=boundary,
        tags=tags or Tags(),
    )


def _duration(reader: Reader, fields: dict[str, yaml.Node], where: str) -> int:
    if "max_session_duration" not in fields:
        return DEFAULT_MAX_SESSION_DURATION
    node = fields["max_session_duration"]
    value = reader.integer(node, f"{where}.max_session_duration", 3600, 43200)
    return DEFAULT_MAX_SESSION_DURATION if value is None else value


def _inline_policies(
    reader: Reader, node: yaml.Node | None, where: str
) -> tuple[InlinePolicy, ...] | None:
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        reader.report("must be a mapping of policy names to documents", node, where)
        return None
    policies: list[InlinePolicy] = []
    failed = False
    for name, document_node in reader.pairs(node, where).items():
        location = f"{where}.{name}"
        reader.lines[location] = document_node.start_mark.line + 1
        problem = POLICY_NAME.problem(name)
        if problem is not None:
            reader.report(f"policy name {name!r} {problem}", document_node, where)
        document = _document(reader, document_node, location)
        if document is None or problem is not None:
            failed = True
        else:
            policies.append(InlinePolicy(name, document))
    return None if failed else tuple(policies)


def _document(reader: Reader, node: yaml.Node | None, where: str) -> PolicyDocument | None:
    """A policy written as a YAML mapping (converted to JSON) or as a JSON string."""
    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):
        before = len(reader.problems)
        value = reader.json(node, where)
        return PolicyDocument.from_value(value) if len(reader.problems) == before else None
    text = reader.scalar(node, where)
    if not isinstance(text, str):
        reader.report("must be a policy document: a mapping or a JSON string", node, where)
        return None
    try:
        document = PolicyDocument.from_text(text)
    except ValueError as error:
        reader.report(f"is not valid JSON: {error}", node, where)
        return None
    if not document.canonical.startswith("{"):
        reader.report("must be a JSON object", node, where)
        return None
    return document


def _optional_text(
    reader: Reader,
    fields: dict[str, yaml.Node],
    where: str,
    key: str,
    *,
    rule: TextRule,
    default: str | None,
) -> str | None:
    if key not in fields:
        return default
    return reader.text(fields[key], f"{where}.{key}", rule)


def _optional_texts(
    reader: Reader,
    fields: dict[str, yaml.Node],
    where: str,
    key: str,
    *,
    rule: TextRule,
    max_items: int,
) -> tuple[str, ...] | None:
    if key not in fields:
        return ()
    return reader.texts(fields[key], f"{where}.{key}", rule, max_items=max_items)


def _optional_tags(
    reader: Reader, fields: dict[str, yaml.Node], where: str, *, case_sensitive: bool
) -> Tags | None:
    if "tags" not in fields:
        return Tags()
    tags = reader.tags(fields["tags"], f"{where}.tags", case_sensitive=case_sensitive)
    return None if tags is None else Tags.of(tags)

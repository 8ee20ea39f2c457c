"""The ``identity_pools:`` section: YAML nodes in, :class:`IdentityPool` values out.

Only the shape is checked here (keys, types, required members), each problem with its line. The
values are checked later, once the file and the current state are known
(:mod:`webfed.declarative.pool_checks`), by the Cognito Identity API's own rules and botocore's
model of its inputs, so a file is held to exactly what ``CreateIdentityPool`` and
``SetIdentityPoolRoles`` accept.
"""

from __future__ import annotations

import yaml

from webfed.declarative.fields import Reader
from webfed.declarative.model import (
    IdentityPool,
    MappingRule,
    PrincipalTags,
    RoleMapping,
    Tags,
    UserPoolClient,
)

__all__ = ["POOL_KEYS", "read_identity_pool"]

POOL_KEYS = frozenset(
    {
        "name",
        "id",
        "allow_unauthenticated",
        "allow_classic_flow",
        "supported_login_providers",
        "openid_connect_providers",
        "cognito_identity_providers",
        "developer_provider_name",
        "roles",
        "role_mappings",
        "principal_tags",
        "tags",
    }
)
_USER_POOL_CLIENT = frozenset({"provider_name", "client_id", "server_side_token_check"})
_MAPPING = frozenset({"type", "ambiguous_role_resolution", "rules"})
_RULE = frozenset({"claim", "match_type", "value", "role"})
_PRINCIPAL_TAGS = frozenset({"use_defaults", "tags"})
# Lists long enough for any valid pool; the API's own limits are checked later, with the line.
_MAX_LIST = 1000


def read_identity_pool(reader: Reader, node: yaml.Node, where: str) -> IdentityPool | None:
    """One entry of ``identity_pools``; ``None`` (with problems reported) when it is unusable."""
    fields = reader.mapping(node, where, allowed=POOL_KEYS, required=frozenset({"name"}))
    if fields is None:
        return None
    before = len(reader.problems)

    def text(key: str) -> str | None:
        return reader.text(fields[key], f"{where}.{key}") if key in fields else None

    def flag(key: str) -> bool:
        return bool(key in fields and reader.boolean(fields[key], f"{where}.{key}"))

    def text_map(key: str) -> Tags:
        if key not in fields:
            return Tags()
        return Tags.of(reader.text_map(fields[key], f"{where}.{key}") or {})

    name = text("name")
    pool_id = text("id")
    oidc: tuple[str, ...] = ()
    if "openid_connect_providers" in fields:
        location = f"{where}.openid_connect_providers"
        node_ = fields["openid_connect_providers"]
        oidc = reader.texts(node_, location, max_items=_MAX_LIST) or ()
    pool = IdentityPool(
        name=name or "",
        pool_id=pool_id or "",
        allow_unauthenticated=flag("allow_unauthenticated"),
        allow_classic_flow=flag("allow_classic_flow"),
        supported_login_providers=text_map("supported_login_providers"),
        openid_connect_providers=oidc,
        cognito_identity_providers=_user_pool_clients(reader, fields, where),
        developer_provider_name=text("developer_provider_name"),
        roles=text_map("roles"),
        role_mappings=_role_mappings(reader, fields.get("role_mappings"), f"{where}.role_mappings"),
        principal_tags=_principal_tags(
            reader, fields.get("principal_tags"), f"{where}.principal_tags"
        ),
        tags=text_map("tags"),
    )
    if len(reader.problems) > before or name is None:
        return None  # every missing or mistyped value was reported
    return pool


def _user_pool_clients(
    reader: Reader, fields: dict[str, yaml.Node], where: str
) -> tuple[UserPoolClient, ...]:
    if "cognito_identity_providers" not in fields:
        return ()
    location = f"{where}.cognito_identity_providers"
    clients = []
    for index, item in enumerate(reader.sequence(fields["cognito_identity_providers"], location)):
        at = f"{location}[{index}]"
        entry = reader.mapping(
            item, at, allowed=_USER_POOL_CLIENT, required=frozenset({"provider_name", "client_id"})
        )
        if entry is None:
            continue
        provider = _optional_text(reader, entry, at, "provider_name")
        client = _optional_text(reader, entry, at, "client_id")
        check = "server_side_token_check" in entry and reader.boolean(
            entry["server_side_token_check"], f"{at}.server_side_token_check"
        )
        if provider is not None and client is not None:
            clients.append(UserPoolClient(provider, client, bool(check)))
    return tuple(clients)


def _optional_text(reader: Reader, entry: dict[str, yaml.Node], where: str, key: str) -> str | None:
    return reader.text(entry[key], f"{where}.{key}") if key in entry else None


def _role_mappings(
    reader: Reader, node: yaml.Node | None, where: str
) -> tuple[tuple[str, RoleMapping], ...]:
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        reader.report("must be a mapping of provider names to role mappings", node, where)
        return ()
    mappings = []
    for provider, value in reader.pairs(node, where).items():
        at = f"{where}.{provider}"
        entry = reader.mapping(
            value, at, allowed=_MAPPING, required=frozenset({"type", "ambiguous_role_resolution"})
        )
        if entry is None:
            continue
        kind = _optional_text(reader, entry, at, "type")
        resolution = _optional_text(reader, entry, at, "ambiguous_role_resolution")
        rules = _rules(reader, entry.get("rules"), f"{at}.rules")
        if kind is not None and resolution is not None:
            mappings.append((provider, RoleMapping(kind, resolution, rules)))
    return tuple(sorted(mappings, key=lambda pair: pair[0]))


def _rules(reader: Reader, node: yaml.Node | None, where: str) -> tuple[MappingRule, ...]:
    if node is None:
        return ()
    rules = []
    for index, item in enumerate(reader.sequence(node, where)):
        at = f"{where}[{index}]"
        entry = reader.mapping(item, at, allowed=_RULE, required=_RULE)
        if entry is None or entry.keys() < _RULE:
            continue
        values = [reader.text(entry[key], f"{at}.{key}") for key in ("claim", "match_type")]
        values += [reader.text(entry[key], f"{at}.{key}") for key in ("value", "role")]
        claim, match_type, value, role = values
        if claim is not None and match_type is not None and value is not None and role is not None:
            rules.append(MappingRule(claim, match_type, value, role))
    return tuple(rules)


def _principal_tags(
    reader: Reader, node: yaml.Node | None, where: str
) -> tuple[tuple[str, PrincipalTags], ...]:
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        reader.report("must be a mapping of provider names to principal tag maps", node, where)
        return ()
    maps = []
    for provider, value in reader.pairs(node, where).items():
        at = f"{where}.{provider}"
        entry = reader.mapping(value, at, allowed=_PRINCIPAL_TAGS, required=frozenset())
        if entry is None:
            continue
        use_defaults = "use_defaults" in entry and reader.boolean(
            entry["use_defaults"], f"{at}.use_defaults"
        )
        tags = reader.text_map(entry["tags"], f"{at}.tags") if "tags" in entry else {}
        maps.append((provider, PrincipalTags(bool(use_defaults), Tags.of(tags or {}))))
    return tuple(sorted(maps, key=lambda pair: pair[0]))

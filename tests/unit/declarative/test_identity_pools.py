"""The identity_pools section: shape, the API's rules with lines, ids, plan, apply and export."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.unit.declarative.helpers import ACCOUNT, PROVIDER_ARN, load, read, trust
from webfed.cli_declarative import apply, export
from webfed.declarative import ApplyReport, apply_to_store, load_config
from webfed.declarative import changes as c
from webfed.declarative.model import (
    IdentityPool,
    MappingRule,
    PrincipalTags,
    Provider,
    Role,
    RoleMapping,
    State,
    Tags,
)
from webfed.declarative.plan import plan
from webfed.declarative.pool_checks import derived_pool_id
from webfed.declarative.references import Limits, resolve
from webfed.declarative.render import summary
from webfed.declarative.source import Problem
from webfed.settings import Settings
from webfed.storage import Store, migrate

LIMITS = Limits(ACCOUNT, allow_http_issuers=True)
POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000001"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/player"
TEAM_ARN = f"arn:aws:iam::{ACCOUNT}:role/teams/red"
TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
    '{"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}'
)
HEAD = f"""\
version: 1
providers:
  - url: https://accounts.example.com
    client_ids: [game]
roles:
  - name: player
    trust_policy: '{TRUST}'
  - name: red
    path: /teams/
    trust_policy: '{TRUST}'
identity_pools:
"""
POOL = f"""\
  - name: game players
    id: {POOL_ID}
    allow_unauthenticated: true
    supported_login_providers: {{accounts.google.com: google-app}}
    openid_connect_providers: [https://accounts.example.com]
    developer_provider_name: login.game.example
    roles: {{authenticated: player, unauthenticated: {ROLE_ARN}}}
    role_mappings:
      accounts.example.com:
        type: Rules
        ambiguous_role_resolution: AuthenticatedRole
        rules: [{{claim: team, match_type: Equals, value: red, role: red}}]
    principal_tags: {{accounts.example.com: {{use_defaults: false, tags: {{team: team}}}}}}
    tags: {{env: demo}}
"""
EMPTY = State(ACCOUNT)


def problems_of(text: str, current: State = EMPTY) -> list[Problem]:
    state, problems = resolve(load(text), current, LIMITS)
    assert (state is None) == bool(problems)
    return problems


def resolved(text: str, current: State = EMPTY) -> State:
    state, problems = resolve(load(text), current, LIMITS)
    assert problems == [], [str(p) for p in problems]
    assert state is not None
    return state


def one(problems: list[Problem], fragment: str) -> Problem:
    matching = [p for p in problems if fragment in str(p)]
    assert len(matching) == 1, [str(p) for p in problems]
    return matching[0]


# The shape of the section


def test_the_example_pool_resolves_names_urls_and_paths_to_arns() -> None:
    state = resolved(HEAD + POOL)
    (pool,) = state.identity_pools
    assert pool.pool_id == POOL_ID
    assert pool.openid_connect_providers == (PROVIDER_ARN,)
    assert pool.roles.as_dict() == {"authenticated": ROLE_ARN, "unauthenticated": ROLE_ARN}
    (provider, mapping) = pool.role_mappings[0]
    assert provider == "accounts.example.com"
    assert mapping == RoleMapping(
        "Rules", "AuthenticatedRole", (MappingRule("team", "Equals", "red", TEAM_ARN),)
    )
    assert pool.principal_tags == (
        ("accounts.example.com", PrincipalTags(False, Tags.of({"team": "team"}))),
    )
    assert pool.tags.as_dict() == {"env": "demo"}


@pytest.mark.parametrize(
    ("entry", "fragment", "line"),
    [
        ("  - name: p\n    colour: blue\n", "unknown key 'colour'", 13),
        ("  - name: p\n    allow_unauthenticated: yes\n", "must be true or false", 13),
        ("  - id: x\n", "missing required key 'name'", 12),
        ("  - name: p\n    role_mappings: [a]\n", "must be a mapping of provider names", 13),
        (
            "  - name: p\n    role_mappings:\n      a: {type: Rules}\n",
            "missing required key 'ambiguous_role_resolution'",
            14,
        ),
        (
            "  - name: p\n    role_mappings:\n      a:\n        type: Rules\n"
            "        ambiguous_role_resolution: Deny\n        rules: [{claim: c, value: v}]\n",
            "missing required key 'match_type'",
            17,
        ),
        ("  - name: p\n    tags: [a]\n", "must be a mapping of text to text", 13),
        ("  - name: p\n    openid_connect_providers: [1]\n", "must be a string", 13),
    ],
)
def test_shape_problems_have_lines(entry: str, fragment: str, line: int) -> None:
    _, problems = read(HEAD + entry)
    found = one(problems, fragment)
    assert found.line == line, str(found)


# The API's rules, each at its line


def _pool(body: str) -> str:
    return HEAD + "  - name: p\n" + textwrap.indent(textwrap.dedent(body), "    ")


RULES = [
    ("supported_login_providers: {login.example.com: app}", "is not a public provider", 13),
    ("openid_connect_providers: [https://nowhere.example]", "no OpenID Connect provider", 13),
    (
        "openid_connect_providers: ['arn:aws:iam::999999999999:oidc-provider/a.example']",
        "is not an OIDC provider ARN of this account",
        13,
    ),
    ("roles: {authenticated: missing}", "no role 'missing' in this file or in IAM", 13),
    ("roles: {guest: player}", "Roles key 'guest'", 13),
    (
        "roles: {authenticated: 'arn:aws:iam::999999999999:role/x'}",
        "is a role of account 999999999999",
        13,
    ),
    (
        "role_mappings: {accounts.example.com: {type: Token, ambiguous_role_resolution: Deny}}",
        "is not a provider of identity pool",
        13,
    ),
    (
        "supported_login_providers: {accounts.google.com: app}\n"
        "role_mappings: {accounts.google.com: {type: Rules, ambiguous_role_resolution: Deny,\n"
        "  rules: [{claim: c, match_type: Like, value: v, role: player}]}}",
        "MatchType 'Like' must be one of",
        14,
    ),
    (
        "supported_login_providers: {accounts.google.com: app}\n"
        "role_mappings: {accounts.google.com: {type: Token, ambiguous_role_resolution: Deny,\n"
        "  rules: [{claim: c, match_type: Equals, value: v, role: player}]}}",
        "only allowed with Type 'Rules'",
        14,
    ),
    (
        "supported_login_providers: {accounts.google.com: app}\n"
        "role_mappings: {accounts.google.com: {type: Rules, ambiguous_role_resolution: Deny}}",
        "1 to 25 rules",
        14,
    ),
    (
        "supported_login_providers: {accounts.google.com: app}\n"
        "role_mappings: {accounts.google.com: {type: Token, ambiguous_role_resolution: Maybe}}",
        "AmbiguousRoleResolution is required",
        14,
    ),
    ("developer_provider_name: accounts.google.com", "is reserved for a public provider", 13),
    ("tags: {'aws:owner': me}", "reserved prefix 'aws:'", 13),
    ("tags: {'': empty}", "Map keys must satisfy constraint", 13),
    ("name: x", "duplicate key 'name'", 13),
    ("id: 'eu-west-1:00000000-0000-4000-8000-000000000001'", "not in this webfed's region", 13),
    ("id: 'us-east-1:NOT-A-UUID'", "is not an identity pool id", 13),
    (
        "supported_login_providers: {accounts.google.com: app}\n"
        "principal_tags: {accounts.google.com: {use_defaults: true, tags: {a: b}}}",
        "must be empty when UseDefaults is true",
        14,
    ),
    (
        "principal_tags: {graph.facebook.com: {tags: {a: b}}}",
        "is not a provider of identity pool",
        13,
    ),
    (
        "cognito_identity_providers: [{provider_name: not-a-user-pool, client_id: c}]",
        "is not cognito-idp.REGION.amazonaws.com/REGION_POOLID",
        13,
    ),
]


@pytest.mark.parametrize(("body", "fragment", "line"), RULES)
def test_api_rules_are_problems_at_their_line(body: str, fragment: str, line: int) -> None:
    text = _pool(body)
    if "duplicate key" in fragment:
        _, problems = read(text)
    else:
        problems = problems_of(text)
    found = one(problems, fragment)
    assert found.line == line, str(found)
    assert found.where.startswith("identity_pools[0]")


def test_name_follows_the_wire_model() -> None:
    found = one(problems_of(HEAD + "  - name: 'no/slash'\n"), "regular expression pattern")
    assert found.where == "identity_pools[0].name"
    assert found.line == 12


def test_mapping_and_rule_limits() -> None:
    providers = "\n".join(f"  - url: https://idp{n}.example" for n in range(11))
    head = HEAD.replace("providers:\n", f"providers:\n{providers}\n", 1)
    urls = ", ".join(f"https://idp{n}.example" for n in range(11))
    mappings = ", ".join(
        f"idp{n}.example: {{type: Token, ambiguous_role_resolution: Deny}}" for n in range(11)
    )
    text = head + f"  - name: p\n    openid_connect_providers: [{urls}]\n"
    found = one(problems_of(text + f"    role_mappings: {{{mappings}}}\n"), "at most 10")
    assert found.where == "identity_pools[0].role_mappings"
    rules = ", ".join("{claim: c, match_type: Equals, value: v, role: player}" for _ in range(26))
    mapping = f"{{type: Rules, ambiguous_role_resolution: Deny, rules: [{rules}]}}"
    many = f"    role_mappings: {{idp0.example: {mapping}}}\n"
    one(problems_of(text + many), "holds 26 rules; at most 25")


def test_developer_provider_name_cannot_change() -> None:
    current = State(
        ACCOUNT, identity_pools=(IdentityPool("p", POOL_ID, developer_provider_name="old"),)
    )
    text = HEAD + f"  - name: p\n    id: {POOL_ID}\n    developer_provider_name: new\n"
    found = one(problems_of(text, current), "cannot be changed once set")
    assert found.where == "identity_pools[0].developer_provider_name"
    assert found.line == 14


def test_a_provider_held_by_iam_needs_no_entry_in_the_file() -> None:
    current = State(ACCOUNT, providers=(Provider("https://iam-only.example"),))
    text = HEAD + "  - name: p\n    openid_connect_providers: ['iam-only.example']\n"
    (pool,) = resolved(text, current).identity_pools
    assert pool.openid_connect_providers == (
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/iam-only.example",
    )


def test_a_role_held_by_iam_is_named_with_its_path() -> None:
    current = State(ACCOUNT, roles=(Role("Ops", trust(), path="/ops/"),))
    (pool,) = resolved(
        HEAD + "  - name: p\n    roles: {authenticated: ops}\n", current
    ).identity_pools
    assert pool.roles.as_dict() == {"authenticated": f"arn:aws:iam::{ACCOUNT}:role/ops/Ops"}


# Which pool an entry means


def test_an_entry_without_id_gets_a_derived_id_or_the_stored_pool_of_that_name() -> None:
    (new,) = resolved(HEAD + "  - name: fresh\n").identity_pools
    assert new.pool_id == derived_pool_id(ACCOUNT, "us-east-1", "fresh")
    assert new.pool_id.startswith("us-east-1:")
    assert derived_pool_id(ACCOUNT, "us-east-1", "fresh") != derived_pool_id(
        "111111111111", "us-east-1", "fresh"
    )
    stored = IdentityPool("fresh", "us-east-1:11111111-1111-4111-8111-111111111111")
    (found,) = resolved(
        HEAD + "  - name: fresh\n", State(ACCOUNT, identity_pools=(stored,))
    ).identity_pools
    assert found.pool_id == stored.pool_id


def test_a_derived_id_taken_by_a_renamed_pool_moves_on() -> None:
    taken = IdentityPool("renamed", derived_pool_id(ACCOUNT, "us-east-1", "fresh"))
    (pool,) = resolved(
        HEAD + "  - name: fresh\n", State(ACCOUNT, identity_pools=(taken,))
    ).identity_pools
    assert pool.pool_id == derived_pool_id(ACCOUNT, "us-east-1", "fresh", 1)


def test_ambiguous_and_duplicate_entries_are_problems() -> None:
    twins = (
        IdentityPool("same", "us-east-1:11111111-1111-4111-8111-111111111111"),
        IdentityPool("same", "us-east-1:22222222-2222-4222-8222-222222222222"),
    )
    found = one(
        problems_of(HEAD + "  - name: same\n", State(ACCOUNT, identity_pools=twins)), "add 'id:'"
    )
    assert found.line == 12
    # An entry with the id claims one of them; the other entry then means the remaining one.
    text = HEAD + f"  - name: same\n    id: '{twins[0].pool_id}'\n  - name: same\n"
    pools = resolved(text, State(ACCOUNT, identity_pools=twins)).identity_pools
    assert [p.pool_id for p in pools] == [twins[0].pool_id, twins[1].pool_id]
    one(problems_of(HEAD + "  - name: a\n  - name: a\n"), "duplicate identity pool name")
    text = HEAD + f"  - name: a\n    id: {POOL_ID}\n  - name: b\n    id: {POOL_ID}\n"
    one(problems_of(text), "duplicate identity pool id")


# Plans


def test_a_new_pool_is_created_then_given_roles_and_principal_tags() -> None:
    desired = resolved(HEAD + POOL)
    planned = plan(desired, State(ACCOUNT, desired.providers, (), desired.roles))
    kinds = [type(change) for change in planned.changes]
    assert kinds == [c.CreateIdentityPool, c.SetIdentityPoolRoles, c.SetPrincipalTags]
    assert summary(planned) == "3 to create, 0 to update, 0 to delete"
    assert plan(desired, desired).empty


def test_changes_to_an_existing_pool() -> None:
    desired = resolved(HEAD + POOL)
    (pool,) = desired.identity_pools
    stored = dataclasses.replace(
        pool,
        allow_unauthenticated=False,
        roles=Tags.of({"authenticated": ROLE_ARN}),
        principal_tags=(),
        tags=Tags.of({"env": "old", "owner": "me"}),
    )
    planned = plan(desired, dataclasses.replace(desired, identity_pools=(stored,)))
    described = [change.describe() for change in planned.changes]
    assert described[0] == f"update identity pool {POOL_ID} ('game players'): allow_unauthenticated"
    assert described[1].startswith(f"set the roles of identity pool {POOL_ID}")
    assert described[2] == (
        f"set the principal tags of identity pool {POOL_ID} for accounts.example.com: team=team"
    )
    assert described[3] == f"untag {pool.arn(ACCOUNT)}: owner"
    assert described[4] == f"tag {pool.arn(ACCOUNT)}: env=demo"
    assert summary(planned) == "0 to create, 5 to update, 0 to delete"


def test_a_principal_tag_map_left_out_goes_back_to_the_default() -> None:
    desired = resolved(HEAD + POOL.replace("    principal_tags:", "    # principal_tags:"))
    (pool,) = desired.identity_pools
    mapped = (("accounts.example.com", PrincipalTags(True)),)
    stored = dataclasses.replace(pool, principal_tags=mapped)
    planned = plan(desired, dataclasses.replace(desired, identity_pools=(stored,)))
    assert planned.changes == (
        c.SetPrincipalTags(POOL_ID, "accounts.example.com", PrincipalTags()),
    )


def test_a_developer_provider_name_left_out_is_kept_with_a_warning() -> None:
    desired = resolved(
        HEAD + POOL.replace("    developer_provider_name:", "    # developer_provider_name:")
    )
    (pool,) = desired.identity_pools
    stored = dataclasses.replace(pool, developer_provider_name="login.game.example")
    planned = plan(desired, dataclasses.replace(desired, identity_pools=(stored,)))
    assert planned.empty
    assert planned.warnings == (
        f"identity pool {POOL_ID} ('game players'): a developer provider name cannot be "
        "removed; keeping login.game.example",
    )


def test_prune_deletes_undeclared_pools_first_and_keeps_providers_pools_trust() -> None:
    """The provider is only in IAM, not in the file; a declared pool trusts it, so it stays."""
    iam_provider = Provider("https://accounts.example.com")
    text = (
        "version: 1\nidentity_pools:\n"
        "  - name: p\n    openid_connect_providers: [accounts.example.com]\n"
    )
    desired = resolved(text, State(ACCOUNT, providers=(iam_provider,)))
    extra = IdentityPool("old", "us-east-1:33333333-3333-4333-8333-333333333333")
    current = State(
        ACCOUNT, providers=(iam_provider,), roles=(Role("gone", trust()),), identity_pools=(extra,)
    )
    pruned = plan(desired, current, prune=True)
    deletions = [change for change in pruned.changes if change.effect is c.Effect.DELETE]
    assert deletions == [c.DeleteIdentityPool(extra.pool_id, "old"), c.DeleteRole("gone")]
    kept = plan(desired, current)
    assert [type(change) for change in kept.changes] == [c.CreateIdentityPool]


# End to end: webfed apply and webfed export against a real database


@pytest.fixture
def account() -> str:
    return "".join(random.choice("0123456789") for _ in range(12))


@pytest.fixture
def site(database_url: str, account: str, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    runner = CliRunner()

    def run(command: str, *args: str, text: str | None = None, account_id: str = account) -> Result:
        common = [
            "--database-url",
            database_url,
            "--account-id",
            account_id,
            "--data-dir",
            str(tmp_path),
            "--allow-http-issuers",
        ]
        extra = list(args)
        if text is not None:
            path = tmp_path / f"config-{random.getrandbits(32)}.yaml"
            path.write_text(text.replace(ACCOUNT, account_id))
            extra = ["-f", str(path), *extra]
        if command == "export":
            common.remove("--allow-http-issuers")
        target = apply if command == "apply" else export
        return runner.invoke(target, [*extra, *common], catch_exceptions=False)

    yield run


def test_apply_twice_export_and_apply_again(site: Callable[..., Result], account: str) -> None:
    pool_id = f"us-east-1:{random.getrandbits(32):08x}-0000-4000-8000-000000000001"
    text = HEAD + POOL.replace(POOL_ID, pool_id) + "  - name: second pool\n"
    first = site("apply", text=text)
    assert first.exit_code == 0, first.output
    assert f"+ create identity pool {pool_id} ('game players')" in first.output
    assert "+ set the principal tags of identity pool" in first.output
    assert "+ create identity pool us-east-1:" in first.output
    assert (
        site("apply", text=text)
        .output.strip()
        .endswith("No changes: IAM already matches the file.")
    )
    exported = site("export")
    assert exported.exit_code == 0, exported.output
    assert f"id: {pool_id}" in exported.output
    assert "authenticated: player" in exported.output
    assert "role: red" in exported.output
    assert "- https://accounts.example.com" in exported.output
    again = site("apply", text=exported.output)
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_dry_run_shows_the_update_and_prune_deletes(site: Callable[..., Result]) -> None:
    base = HEAD + "  - name: kept\n  - name: dropped\n"
    assert site("apply", text=base).exit_code == 0
    changed = HEAD + "  - name: kept\n    allow_unauthenticated: true\n    tags: {env: demo}\n"
    dry = site("apply", "--dry-run", text=changed)
    assert dry.exit_code == 0, dry.output
    assert "('kept'): allow_unauthenticated" in dry.output
    assert "Dry run: nothing was changed." in dry.output
    without_prune = site("apply", text=changed)
    assert "delete identity pool" not in without_prune.output
    pruned = site("apply", "--prune", text=changed)
    assert pruned.exit_code == 0, pruned.output
    assert "('dropped') and its identities" in pruned.output
    assert "No changes" in site("apply", "--prune", text=changed).output


def test_a_fixed_id_held_by_another_account_fails_cleanly(site: Callable[..., Result]) -> None:
    pool_id = f"us-east-1:{random.getrandbits(32):08x}-0000-4000-8000-000000000002"
    text = f"version: 1\nidentity_pools:\n  - name: mine\n    id: {pool_id}\n"
    assert site("apply", text=text).exit_code == 0
    other = site(
        "apply", text=text, account_id="".join(random.choice("0123456789") for _ in range(12))
    )
    assert other.exit_code == 1
    assert f"Identity pool id {pool_id} is already in use" in other.output
    assert "0 of 1 changes were applied" in other.output


def test_an_invalid_pool_changes_nothing(site: Callable[..., Result]) -> None:
    text = HEAD + "  - name: p\n    supported_login_providers: {example.com: app}\n"
    result = site("apply", text=text)
    assert result.exit_code == 1
    assert "line 13: identity_pools[0].supported_login_providers.example.com:" in result.output
    assert "nothing was changed" in result.output
    assert "identity_pools" not in site("export").output


def test_two_applies_at_once_create_one_pool(database_url: str, account: str) -> None:
    """Both plan the same derived id; the loser's create is a conflict, it plans again and
    finds the winner's pool, so the account ends with one pool of that name, not two."""
    text = "version: 1\nidentity_pools:\n  - name: shared\n    allow_unauthenticated: true\n"
    settings = Settings(account_id=account, database_url=database_url)
    migrate(database_url)

    async def race() -> tuple[list[ApplyReport], list[str]]:
        store = await Store.open(database_url)
        try:
            config = load_config(text)
            reports = await asyncio.gather(
                apply_to_store(store, settings, config), apply_to_store(store, settings, config)
            )
            page = await store.identity_pools.list(account, None, 60)
            return list(reports), [pool.pool_id for pool in page.pools]
        finally:
            await store.close()

    reports, pool_ids = asyncio.run(race())
    assert all(report.ok for report in reports), [report.error for report in reports]
    assert pool_ids == [derived_pool_id(account, "us-east-1", "shared")]
    assert sum(len(report.applied) for report in reports) == 1


def test_a_bad_id_is_one_problem() -> None:
    text = (
        HEAD + "  - name: p\n    id: 'us-east-1:NOT-A-UUID'\n    roles: {authenticated: player}\n"
    )
    problems = problems_of(text)
    assert [p.where for p in problems] == ["identity_pools[0].id"], [str(p) for p in problems]

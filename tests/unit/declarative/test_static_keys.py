"""A provider's static key set in the declarative file: read and checked, planned (with its
diff), applied through webfed's own operation, read back, exported, and refused when bad."""

from __future__ import annotations

import asyncio
import json
import random
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.tokens import generate_signing_key, jwks_document
from tests.unit.declarative.helpers import ACCOUNT, ISSUER, PROVIDER_ARN, load
from webfed.api.iam import OPERATIONS
from webfed.cli_declarative import apply, export
from webfed.declarative.changes import CreateProvider, Effect, SetStaticKeys
from webfed.declarative.export import state_to_document
from webfed.declarative.iam_client import IamClient
from webfed.declarative.model import Provider, State
from webfed.declarative.plan import plan
from webfed.declarative.provider_operations import static_key_operations
from webfed.declarative.render import document_diff
from webfed.declarative.schema import read_config
from webfed.declarative.static_keys import GET_STATIC_KEYS, SET_STATIC_KEYS
from webfed.errors import InvalidInput, NoSuchEntity
from webfed.jwks import check_static_key_set
from webfed.settings import Settings
from webfed.storage import Store, migrate

KEY_1 = generate_signing_key("RS256", "key-1")
KEY_2 = generate_signing_key("ES256", "key-2")
SET_1 = jwks_document(KEY_1)
SET_2 = jwks_document(KEY_2)


def _inline(document: object) -> str:
    return f"""\
        version: 1
        providers:
          - url: {ISSUER}
            client_ids: [app]
            static_keys: {json.dumps(document)}
        """


def test_an_inline_mapping_is_read_as_canonical_json() -> None:
    config = load(_inline(SET_1))
    assert config.providers[0].static_keys == check_static_key_set(SET_1)


def test_a_json_string_is_read_too() -> None:
    text = _inline(SET_1).replace(
        f"static_keys: {json.dumps(SET_1)}", f"static_keys: '{json.dumps(SET_1)}'"
    )
    assert load(text).providers[0].static_keys == check_static_key_set(SET_1)


def test_a_file_is_read_relative_to_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "idp.json").write_text(json.dumps(SET_1))
    text = f"version: 1\nproviders:\n  - url: {ISSUER}\n    static_keys_file: keys/idp.json\n"
    config, problems = read_config(text, tmp_path)
    assert problems == []
    assert config is not None
    assert config.providers[0].static_keys == check_static_key_set(SET_1)


def test_no_static_keys_means_fetched_keys() -> None:
    config = load(f"version: 1\nproviders: [{{url: '{ISSUER}'}}]\n")
    assert config.providers[0].static_keys is None


def _problems(text: str, base_dir: Path | None = None) -> list[str]:
    _, problems = read_config(textwrap.dedent(text), base_dir)
    return [str(problem) for problem in problems]


def test_a_private_key_is_refused_naming_the_provider_never_echoed() -> None:
    private = dict(KEY_1.private.as_dict(private=True), kid="key-1")
    problems = _problems(_inline({"keys": [private]}))
    assert len(problems) == 1
    assert problems[0].startswith("line 5: providers[0].static_keys: ")
    assert f"the static key set of provider {ISSUER} is refused" in problems[0]
    assert "private or secret key" in problems[0]
    for member in ("d", "p", "q", "dp", "dq", "qi"):
        assert str(private[member]) not in problems[0]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"keys": []}, "has no keys"),
        ({"keys": [KEY_1.public_jwk(), {**KEY_2.public_jwk(), "kid": None}]}, "has no kid"),
        ({"keys": [{"kty": "oct", "kid": "x"}]}, "key type 'oct'"),
        ({"keys": [KEY_1.public_jwk(alg="HS256")]}, "alg 'HS256'"),
    ],
    ids=["no-keys", "missing-kid", "unsupported-kty", "unsupported-alg"],
)
def test_a_bad_set_is_a_problem(document: object, reason: str) -> None:
    problems = _problems(_inline(document))
    assert len(problems) == 1 and reason in problems[0], problems


def test_text_that_is_not_json_is_a_problem() -> None:
    problems = _problems(f"version: 1\nproviders:\n  - url: {ISSUER}\n    static_keys: '{{nope'\n")
    assert problems == [
        "line 4: providers[0].static_keys: the static key set is not JSON "
        "(Expecting property name enclosed in double quotes at line 1 column 2)"
    ]


def test_a_missing_file_and_both_forms_are_problems(tmp_path: Path) -> None:
    missing = f"version: 1\nproviders:\n  - url: {ISSUER}\n    static_keys_file: gone.json\n"
    [problem] = _problems(missing, tmp_path)
    assert "providers[0].static_keys_file: cannot read" in problem
    assert "gone.json" in problem
    both = _inline(SET_1) + "    static_keys_file: keys.json\n"
    assert _problems(both) == [
        "line 5: providers[0]: give static_keys or static_keys_file, not both"
    ]


def _state(*providers: Provider) -> State:
    return State(account_id=ACCOUNT, providers=providers)


def test_plan_sets_changes_and_removes_the_set_with_a_key_diff() -> None:
    one, two = check_static_key_set(SET_1), check_static_key_set(SET_2)
    created = plan(_state(Provider(ISSUER, static_keys=one)), _state()).changes
    assert created == (
        CreateProvider(Provider(ISSUER, static_keys=one)),
        SetStaticKeys(PROVIDER_ARN, one, created=True),
    )
    assert created[1].effect is Effect.CREATE
    [rotate] = plan(
        _state(Provider(ISSUER, static_keys=two)), _state(Provider(ISSUER, static_keys=one))
    ).changes
    assert isinstance(rotate, SetStaticKeys) and rotate.effect is Effect.UPDATE
    diff = document_diff(rotate)
    assert f"-kid=key-1 kty=RSA alg=RS256 thumbprint={KEY_1.private.thumbprint()}" in diff
    assert f"+kid=key-2 kty=EC alg=ES256 thumbprint={KEY_2.private.thumbprint()}" in diff
    [remove] = plan(_state(Provider(ISSUER)), _state(Provider(ISSUER, static_keys=two))).changes
    assert remove == SetStaticKeys(PROVIDER_ARN, None)
    assert remove.effect is Effect.DELETE
    assert "its keys are fetched again" in remove.describe()
    same = plan(
        _state(Provider(ISSUER, static_keys=one)), _state(Provider(ISSUER, static_keys=one))
    )
    assert same.empty


def test_export_writes_the_set_inline() -> None:
    exported = state_to_document(_state(Provider(ISSUER, static_keys=check_static_key_set(SET_1))))
    assert exported["providers"] == [{"url": ISSUER, "static_keys": SET_1}]


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    """``webfed apply``/``export`` against this test's database, in an account of its own."""
    runner = CliRunner()
    account = "".join(random.choice("0123456789") for _ in range(12))
    common = ["--database-url", database_url, "--account-id", account, "--data-dir", str(tmp_path)]

    def run(command: str, text: str | None = None) -> Result:
        extra: list[str] = []
        if text is not None:
            path = tmp_path / f"config-{random.getrandbits(32)}.yaml"
            path.write_text(textwrap.dedent(text))
            extra = ["-f", str(path)]
        target = apply if command == "apply" else export
        return runner.invoke(target, [*extra, *common], catch_exceptions=False)

    yield run


def test_apply_stores_rotates_exports_and_removes_the_set(
    site: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "idp.json").write_text(json.dumps(SET_1))
    by_file = _inline(SET_1).replace(
        f"static_keys: {json.dumps(SET_1)}", "static_keys_file: idp.json"
    )
    first = site("apply", by_file)
    assert first.exit_code == 0, first.output
    assert "+ set the static key set of arn:aws:iam::" in first.output
    assert "Plan: 2 to create, 0 to update, 0 to delete." in first.output
    assert "No changes" in site("apply", _inline(SET_1)).output
    exported = site("export").output
    assert "static_keys:" in exported and "kid: key-1" in exported
    assert "No changes" in site("apply", exported).output
    rotated = site("apply", _inline(SET_2))
    assert rotated.exit_code == 0, rotated.output
    assert "~ set the static key set of" in rotated.output
    assert "-kid=key-1" in rotated.output and "+kid=key-2" in rotated.output
    removed = site("apply", f"version: 1\nproviders: [{{url: '{ISSUER}'}}]\n")
    assert "- remove the static key set of" in removed.output
    assert "static_keys" not in site("export").output


def test_a_bad_set_changes_nothing(site: Callable[..., Result]) -> None:
    private = dict(KEY_1.private.as_dict(private=True), kid="key-1")
    refused = site("apply", _inline({"keys": [private]}))
    assert refused.exit_code == 1
    assert "private or secret key" in refused.output
    assert str(private["d"])[:40] not in refused.output
    assert "providers" not in site("export").output


async def test_the_operations_check_again_and_bump_the_iam_revision(database_url: str) -> None:
    """Whoever calls ``SetOpenIDConnectProviderStaticKeys``, nothing unchecked is stored, and
    the change moves the IAM revision that every node polls."""
    account = "".join(random.choice("0123456789") for _ in range(12))
    await asyncio.to_thread(migrate, database_url)
    store = await Store.open(database_url)
    try:
        settings = Settings(account_id=account, database_url=database_url)
        client = IamClient({**OPERATIONS, **static_key_operations()}, store, settings)
        created = await client.call("CreateOpenIDConnectProvider", {"Url": ISSUER})
        arn = created["OpenIDConnectProviderArn"]
        before = await store.iam.revision(account)
        text = check_static_key_set(SET_1)
        await client.call(SET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn, "StaticKeySet": text})
        assert await store.iam.revision(account) == before + 1
        assert await client.call(GET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn}) == {
            "StaticKeySet": text
        }
        private = json.dumps({"keys": [dict(KEY_1.private.as_dict(private=True), kid="k")]})
        with pytest.raises(InvalidInput) as refused:
            await client.call(
                SET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn, "StaticKeySet": private}
            )
        assert "private or secret key" in refused.value.message
        other = arn.replace(account, "999999999999")
        with pytest.raises(NoSuchEntity):
            await client.call(GET_STATIC_KEYS, {"OpenIDConnectProviderArn": other})
        await client.call(SET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn, "StaticKeySet": None})
        assert await client.call(GET_STATIC_KEYS, {"OpenIDConnectProviderArn": arn}) == {}
        wire = await client.call("GetOpenIDConnectProvider", {"OpenIDConnectProviderArn": arn})
        assert "StaticKeySet" not in wire
    finally:
        await store.close()

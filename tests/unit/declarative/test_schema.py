"""The loader and the schema: every kind of structural problem, with its line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.declarative.helpers import FULL, load, read
from webfed.declarative.model import PolicyDocument, Tags
from webfed.declarative.schema import read_config
from webfed.declarative.source import MAX_DOCUMENT_NODES, Problem, raise_problems
from webfed.errors import InvalidConfiguration, InvalidInput

TRUST = '{"Version": "2012-10-17", "Statement": []}'


def test_full_example_reads_into_typed_values() -> None:
    config = load(FULL)
    assert config.version == 1
    assert config.settings == {"region": "eu-west-1"}
    (provider,) = config.providers
    assert provider.url == "https://accounts.example.com"
    assert provider.client_ids == ("game-app", "web-app")
    assert provider.tags == Tags.of({"team": "games"})
    scores, boundary = config.policies
    assert (scores.name, scores.path, scores.description) == (
        "scores-read",
        "/game/",
        "Read the score table",
    )
    assert boundary.path == "/"
    (role,) = config.roles
    assert role.max_session_duration == 7200
    assert role.managed_policies == ("scores-read",)
    assert role.permissions_boundary == "boundary"
    assert [policy.name for policy in role.inline_policies] == ["own-saves"]


def test_unquoted_version_date_stays_a_string() -> None:
    config = load(FULL)
    document = config.policies[0].document.value()
    assert isinstance(document, dict)
    assert document["Version"] == "2012-10-17"


def test_yes_and_no_stay_strings_in_documents() -> None:
    config = load(
        """\
        version: 1
        policies:
          - name: p
            document:
              Version: 2012-10-17
              Statement:
                - {Effect: Allow, Action: "*", Resource: "*",
                   Condition: {StringEquals: {"aws:x": [yes, no, on, off]}}}
                - {Effect: Allow, Action: "*", Resource: "*",
                   Condition: {Bool: {"aws:SecureTransport": true}}}
        """
    )
    statements = json.loads(config.policies[0].document.text)["Statement"]
    assert statements[0]["Condition"]["StringEquals"]["aws:x"] == ["yes", "no", "on", "off"]
    assert statements[1]["Condition"]["Bool"]["aws:SecureTransport"] is True


def test_document_as_mapping_equals_document_as_json_string() -> None:
    as_mapping = load(
        """\
        version: 1
        policies:
          - name: p
            document:
              {Version: 2012-10-17, Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
        """
    ).policies[0]
    as_string = load(
        """\
        version: 1
        policies:
          - name: p
            document: |
              {"Statement": [{"Resource": "*", "Action": "*", "Effect": "Allow"}],
               "Version": "2012-10-17"}
        """
    ).policies[0]
    assert as_mapping.document == as_string.document
    assert as_string.document.text.startswith('{"Statement"')  # sent as written


def test_empty_sections_and_defaults() -> None:
    config = load(
        f"""\
        version: 1
        providers:
        roles:
          - name: r
            trust_policy: '{TRUST}'
        """
    )
    (role,) = config.roles
    assert (role.path, role.description, role.max_session_duration) == ("/", "", 3600)
    assert role.managed_policies == () and role.permissions_boundary is None
    assert config.providers == ()


ERRORS = [
    ("version: 1\nroles: [\n", 3, "YAML syntax error"),
    ("version: 1\nroles:\n  - name: a\n   bad: indent\n", 4, "YAML syntax error"),
    ("version: 2\n", 1, "unsupported version 2"),
    ("roles: []\n", 1, "missing required key 'version'"),
    ("version: 1\nrolez: []\n", 2, "unknown key 'rolez'"),
    ("- 1\n", 1, "must be a mapping"),
    ("version: 1\nversion: 1\n", 2, "duplicate key 'version'"),
    ("version: 1\nroles: {name: a}\n", 2, "must be a list"),
    ("version: 1\nroles:\n  - name: a\n", 3, "missing required key 'trust_policy'"),
    (f"version: 1\nroles:\n  - name: a b\n    trust_policy: '{TRUST}'\n", 3, "must match"),
    (f"version: 1\nroles:\n  - name: '{'x' * 65}'\n    trust_policy: '{TRUST}'\n", 3, "1 to 64"),
    (f"version: 1\nroles:\n  - name: 42\n    trust_policy: '{TRUST}'\n", 3, "must be a string"),
    (
        f"version: 1\nroles:\n  - name: a\n    path: no-slash\n    trust_policy: '{TRUST}'\n",
        4,
        "must match",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    max_session_duration: 60\n"
        f"    trust_policy: '{TRUST}'\n",
        4,
        "from 3600 to 43200",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    max_session_duration: '3600'\n"
        f"    trust_policy: '{TRUST}'\n",
        4,
        "whole number",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n    colour: red\n",
        5,
        "unknown key 'colour'",
    ),
    ("version: 1\nroles:\n  - name: a\n    trust_policy: '{not json'\n", 4, "not valid JSON"),
    ("version: 1\nroles:\n  - name: a\n    trust_policy: '[1, 2]'\n", 4, "JSON object"),
    ("version: 1\nroles:\n  - name: a\n    trust_policy: [1]\n", 4, "mapping or a JSON string"),
    (
        "version: 1\nroles:\n  - name: a\n    trust_policy:\n      Version: x\n      Version: y\n",
        6,
        "duplicate key 'Version'",
    ),
    (
        "version: 1\nroles:\n  - name: a\n    trust_policy:\n      Version: !!binary aGk=\n",
        5,
        "unsupported YAML tag",
    ),
    (
        "version: 1\nroles:\n  - name: a\n    trust_policy:\n      1: x\n",
        5,
        "keys must be strings",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n"
        "    inline_policies:\n      'bad name': '{}'\n",
        6,
        "policy name 'bad name'",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n"
        "    tags: {Env: a, env: b}\n",
        5,
        "differ only in case",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n    tags: {{env: 3}}\n",
        5,
        "must be a string (quote it)",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n    tags: {{'a*b': x}}\n",
        5,
        "tag key 'a*b'",
    ),
    (
        f"version: 1\nroles:\n  - name: a\n    trust_policy: '{TRUST}'\n    tags: [a]\n",
        5,
        "mapping of tag keys",
    ),
    ("version: 1\npolicies:\n  - name: p\n", 3, "missing required key 'document'"),
    (
        "version: 1\npolicies:\n  - name: p\n    path: /a//b/\n    document: '{}'\n",
        4,
        "must match",
    ),
    (
        "version: 1\npolicies:\n  - name: p\n    description: \"\\u2603\"\n    document: '{}'\n",
        4,
        "printable Latin-1",
    ),
    ("version: 1\nproviders:\n  - client_ids: [a]\n", 3, "missing required key 'url'"),
    (
        "version: 1\nproviders:\n  - url: https://x.example\n    thumbprints: [abc]\n",
        4,
        "40 to 40",
    ),
    (
        "version: 1\nproviders:\n  - url: https://x.example\n    thumbprints: ['"
        + "g" * 40
        + "']\n",
        4,
        "hexadecimal",
    ),
    (
        "version: 1\nproviders:\n  - url: https://x.example\n    client_ids: "
        + json.dumps([str(n) for n in range(101)])
        + "\n",
        4,
        "at most 100 items",
    ),
    (
        "version: 1\nproviders:\n  - url: https://x.example\n    client_ids: ['']\n",
        4,
        "1 to 255",
    ),
    ("version: 1\nsettings: [a]\n", 2, "mapping of setting names"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    ERRORS,
    ids=[
        "syntax-unclosed",
        "syntax-indent",
        "version-unsupported",
        "version-missing",
        "top-unknown-key",
        "top-not-mapping",
        "top-duplicate-key",
        "section-not-list",
        "role-missing-trust",
        "role-name-pattern",
        "role-name-length",
        "role-name-number",
        "role-path-pattern",
        "duration-range",
        "duration-string",
        "role-unknown-key",
        "trust-bad-json",
        "trust-json-array",
        "trust-wrong-type",
        "document-duplicate-key",
        "document-binary-tag",
        "document-int-key",
        "inline-name",
        "tags-case-duplicate",
        "tags-number-value",
        "tags-bad-key",
        "tags-not-mapping",
        "policy-missing-document",
        "policy-path-pattern",
        "policy-description-charset",
        "provider-missing-url",
        "thumbprint-length",
        "thumbprint-hex",
        "client-ids-too-many",
        "client-id-empty",
        "settings-not-mapping",
    ],
)
def test_structural_problem_is_reported_with_its_line(text: str, line: int, fragment: str) -> None:
    _, problems = read_config(text)
    assert problems, "expected a problem"
    matching = [p for p in problems if fragment in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].line == line, [str(p) for p in problems]


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    _, problems = read(
        """\
        version: 1
        roles:
          - name: 'a b'
            trust_policy: '{}'
          - name: ok
            trust_policy: '{}'
            max_session_duration: 1
        policies:
          - name: p
            document: 5
        """
    )
    assert sorted(p.line for p in problems if p.line) == [3, 7, 10]


def test_empty_file_is_a_problem() -> None:
    config, problems = read_config("")
    assert config is None
    assert "version: 1" in problems[0].message


def test_alias_expansion_is_capped() -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines += ["policies:", "  - name: p", "    document: {Statement: *a7}"]
    _, problems = read_config("\n".join(lines) + "\n")
    assert any("too large" in p.message for p in problems)
    assert MAX_DOCUMENT_NODES < 10**8


def test_oversized_file_is_refused_before_parsing() -> None:
    _, problems = read_config("#" * (5 * 1024 * 1024))
    assert "larger than" in problems[0].message


def test_raise_problems_orders_by_line_and_names_the_file() -> None:
    problems = [Problem("second", 9, "roles[1]"), Problem("first", 2, "version")]
    with pytest.raises(InvalidConfiguration) as caught:
        raise_problems(problems, "site.yaml")
    assert caught.value.problems == (
        "site.yaml: line 2: version: first",
        "site.yaml: line 9: roles[1]: second",
    )
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "InvalidInput"


def test_raise_problems_is_silent_without_problems() -> None:
    raise_problems([], "site.yaml")


# Policy documents are limited to tab, newline, carriage return and U+0020..U+00FF.
latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(latin1, max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(latin1, min_size=1, max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(latin1, min_size=1, max_size=6), json_values, max_size=5))
def test_policy_mapping_and_its_json_string_read_the_same(document: dict[str, object]) -> None:
    """A document written as YAML or as the equivalent JSON string is the same document."""
    as_json = json.dumps(document)
    text = (
        "version: 1\npolicies:\n  - name: a\n    document: "
        + json.dumps(as_json)
        + "\n  - name: b\n    document: "
        + as_json
        + "\n"
    )
    config, problems = read_config(text)
    assert problems == []
    assert config is not None
    expected = PolicyDocument.from_value(document)  # type: ignore[arg-type]  # JSON by construction
    assert config.policies[0].document == expected
    assert config.policies[1].document == expected

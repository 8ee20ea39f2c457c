"""Plain YAML scalars resolve as YAML 1.2's JSON-compatible subset, so documents keep their text.

YAML 1.1 (PyYAML's default) reads ``012345670123`` as octal, ``1:20`` as base 60 and ``1_000`` as
``1000``; a policy document must reach IAM exactly as written, so only JSON numbers are numbers
(kept as their text), only ``true``/``false`` (any of YAML 1.2's three spellings) are booleans,
and only YAML 1.2 core's nulls are null. Everything else is a string.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.declarative.helpers import read
from webfed.declarative.json_text import Number, dumps, loads
from webfed.declarative.model import PolicyDocument


def document_text(scalar: str) -> str:
    config, problems = read(
        f"""\
        version: 1
        policies:
          - name: p
            document: {{Version: 2012-10-17, V: {scalar}}}
        """
    )
    assert problems == [], [str(problem) for problem in problems]
    assert config is not None
    return config.policies[0].document.text


@pytest.mark.parametrize(
    ("scalar", "written"),
    [
        ("012345670123", '"012345670123"'),
        ("1:20", '"1:20"'),
        ("1_000", '"1_000"'),
        ("0x1F", '"0x1F"'),
        ("0o17", '"0o17"'),
        ("0b101", '"0b101"'),
        ("+1", '"+1"'),
        (".5", '".5"'),
        ("1.", '"1."'),
        ("1:20.5", '"1:20.5"'),
        (".inf", '".inf"'),
        ("-.inf", '"-.inf"'),
        (".nan", '".nan"'),
        ("yes", '"yes"'),
        ("off", '"off"'),
        ("y", '"y"'),
        ("=", '"="'),
        ("2012-10-17", '"2012-10-17"'),
        ("2001-12-14t21:59:43.10-05:00", '"2001-12-14t21:59:43.10-05:00"'),
    ],
    ids=[
        "leading-zero-octal-1.1",
        "sexagesimal",
        "underscore",
        "hex",
        "octal-1.2",
        "binary",
        "plus-sign",
        "no-integer-part",
        "no-fraction-digits",
        "sexagesimal-float",
        "infinity",
        "minus-infinity",
        "nan",
        "yes",
        "off",
        "y",
        "value-key",
        "date",
        "timestamp",
    ],
)
def test_non_json_scalars_stay_strings(scalar: str, written: str) -> None:
    assert document_text(scalar) == '{"Version":"2012-10-17","V":' + written + "}"


@pytest.mark.parametrize(
    "scalar",
    ["0", "-0", "12", "-12", "1.50", "1e5", "1E+5", "-1.5e-3", "1" * 5001, "0.0000000001"],
    ids=[
        "zero",
        "minus-zero",
        "int",
        "negative",
        "trailing-zero",
        "exponent",
        "exponent-sign",
        "all-parts",
        "5001-digits",
        "small",
    ],
)
def test_json_numbers_are_numbers_kept_as_written(scalar: str) -> None:
    assert document_text(scalar) == '{"Version":"2012-10-17","V":' + scalar + "}"


@pytest.mark.parametrize(
    ("scalar", "written"),
    [
        ("true", "true"),
        ("True", "true"),
        ("TRUE", "true"),
        ("false", "false"),
        ("FALSE", "false"),
        ("tRUE", '"tRUE"'),
        ("null", "null"),
        ("Null", "null"),
        ("NULL", "null"),
        ("~", "null"),
        ("", "null"),
        ("nULL", '"nULL"'),
    ],
    ids=[
        "true",
        "True",
        "TRUE",
        "false",
        "FALSE",
        "mixed-case-true",
        "null",
        "Null",
        "NULL",
        "tilde",
        "empty",
        "mixed-case-null",
    ],
)
def test_booleans_and_nulls_follow_yaml_1_2_core(scalar: str, written: str) -> None:
    assert document_text(scalar) == '{"Version":"2012-10-17","V":' + written + "}"


@pytest.mark.parametrize(
    "scalar",
    ["!!int 0x10", "!!int 010", "!!float .inf", "!!bool yes", "!!null nothing", "!!int 1_0"],
    ids=["hex", "leading-zero", "infinity", "yes", "null-text", "underscore"],
)
def test_explicit_tags_cannot_smuggle_yaml_1_1_values(scalar: str) -> None:
    config, problems = read(
        f"""\
        version: 1
        policies:
          - name: p
            document: {{Version: 2012-10-17, V: {scalar}}}
        """
    )
    assert config is not None and problems, "expected a problem"
    assert problems[0].where == "policies[0].document.V"


@pytest.mark.parametrize(
    ("scalar", "message"),
    [("03600", "must be a whole number"), ("3_600", "must be a whole number")],
    ids=["leading-zero", "underscore"],
)
def test_number_fields_take_json_numbers_only(scalar: str, message: str) -> None:
    _, problems = read(
        f"""\
        version: 1
        roles:
          - name: r
            max_session_duration: {scalar}
            trust_policy: {{Version: 2012-10-17, Statement: []}}
        """
    )
    assert any(message in problem.message for problem in problems), problems


def test_merge_key_is_an_ordinary_key() -> None:
    assert document_text("{<<: 1}") == '{"Version":"2012-10-17","V":{"<<":1}}'


@pytest.mark.parametrize(
    "text",
    ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 01}', '{"a": 1.}', "[" * 5000],
    ids=["nan", "infinity", "minus-infinity", "leading-zero", "bare-dot", "too-deep"],
)
def test_loads_refuses_what_json_does_not_allow(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text)


def test_huge_numbers_survive_parsing_and_comparison() -> None:
    digits = "9" * 5001
    document = PolicyDocument.from_text('{"Version": "2012-10-17", "N": ' + digits + "}")
    assert document.value() == {"Version": "2012-10-17", "N": Number(digits)}
    assert document == PolicyDocument.from_value({"N": Number(digits), "Version": "2012-10-17"})


def test_documents_are_written_in_ascii() -> None:
    document = PolicyDocument.from_value({"Resource": "arn:aws:s3:::b/日本", "Sid": "é"})
    assert document.text == '{"Resource":"arn:aws:s3:::b/\\u65e5\\u672c","Sid":"\\u00e9"}'
    assert document == PolicyDocument.from_text('{"Sid":"é","Resource":"arn:aws:s3:::b/日本"}')


def test_number_refuses_non_json_text() -> None:
    with pytest.raises(ValueError):
        Number("0x10")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_dumps_agrees_with_the_standard_library(value: object) -> None:
    expected = json.dumps(value, separators=(",", ":"), sort_keys=True)
    assert dumps(value, sort_keys=True) == expected  # type: ignore[arg-type]  # JSON by construction
    assert json.loads(dumps(loads(expected))) == value


@given(json_values)
def test_indented_dumps_lays_out_like_the_standard_library(value: object) -> None:
    expected = json.dumps(value, indent=2)
    assert dumps(loads(expected), indent=2) == expected

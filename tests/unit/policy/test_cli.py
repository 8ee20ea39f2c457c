"""``webfed policy check`` and ``webfed policy simulate`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from webfed.cli_policy import policy
from webfed.core.policy import PolicyKind, parse_policy
from webfed.core.policy.lint import lint_policy, statement_lines

GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def write(tmp_path: Path, name: str, body: object) -> Path:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body, indent=2))
    return path


def trust(condition: dict[str, object] | None = None, provider: str = GITHUB) -> dict[str, object]:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(policy, list(args))
    return result.exit_code, result.output


def test_check_reports_errors_with_lines(tmp_path: Path) -> None:
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n'
        '    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},\n'
        '    {\n      "Effect": "allow",\n      "Action": "s3:GetObject", "Resource": "*"\n    }\n'
        "  ]\n}\n"
    )
    code, output = run("check", str(write(tmp_path, "p.json", text)))
    assert code == 1
    assert 'p.json:5: error: Statement[1], element Effect: must be "Allow" or "Deny"' in output


def test_check_reports_json_error_line(tmp_path: Path) -> None:
    code, output = run("check", str(write(tmp_path, "p.json", '{\n  "Statement": [\n}')))
    assert code == 1 and "p.json:3: error: not valid JSON" in output


def test_check_ok_and_size(tmp_path: Path) -> None:
    body = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}],
    }
    code, output = run("check", str(write(tmp_path, "p.json", body)))
    assert code == 0 and "ok (identity policy" in output and "warning" not in output


@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        (trust(), "trust", "without an audience condition"),
        (
            trust(
                {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
            ),
            "trust",
            "without a `token.actions.githubusercontent.com:sub` condition",
        ),
        (
            {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}},
            "identity",
            "NotAction",
        ),
        (
            {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
            "identity",
            "full access",
        ),
        (
            {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}},
            "trust",
            'any principal ("*")',
        ),
    ],
    ids=["no-aud", "shared-issuer-no-sub", "not-action", "star-star", "trust-everyone"],
)
def test_check_warnings(tmp_path: Path, body: object, kind: str, expected: str) -> None:
    code, output = run("check", str(write(tmp_path, "p.json", body)), "--kind", kind)
    assert code == 0
    assert "warning" in output and expected in output


def test_no_warning_for_a_well_scoped_trust_policy() -> None:
    body = trust(
        {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/repo:*"},
        }
    )
    assert lint_policy(parse_policy(json.dumps(body), PolicyKind.TRUST)) == []


def test_check_warns_over_size_limit(tmp_path: Path) -> None:
    values = [f"value-{number:05d}" for number in range(200)]
    body = trust(
        {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": values,
                "token.actions.githubusercontent.com:sub": "x",
            }
        }
    )
    code, output = run("check", str(write(tmp_path, "t.json", body)), "--kind", "trust")
    assert code == 0 and "exceeds the trust policy limit of 2048" in output


def test_statement_lines() -> None:
    text = '{"Version": "2012-10-17",\n "Statement": [\n {"a": 1},\n\n {"b": [1, 2]}]}'
    assert statement_lines(text) == [3, 5]
    assert statement_lines('{"Statement": {"a": 1}}') == [1]
    assert statement_lines("not json") == []


def test_simulate_allow_and_deny(tmp_path: Path) -> None:
    identity = write(
        tmp_path,
        "game.json",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}/*",
                }
            ],
        },
    )
    session = write(
        tmp_path,
        "scope.json",
        {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
    )
    common = [
        "simulate",
        "--policy",
        str(identity),
        "--session-policy",
        str(session),
        "--action",
        "s3:GetObject",
        "--context",
        "cognito-identity.amazonaws.com:sub=abc",
    ]
    code, output = run(*common, "--resource", "arn:aws:s3:::b/abc/save")
    assert code == 0 and "ALLOW (allow)" in output and "policy `game.json` statement 0" in output
    code, output = run(*common, "--resource", "arn:aws:s3:::b/xyz/save")
    assert code == 1 and "DENY (implicit_deny)" in output
    assert "no statement allows `s3:GetObject` on `arn:aws:s3:::b/xyz/save`" in output


def test_simulate_trust_with_condition_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "trust.json",
        trust(
            {"StringEquals": {"accounts.google.com:aud": "game-app"}},
            provider="accounts.google.com",
        ),
    )
    code, output = run(
        "simulate",
        "--resource-policy",
        str(path),
        "--trust",
        "--action",
        "sts:AssumeRoleWithWebIdentity",
        "--resource",
        "arn:aws:iam::123456789012:role/game",
        "--principal",
        "accounts.google.com",
        "--context",
        "accounts.google.com:aud=other-app",
    )
    assert code == 1
    assert "wanted `game-app`, request had `other-app`" in output


def test_simulate_multi_valued_context_and_principals(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.json",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:TagSession",
                    "Resource": "*",
                    "Condition": {
                        "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "project"]}
                    },
                }
            ],
        },
    )
    base = [
        "simulate",
        "--policy",
        str(path),
        "--action",
        "sts:TagSession",
        "--principal",
        "arn:aws:sts::123456789012:assumed-role/r/s",
    ]
    assert run(*base, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=project")[0] == 0
    assert run(*base, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=cost")[0] == 1
    assert run(*base[:-2], "--principal", "123456789012")[0] == 0
    assert run(*base[:-2], "--principal", "arn:aws:iam::123456789012:role/r")[0] == 0


def test_simulate_rejects_bad_input(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", "{")
    code, output = run("simulate", "--policy", str(bad), "--action", "s3:GetObject")
    assert code == 2 and "not valid JSON" in output
    good = write(
        tmp_path, "good.json", {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    )
    code, output = run("simulate", "--policy", str(good), "--action", "a:b", "--context", "novalue")
    assert code == 2 and "KEY=VALUE" in output
    code, _ = run(
        "simulate", "--policy", str(good), "--action", "a:b", "--principal", "arn:aws:s3:::b"
    )
    assert code == 2

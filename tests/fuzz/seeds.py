"""Seed inputs for every fuzz target, built from valid values with :class:`Seed`.

Seeds are what coverage-guided fuzzing starts from: real signed tokens and JWK Sets, the policy
examples of the IAM documentation, AWS's SigV4 test-suite requests signed by botocore, botocore's
own serialization of model-valid requests for every STS, IAM and Cognito Identity operation,
S3 requests of every route family and DynamoDB bodies of every operation family.

``python tests/fuzz/seeds.py OUT_DIR [target...]`` writes ``OUT_DIR/<target>/seed-NNNN`` files;
``scripts/fuzz`` runs it before fuzzing and merges what adds coverage into
``tests/fuzz/corpus/<target>/``.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import REPO, RawHttp, Seed

__all__ = ["SEEDS", "write_seeds"]


# --- JWT ---------------------------------------------------------------------------------------


def _jwt() -> Iterator[bytes]:
    from tests.fuzz import fuzz_jwt
    from tests.support.tokens import (
        forge_hmac_with_public_key,
        forge_none,
        generate_signing_key,
        jwks_document,
        sign,
        standard_claims,
        tamper_payload,
    )
    from webfed.core.oidc import ALLOWED_ALGORITHMS

    claims = standard_claims(fuzz_jwt.ISSUER, now=fuzz_jwt.NOW - 10)
    rich = standard_claims(
        fuzz_jwt.ISSUER,
        audience=["client-1", "other"],
        now=fuzz_jwt.NOW - 10,
        azp="client-1",
        nbf=fuzz_jwt.NOW - 20,
        amr=["authenticated", "accounts.google.com"],
        email="someone@example.com",
        email_verified=True,
        source_identity="alice",
    )
    rich["https://aws.amazon.com/tags"] = {
        "principal_tags": {"team": ["red"], "cost": ["42"]},
        "transitive_tag_keys": ["team"],
    }
    outsider = generate_signing_key("RS256", "rsa-1")
    for token in (
        sign(claims, outsider),
        sign(rich, outsider, kid=None),
        forge_none(claims),
        forge_hmac_with_public_key(claims, outsider),
        tamper_payload(sign(claims, outsider), sub="admin"),
        "a.b.c",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    ):
        yield Seed().int_in(0, 0, 2).rest(token.encode())
    for index, key in enumerate(fuzz_jwt.KEYS):
        headers: list[dict[str, Any]] = [
            {"alg": key.algorithm, "kid": key.kid, "typ": "JWT"},
            {"alg": key.algorithm},
            {"alg": key.algorithm, "kid": key.kid, "crit": ["exp"]},
        ]
        for header in headers:
            for payload in (claims, rich, {**claims, "exp": fuzz_jwt.NOW - 999}):
                yield (
                    Seed()
                    .int_in(1, 0, 2)
                    .int_in(index, 0, len(fuzz_jwt.KEYS) - 1)
                    .chunk(json.dumps(header).encode())
                    .rest(json.dumps(payload).encode())
                )
    document = jwks_document(*fuzz_jwt.KEYS)
    for kid, algorithm in (("rsa-1", "RS256"), ("", "ES256"), ("ec-1", "ES256")):
        seed = Seed().int_in(2, 0, 2).text(kid)
        seed.pick(algorithm, sorted(ALLOWED_ALGORITHMS))
        yield seed.rest(json.dumps(document).encode())
    odd = {"keys": [{"kty": "oct", "k": "AAAA"}, {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, 7]}
    yield Seed().int_in(2, 0, 2).text("x").int_in(0, 0, 8).rest(json.dumps(odd).encode())


# --- policies ----------------------------------------------------------------------------------

_POLICIES: list[tuple[str, dict[str, Any]]] = [
    (
        "identity",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ListPrefix",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::mybucket",
                    "Condition": {
                        "StringLike": {"s3:prefix": ["${cognito-identity.amazonaws.com:sub}/*"]}
                    },
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::mybucket/${aws:username}/*",
                },
            ],
        },
    ),
    (
        "identity",
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:Get*"],
                "NotResource": "arn:aws:iam::*:role/${aws:PrincipalTag/team}-*",
                "Condition": {
                    "NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]},
                    "Bool": {"aws:SecureTransport": "false"},
                    "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                    "NumericLessThanEquals": {"s3:max-keys": "10"},
                },
            },
        },
    ),
    (
        "identity",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:*",
                    "Resource": "*",
                    "Condition": {
                        "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
                        "ForAnyValue:StringLikeIfExists": {"aws:RequestTag/project": "x*"},
                        "Null": {"aws:PrincipalTag/team": "false"},
                        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"},
                        "StringEqualsIgnoreCase": {"aws:username": "${aws:username}"},
                        "BinaryEquals": {"aws:username": "QmluYXJ5"},
                        "NumericEquals": {"aws:EpochTime": "1"},
                        "DateLessThanEquals": {"aws:CurrentTime": "1700000000"},
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                        "StringNotLike": {"s3:prefix": "${*}${?}${$}"},
                    },
                }
            ],
        },
    ),
    (
        "trust",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "accounts.google.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {"accounts.google.com:aud": "game-app"},
                        "ForAnyValue:StringLike": {
                            "cognito-identity.amazonaws.com:amr": "authenticated"
                        },
                    },
                },
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": ["arn:aws:iam::123456789012:root", "123456789012"]},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                },
            ],
        },
    ),
    (
        "trust",
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": {
                    "Federated": "arn:aws:iam::123456789012:oidc-provider/issuer.example.com"
                },
                "Action": ["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"],
                "Condition": {"StringLike": {"issuer.example.com:aud": "client-*"}},
            }
        },
    ),
    (
        "resource",
        {
            "Version": "2008-10-17",
            "Id": "bucket",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bucket/*",
                },
                {
                    "Sid": "NotMe",
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": "arn:aws:sts::123456789012:assumed-role/app/s"},
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"],
                },
            ],
        },
    ),
    (
        "session",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
        },
    ),
    (
        "boundary",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
    ),
    (
        "guardrail",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "iam:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}},
                },
            ],
        },
    ),
]


def _policy() -> Iterator[bytes]:
    from tests.fuzz import fuzz_policy
    from webfed.core.policy import PolicyKind

    requests = [
        (0, "s3:GetObject", "arn:aws:s3:::mybucket/sub/key", [("s3:prefix", ["sub/"])]),
        (
            2,
            "iam:CreateRole",
            "arn:aws:iam::123456789012:role/red-x",
            [("aws:SourceIp", ["10.1.2.3"])],
        ),
        (1, "sts:AssumeRoleWithWebIdentity", "*", [("accounts.google.com:aud", ["game-app"])]),
        (
            3,
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:1:table/t",
            [("aws:TagKeys", ["a", "b"])],
        ),
    ]
    for kind_name, document in _POLICIES:
        kind = PolicyKind(kind_name)
        for principal, action, resource, context in requests:
            seed = Seed().pick(kind, fuzz_policy.KINDS)
            seed.int_in(principal, 0, len(fuzz_policy.PRINCIPALS) - 1)
            seed.text(action).text(resource).int_in(len(context), 0, 4)
            for key, values in context:
                seed.boolean(True).pick(key, fuzz_policy.CONTEXT_KEYS)
                seed.int_in(len(values), 1, 3)
                for value in values:
                    seed.text(value)
            yield seed.rest(json.dumps(document, indent=1).encode())


# --- SigV4 -------------------------------------------------------------------------------------

_SIGNED_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def _signed_requests() -> Iterator[tuple[bool, RawHttp]]:
    """(S3 rules?, request) pairs: every signer form of botocore, with bodies and tokens."""
    from tests.unit.sigv4.botocore_signer import botocore_signed

    common: dict[str, Any] = {
        "signed_at": _SIGNED_AT,
        "access_key_id": "AKIDEXAMPLE",
        "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    }
    cases: list[tuple[bool, dict[str, Any]]] = [
        (False, {"signer": "header", "params": [("Action", "GetCallerIdentity")]}),
        (
            False,
            {
                "signer": "header",
                "method": "POST",
                "body": b"Action=ListRoles&Version=2010-05-08",
                "service": "iam",
            },
        ),
        (
            False,
            {
                "signer": "query",
                "params": [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                "token": "FQoGZXIvYXdzEXAMPLE",
            },
        ),
        (
            True,
            {
                "signer": "s3",
                "service": "s3",
                "method": "PUT",
                "path": "/bucket/a%20b/c.txt",
                "body": b"hello",
                "headers": [("x-amz-tagging", "a=b")],
            },
        ),
        (
            True,
            {
                "signer": "s3-query",
                "service": "s3",
                "path": "/bucket/key",
                "params": [("versionId", "v1")],
            },
        ),
        (
            True,
            {
                "signer": "s3",
                "service": "s3",
                "path": "/bucket",
                "params": [("list-type", "2"), ("prefix", "p/")],
                "payload_signing": False,
            },
        ),
    ]
    for s3, options in cases:
        signed = botocore_signed(**common, **options)
        yield (
            s3,
            RawHttp(signed.method, signed.raw_path, signed.raw_query, signed.headers, signed.body),
        )


def _sigv4() -> Iterator[bytes]:
    from tests.fuzz import fuzz_sigv4

    for s3, raw in _signed_requests():
        yield Seed().int_in(1 if s3 else 0, 0, 3).rest(raw.to_bytes())
    for request in sorted((REPO / "tests" / "vectors" / "sigv4").rglob("*.req"))[:40]:
        yield Seed().int_in(0, 0, 3).rest(request.read_bytes())
    for trailer in (False, True):
        seed = Seed().int_in(2, 0, 3).boolean(trailer).int_in(0, 0, 15)
        seed.int_in(2, 0, 6).chunk(b"a" * 64).chunk(b"hello world")
        if trailer:
            seed.int_in(1, 0, 3).text("x-amz-checksum-crc32").text("sOO8/Q==")
        for size in (3, 70, 1, 600, 5, 5, 5, 5):
            seed.int_in(size, 1, 600)
        yield seed.done()
    signed_body = (
        b"5;chunk-signature="
        + b"0" * 64
        + b"\r\nhello\r\n0;chunk-signature="
        + b"0" * 64
        + b"\r\n\r\n"
    )
    yield Seed().int_in(3, 0, 3).boolean(True).boolean(False).rest(signed_body)
    unsigned = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    yield Seed().int_in(3, 0, 3).boolean(False).boolean(True).rest(unsigned)
    del fuzz_sigv4


# --- protocols ---------------------------------------------------------------------------------


def _draw(shape: Any, count: int) -> list[dict[str, Any]]:
    """``count`` model-valid values of a botocore input shape (Hypothesis, derandomized)."""
    from hypothesis import HealthCheck, given, settings

    from tests.unit.protocol.strategies import value_strategy

    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(value_strategy(shape))
    def collect(value: dict[str, Any]) -> None:
        drawn.append(value)

    collect()
    return drawn[-count:]


def _model_examples(service: str, count: int = 1) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(operation, wire body, headers) of model-valid requests serialized by botocore."""
    from botocore.awsrequest import AWSRequest
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel
    from botocore.serialize import create_serializer

    model = ServiceModel(create_loader().load_service_model(service, "service-2"), service)
    for name in sorted(model.operation_names):
        operation = model.operation_model(name)
        shape = operation.input_shape
        drawn = _draw(shape, count) if shape is not None else []
        for params in drawn or [{}]:
            protocol = operation.metadata["protocol"]
            serialized = create_serializer(protocol).serialize_to_request(params, operation)
            request = AWSRequest(
                method="POST",
                url="https://example.test/",
                data=serialized["body"],
                headers=serialized["headers"],
            ).prepare()
            body = request.body if isinstance(request.body, bytes) else (request.body or "")
            body = body.encode() if isinstance(body, str) else body
            yield name, body, dict(request.headers)


def _query() -> Iterator[bytes]:
    from tests.fuzz import fuzz_query

    for index, spec in enumerate(fuzz_query.SERVICES):
        for name, body, _ in _model_examples(spec.meta.name):
            yield Seed().int_in(index, 0, 1).boolean(False).rest(body)
            params = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
            rest = urllib.parse.urlencode(
                [(k, v) for k, v in params if k not in ("Action", "Version")]
            )
            seed = Seed().int_in(index, 0, 1).boolean(True)
            seed.pick(name, fuzz_query.OPERATIONS[spec.meta.name])
            yield seed.rest(rest.encode())


def _json() -> Iterator[bytes]:
    from tests.fuzz import fuzz_json

    for name, body, _ in _model_examples("cognito-identity", count=2):
        yield Seed().boolean(True).pick(name, fuzz_json.OPERATIONS).rest(body)
    yield Seed().boolean(False).boolean(True).text("AWSCognitoIdentityService.Nope").rest(b"{}")
    yield Seed().boolean(False).boolean(False).rest(b'{"a": NaN, "a": 1}')


# --- gateways ----------------------------------------------------------------------------------


def _s3() -> Iterator[bytes]:
    host = [("Host", "localhost:9000")]
    delete = (
        b'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/'
        b'2006-03-01/"><Object><Key>a/b.txt</Key></Object><Object><Key>c</Key><VersionId>v1'
        b"</VersionId></Object><Quiet>true</Quiet></Delete>"
    )
    requests = [
        RawHttp("GET", "/", "", tuple(host), b""),
        RawHttp(
            "GET", "/bucket", "list-type=2&prefix=a%2F&delimiter=%2F&max-keys=10", tuple(host), b""
        ),
        RawHttp(
            "PUT",
            "/bucket/key%20with%2Fslash",
            "",
            (*host, ("x-amz-tagging", "a=b&c=d"), ("x-amz-acl", "private")),
            b"data",
        ),
        RawHttp(
            "PUT", "/bucket/dst", "", (*host, ("x-amz-copy-source", "/src/key?versionId=3")), b""
        ),
        RawHttp(
            "PUT",
            "/bucket/dst",
            "partNumber=1&uploadId=abc",
            (*host, ("x-amz-copy-source", "src/k")),
            b"",
        ),
        RawHttp(
            "POST",
            "/bucket",
            "delete",
            (*host, ("x-amz-bypass-governance-retention", "true")),
            delete,
        ),
        RawHttp("GET", "/bucket/key", "versionId=v2&tagging", tuple(host), b""),
        RawHttp("DELETE", "/bucket/key", "uploadId=u", tuple(host), b""),
        RawHttp("GET", "/key/in/vhost", "acl", (("Host", "bucket.s3.example.com"),), b""),
        RawHttp(
            "PUT",
            "/bucket/o",
            "",
            (
                *host,
                ("x-amz-object-lock-mode", "GOVERNANCE"),
                ("x-amz-object-lock-legal-hold", "ON"),
            ),
            b"",
        ),
    ]
    for index, raw in enumerate(requests):
        yield Seed().int_in(2 if index == 8 else index % 3, 0, 2).rest(raw.to_bytes())


def _dynamodb() -> Iterator[bytes]:
    from tests.fuzz import fuzz_dynamodb

    bodies: list[tuple[str, dict[str, Any]]] = [
        (
            "GetItem",
            {
                "TableName": "Music",
                "Key": {"Artist": {"S": "a"}},
                "ProjectionExpression": "#n, Year",
                "ExpressionAttributeNames": {"#n": "Name"},
            },
        ),
        (
            "PutItem",
            {
                "TableName": "Users",
                "Item": {"UserId": {"S": "u"}, "n": {"N": "1"}},
                "ReturnValues": "ALL_OLD",
            },
        ),
        (
            "UpdateItem",
            {
                "TableName": "T",
                "Key": {"pk": {"B": "AAE="}},
                "UpdateExpression": "SET a = :v, #b.c = list_append(#b, :l) REMOVE d",
                "ExpressionAttributeNames": {"#b": "b"},
                "AttributeUpdates": {"x": {}},
            },
        ),
        ("DeleteItem", {"TableName": "Users", "Key": {"UserId": {"S": "u"}}}),
        (
            "Query",
            {
                "TableName": "Music",
                "IndexName": "ByAlbum",
                "KeyConditionExpression": "Album = :a AND begins_with(Title, :t)",
                "ExpressionAttributeValues": {":a": {"S": "x"}, ":t": {"S": "y"}},
                "Select": "COUNT",
            },
        ),
        (
            "Query",
            {
                "TableName": "Users",
                "KeyConditions": {
                    "UserId": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u"}]}
                },
                "AttributesToGet": ["a"],
            },
        ),
        ("Scan", {"TableName": "T", "IndexName": "gsi"}),
        (
            "BatchGetItem",
            {
                "RequestItems": {
                    "Music": {"Keys": [{"Artist": {"S": "a"}}], "ProjectionExpression": "Year"}
                }
            },
        ),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    "Users": [
                        {"PutRequest": {"Item": {"UserId": {"S": "u"}}}},
                        {"DeleteRequest": {"Key": {"UserId": {"S": "v"}}}},
                    ]
                }
            },
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "Users", "Item": {"UserId": {"S": "u"}}}},
                    {"ConditionCheck": {"TableName": "T", "Key": {"pk": {"N": "1"}}}},
                    {
                        "Update": {
                            "TableName": "T",
                            "Key": {"pk": {"S": "k"}},
                            "UpdateExpression": "ADD c :one",
                        }
                    },
                ]
            },
        ),
        (
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": "Music", "Key": {"Artist": {"S": "a"}}}}]},
        ),
        ("DescribeTable", {"TableName": "Music"}),
        (
            "TagResource",
            {"ResourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Music", "Tags": []},
        ),
        ("ListTables", {}),
    ]
    for operation, body in bodies:
        seed = Seed().int_in(0, 0, 1).boolean(True).pick(operation, fuzz_dynamodb.OPERATIONS)
        yield seed.rest(json.dumps(body).encode())
    description = {
        "Table": {
            "TableName": "Music",
            "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "ByAlbum",
                    "KeySchema": [{"AttributeName": "Album", "KeyType": "HASH"}],
                }
            ],
        }
    }
    yield Seed().int_in(1, 0, 1).rest(json.dumps(description).encode())


# --- the HTTP front door ----------------------------------------------------------------------


def _http() -> Iterator[bytes]:
    from tests.fuzz import fuzz_http, fuzz_jwt
    from tests.support.tokens import standard_claims

    services = [service for service, _ in fuzz_http.SERVICES]
    calls = [
        ("sts", False, "GetCallerIdentity", 1, b""),
        ("sts", True, "GetCallerIdentity", 0, b""),
        ("iam", False, "ListRoles", 1, b"MaxItems=5"),
        ("iam", False, "GetRole", 1, b"RoleName=fuzz-web"),
        ("iam", False, "CreatePolicy", 1, b"PolicyName=p&PolicyDocument=%7B%7D"),
        (
            "iam",
            True,
            "SimulatePrincipalPolicy",
            1,
            b"PolicySourceArn=" + fuzz_http.ROLE_ARN.encode(),
        ),
        ("iam", False, "ListRoles", 2, b""),
        ("cognito-identity", False, "ListIdentityPools", 1, b'{"MaxResults": 10}'),
        (
            "cognito-identity",
            False,
            "CreateIdentityPool",
            1,
            b'{"IdentityPoolName": "p", "AllowUnauthenticatedIdentities": true}',
        ),
        (
            "cognito-identity",
            False,
            "GetId",
            0,
            b'{"IdentityPoolId": "us-east-1:00000000-0000-0000-0000-000000000000"}',
        ),
    ]
    for service, get, operation, signing, payload in calls:
        seed = Seed().int_in(0, 0, 2).pick(service, services)
        if service != "cognito-identity":
            seed.boolean(get)
        seed.boolean(True).pick(operation, fuzz_http.OPERATIONS[service])
        seed.int_in(signing, 0, 2).int_in(0, 0, 3)
        yield seed.rest(payload)
    claims = standard_claims(fuzz_jwt.ISSUER, audience="client-1", now=int(time.time()))
    for index, key in enumerate(fuzz_jwt.KEYS):
        seed = Seed().int_in(1, 0, 2).int_in(index, 0, len(fuzz_jwt.KEYS) - 1)
        seed.chunk(json.dumps({"alg": key.algorithm, "kid": key.kid}).encode())
        seed.chunk(json.dumps(claims).encode()).text("session-1")
        seed.boolean(True).text("900").boolean(index == 0)
        if index == 0:
            seed.text(json.dumps(_POLICIES[6][1]))
        yield seed.done()
    raw = [
        RawHttp("GET", "/healthz", "", (), b""),
        RawHttp("GET", "/metrics", "", (), b""),
        RawHttp("GET", "/.well-known/openid-configuration", "", (), b""),
        RawHttp("GET", "/.well-known/jwks.json", "", (), b""),
        RawHttp(
            "GET",
            "/_webfed/authz/envoy/bucket/key",
            "a=b",
            (("authorization", "AWS4-HMAC-SHA256 x"),),
            b"",
        ),
        RawHttp(
            "GET",
            "/_webfed/authz/nginx",
            "",
            (("x-original-uri", "/x?y=1"), ("x-original-method", "PUT")),
            b"",
        ),
        RawHttp("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", (), b""),
        RawHttp("DELETE", "/", "", (), b""),
    ]
    for request in raw:
        yield Seed().int_in(2, 0, 2).rest(request.to_bytes())


SEEDS: dict[str, Callable[[], Iterator[bytes]]] = {
    "jwt": _jwt,
    "policy": _policy,
    "sigv4": _sigv4,
    "query": _query,
    "json": _json,
    "s3": _s3,
    "dynamodb": _dynamodb,
    "http": _http,
}


def write_seeds(out: Path, targets: list[str]) -> None:
    """Write each target's seeds to ``out/<target>/seed-NNNN``."""
    for target in targets:
        directory = out / target
        directory.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for index, data in enumerate(SEEDS[target]()):
                (directory / f"seed-{index:04d}").write_bytes(data)


if __name__ == "__main__":
    write_seeds(Path(sys.argv[1]), sys.argv[2:] or sorted(SEEDS))

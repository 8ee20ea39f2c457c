"""The operation table and the semantic input checks, with property tests."""

from __future__ import annotations

import string
from urllib.parse import unquote

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.api.context import Auth
from webfed.api.iam import OPERATIONS
from webfed.api.iam._documents import encode_document
from webfed.api.iam._inputs import parse_provider_url, tags_from
from webfed.errors import InvalidInput, LimitExceeded

EXPECTED = {
    "CreateOpenIDConnectProvider",
    "GetOpenIDConnectProvider",
    "ListOpenIDConnectProviders",
    "DeleteOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
    "TagOpenIDConnectProvider",
    "UntagOpenIDConnectProvider",
    "ListOpenIDConnectProviderTags",
    "CreateRole",
    "GetRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "DeleteRole",
    "ListRoles",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "ListPolicies",
    "CreatePolicyVersion",
    "GetPolicyVersion",
    "ListPolicyVersions",
    "DeletePolicyVersion",
    "SetDefaultPolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "SimulatePrincipalPolicy",
    "SimulateCustomPolicy",
}


def test_operation_table() -> None:
    model = botocore.session.get_session().get_service_model("iam")
    assert set(OPERATIONS) == EXPECTED
    assert set(OPERATIONS) <= set(model.operation_names)
    for name, operation in OPERATIONS.items():
        assert operation.name == name and operation.auth is Auth.ADMIN


# The IAM API reference's example document for GetRole, URL-encoded as IAM returns it.
PUBLISHED_ENCODED = (
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22%22%2C"
    "%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com"
    "%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
)


def test_encoding_matches_the_published_example() -> None:
    assert encode_document(unquote(PUBLISHED_ENCODED)) == PUBLISHED_ENCODED


@given(st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=255), max_size=300))
def test_encoding_round_trips_and_is_url_safe(document: str) -> None:
    encoded = encode_document(document)
    assert unquote(encoded) == document
    assert set(encoded) <= set(string.ascii_letters + string.digits + "-._~%")


def test_tag_count_limit() -> None:
    with pytest.raises(LimitExceeded):
        tags_from([{"Key": f"k{index}", "Value": ""} for index in range(51)], case_insensitive=True)


@pytest.mark.parametrize("key", ["aws:x", "AWS:x", "Aws:cost"], ids=["lower", "upper", "mixed"])
def test_reserved_prefix_in_any_case(key: str) -> None:
    with pytest.raises(InvalidInput):
        tags_from([{"Key": key, "Value": "v"}], case_insensitive=False)


_KEYS = st.text(alphabet="abcABC01:_", min_size=1, max_size=5).filter(
    lambda key: not key.lower().startswith("aws:")
)


@given(st.lists(_KEYS, max_size=8), st.booleans())
def test_duplicates_refused_exactly_when_keys_collide(keys: list[str], folded: bool) -> None:
    raw = [{"Key": key, "Value": "v"} for key in keys]
    compare = [key.lower() for key in keys] if folded else keys
    if len(set(compare)) == len(compare):
        assert [tag.key for tag in tags_from(raw, case_insensitive=folded)] == keys
    else:
        with pytest.raises(InvalidInput):
            tags_from(raw, case_insensitive=folded)


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9._-]{1,10}){0,3}", fullmatch=True),
)
def test_provider_url_resource_is_url_minus_scheme(host: str, path: str) -> None:
    parsed = parse_provider_url(f"https://{host}{path}", allow_http=False)
    assert parsed.resource == f"{host}{path}"
    assert parsed.url == f"https://{host}{path}"

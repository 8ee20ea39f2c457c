"""Policy documents at the IAM API boundary: validation, size quotas, wire encoding.

IAM checks every document with the policy grammar (``MalformedPolicyDocument``, from the policy
engine's parser for the document's kind), then its size against the quota of its kind, counting
characters other than whitespace ("IAM and AWS STS quotas"): a role trust policy 2,048 by
default (adjustable), a managed policy 6,144, a role's inline policies 10,240 together.
Documents are stored exactly as sent and returned percent-encoded per RFC 3986 (every byte
outside the unreserved set), which is how IAM returns them and how boto3 and the AWS CLI expect
to decode them.
"""

from __future__ import annotations

from urllib.parse import quote

from webfed.core.policy import MANAGED_POLICY_LIMIT, PolicyKind, parse_policy, policy_size
from webfed.errors import LimitExceeded

__all__ = [
    "check_identity_policy",
    "check_managed_policy",
    "check_trust_policy",
    "encode_document",
]


def check_trust_policy(document: str, max_size: int) -> None:
    """A role trust policy: grammar, then the ``ACLSizePerRole`` quota."""
    parse_policy(document, PolicyKind.TRUST)
    if policy_size(document) > max_size:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {max_size}")


def check_managed_policy(document: str, name: str = "") -> None:
    """A customer managed policy version: grammar, then the ``PolicySize`` quota."""
    parse_policy(document, PolicyKind.IDENTITY, name=name)
    if policy_size(document) > MANAGED_POLICY_LIMIT:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_LIMIT}")


def check_identity_policy(document: str, name: str = "") -> int:
    """An inline identity policy: grammar; returns its size for the role's aggregate quota."""
    parse_policy(document, PolicyKind.IDENTITY, name=name)
    return policy_size(document)


def encode_document(document: str) -> str:
    """RFC 3986 percent-encoding of a document, as IAM responses carry it."""
    return quote(document, safe="")

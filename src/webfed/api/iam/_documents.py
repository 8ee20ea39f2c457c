"""Policy documents at the IAM API boundary: validation, size quotas, wire encoding.

IAM checks every document with the policy grammar (``MalformedPolicyDocument``), then its size
against the quota of its kind, counting characters other than whitespace ("IAM and AWS STS
quotas"): a role trust policy 2,048 by default (adjustable), a managed policy 6,144, a role's
inline policies 10,240 together. Documents are stored exactly as sent and returned
percent-encoded per RFC 3986 (every byte outside the unreserved set), which is how IAM returns
them and how boto3 and the AWS CLI expect to decode them.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from webfed.errors import LimitExceeded, MalformedPolicyDocument

__all__ = [
    "MANAGED_POLICY_MAX_SIZE",
    "check_identity_policy",
    "check_managed_policy",
    "check_trust_policy",
    "encode_document",
    "policy_size",
]

MANAGED_POLICY_MAX_SIZE = 6_144


def policy_size(document: str) -> int:
    """Characters that count toward IAM's quotas: all but whitespace."""
    return sum(1 for character in document if not character.isspace())


def _parse(document: str) -> None:
    try:
        value = json.loads(document)
    except ValueError as error:
        raise MalformedPolicyDocument("Syntax errors in policy.") from error
    if not isinstance(value, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")


def check_trust_policy(document: str, max_size: int) -> None:
    """A role trust policy: grammar, then the ``ACLSizePerRole`` quota."""
    _parse(document)
    if policy_size(document) > max_size:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {max_size}")


def check_managed_policy(document: str) -> None:
    """A customer managed policy version: grammar, then the ``PolicySize`` quota."""
    _parse(document)
    if policy_size(document) > MANAGED_POLICY_MAX_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX_SIZE}")


def check_identity_policy(document: str, name: str = "") -> int:
    """An inline identity policy: grammar; returns its size for the aggregate quota."""
    _parse(document)
    return policy_size(document)


def encode_document(document: str) -> str:
    """RFC 3986 percent-encoding of a document, as IAM responses carry it."""
    return quote(document, safe="")

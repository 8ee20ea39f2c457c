"""AWS-style unique identifiers and IAM ARNs, as pure functions.

IAM gives every entity a unique id made of a four-letter prefix naming its kind followed by
random characters from the RFC 4648 base32 alphabet (upper-case ``A``-``Z`` and ``2``-``7``):
``AROA`` for roles, ``ANPA`` for customer managed policies and ``ASIA`` for temporary access key
ids (IAM User Guide, "IAM identifiers", section "Understanding unique ID prefixes"). Randomness
is injected: callers pass an ``rng`` (``secrets.SystemRandom()`` in production, a seeded
``random.Random`` in tests), so this module never reads the environment.

ARN shapes follow the same page: ``arn:aws:iam::ACCOUNT:role{path}{name}``,
``arn:aws:iam::ACCOUNT:policy{path}{name}`` and ``arn:aws:iam::ACCOUNT:oidc-provider/{url without
scheme}``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from webfed.errors import InvalidInput

__all__ = [
    "ACCESS_KEY_PREFIX",
    "ACCESS_KEY_RANDOM_BYTES",
    "BASE32_ALPHABET",
    "POLICY_ID_PREFIX",
    "ROLE_ID_PREFIX",
    "PolicyArn",
    "access_key_id_from_bytes",
    "new_access_key_id",
    "new_policy_id",
    "new_role_id",
    "new_unique_id",
    "oidc_provider_arn",
    "parse_oidc_provider_arn",
    "parse_policy_arn",
    "policy_arn",
    "role_arn",
]

BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ROLE_ID_PREFIX = "AROA"
POLICY_ID_PREFIX = "ANPA"
ACCESS_KEY_PREFIX = "ASIA"

_LETTER_PAIRS = tuple(first + second for first in BASE32_ALPHABET for second in BASE32_ALPHABET)
_UNIQUE_ID_SUFFIX_LENGTH = 17
_ACCESS_KEY_SUFFIX_LENGTH = 16
#: Random bytes behind one access key id: 80 bits, five for each of its 16 letters.
ACCESS_KEY_RANDOM_BYTES = 10
_ACCOUNT = r"(?P<account>\d{12}|aws)"
_POLICY_ARN = re.compile(rf"^arn:aws:iam::{_ACCOUNT}:policy(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)$")
_OIDC_ARN = re.compile(rf"^arn:aws:iam::{_ACCOUNT}:oidc-provider/(?P<resource>.+)$")


def new_unique_id(prefix: str, rng: random.Random, length: int = _UNIQUE_ID_SUFFIX_LENGTH) -> str:
    """Return ``prefix`` followed by ``length`` characters drawn from the base32 alphabet.

    One read of ``ceil(5 * length / 8)`` random bytes, written in base32 as RFC 4648 (section
    6, whose alphabet is IAM's) writes them: letter ``i`` is bits ``5i`` to ``5i + 4``, most
    significant first. Each letter is five fresh bits, so each of the 32 is exactly as likely
    (no modulo bias) and the letters are independent; bits left over in the last byte are
    dropped. Letters are looked up two at a time (ten bits) to keep the loop short.
    """
    if not 1 <= length <= 124:
        raise ValueError("unique id suffix length must be between 1 and 124")
    size = (5 * length + 7) // 8
    bits = int.from_bytes(rng.randbytes(size)) >> (8 * size - 5 * length)
    shift = 5 * length
    letters = [prefix]
    for _ in range(length // 2):
        shift -= 10
        letters.append(_LETTER_PAIRS[(bits >> shift) & 0x3FF])
    if length % 2:
        letters.append(BASE32_ALPHABET[bits & 0x1F])
    return "".join(letters)


def new_role_id(rng: random.Random) -> str:
    """A role id: ``AROA`` and 17 characters, 21 in all, as IAM shows them."""
    return new_unique_id(ROLE_ID_PREFIX, rng)


def new_policy_id(rng: random.Random) -> str:
    """A customer managed policy id: ``ANPA`` and 17 characters."""
    return new_unique_id(POLICY_ID_PREFIX, rng)


def new_access_key_id(rng: random.Random) -> str:
    """A temporary access key id: ``ASIA`` and 16 characters (20 in all, within 16..128)."""
    return access_key_id_from_bytes(rng.randbytes(ACCESS_KEY_RANDOM_BYTES))


def access_key_id_from_bytes(data: bytes) -> str:
    """The access key id :func:`new_access_key_id` makes of these 10 random bytes.

    For callers that draw one buffer for several secrets (minting). The letters are the base32
    of ``data``, as :func:`new_unique_id` writes them, unrolled for this one length: two 40-bit
    halves of four letter pairs each.
    """
    if len(data) != ACCESS_KEY_RANDOM_BYTES:
        raise ValueError(f"an access key id takes {ACCESS_KEY_RANDOM_BYTES} random bytes")
    high, low = int.from_bytes(data[:5]), int.from_bytes(data[5:])
    pairs = _LETTER_PAIRS
    return "".join(
        (
            ACCESS_KEY_PREFIX,
            pairs[high >> 30],
            pairs[(high >> 20) & 0x3FF],
            pairs[(high >> 10) & 0x3FF],
            pairs[high & 0x3FF],
            pairs[low >> 30],
            pairs[(low >> 20) & 0x3FF],
            pairs[(low >> 10) & 0x3FF],
            pairs[low & 0x3FF],
        )
    )


def role_arn(account_id: str, path: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:role{path}{name}``; the path starts and ends with ``/``."""
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def policy_arn(account_id: str, path: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:policy{path}{name}``."""
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def oidc_provider_arn(account_id: str, resource: str) -> str:
    """``arn:aws:iam::ACCOUNT:oidc-provider/{resource}``; resource is the URL minus its scheme."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{resource}"


@dataclass(frozen=True, slots=True)
class PolicyArn:
    """The parts of a managed policy ARN."""

    account_id: str
    path: str
    name: str


def parse_policy_arn(arn: str) -> PolicyArn:
    """Split a customer managed policy ARN, or raise ``InvalidInput`` as IAM does."""
    match = _POLICY_ARN.match(arn)
    if match is None:
        raise InvalidInput(f"ARN {arn} is not valid.")
    return PolicyArn(match["account"], match["path"], match["name"])


def parse_oidc_provider_arn(arn: str) -> tuple[str, str]:
    """Return ``(account_id, resource)`` of an OIDC provider ARN, or raise ``InvalidInput``."""
    match = _OIDC_ARN.match(arn)
    if match is None:
        raise InvalidInput(f"ARN {arn} is not valid.")
    return match["account"], match["resource"]

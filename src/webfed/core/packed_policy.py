"""STS's ``PackedPolicySize``: how much of the packed session-policy budget a request uses.

``AssumeRole*`` report the percentage of "the packed limit" used by session policies and session
tags, and fail above 100 % with ``PackedPolicyTooLarge`` (STS API reference,
``AssumeRoleWithWebIdentity``, ``PackedPolicySize``). AWS does not publish how it packs; the
rule webfed chose is in :func:`packed_policy_percent` and ``docs/credentials.md``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence

__all__ = ["PACKED_POLICY_BUDGET_BYTES", "packed_policy_percent"]

PACKED_POLICY_BUDGET_BYTES = 1_500


def packed_policy_percent(
    inline_policy: str | None, policy_arns: Sequence[str], tags: Sequence[tuple[str, str]]
) -> int:
    """STS's ``PackedPolicySize``: the share, in percent, of the packed budget used.

    AWS does not publish its packing. webfed's rule: the inline policy with insignificant
    whitespace removed (re-serialized compactly when it is JSON; IAM does not count whitespace),
    then each policy ARN, then each tag as ``key=value``, joined with newlines, UTF-8, compressed
    with zlib level 9; the percentage is ``ceil(100 * compressed / 1500 bytes)``. Nothing at all
    is 0. Above 100 the request fails with ``PackedPolicyTooLarge``. Transitive tag keys do not
    count (AWS: transitivity does not change the packed size).
    """
    if not inline_policy and not policy_arns and not tags:
        return 0
    parts = [_compact_policy(inline_policy or "")]
    parts.extend(policy_arns)
    parts.extend(f"{key}={value}" for key, value in tags)
    packed = zlib.compress("\n".join(parts).encode("utf-8", "surrogatepass"), 9)
    return math.ceil(100 * len(packed) / PACKED_POLICY_BUDGET_BYTES)


def _compact_policy(text: str) -> str:
    try:
        document = json.loads(text) if text else None
    except (ValueError, RecursionError):  # not JSON (the policy parser reports that); still sized
        return "".join(text.split())
    if document is None:
        return ""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)

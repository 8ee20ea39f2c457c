"""Request ids: random version-4 UUIDs in canonical text, from the runtime's batched CSPRNG."""

from __future__ import annotations

import uuid

from webfed.http.dispatch import new_request_id
from webfed.runtime import BatchedSystemRandom


def test_request_ids_are_canonical_version_4_uuids() -> None:
    rng = BatchedSystemRandom()
    ids = [new_request_id(rng) for _ in range(5000)]
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    assert len(set(ids)) == len(ids)


def test_every_variant_digit_occurs() -> None:
    rng = BatchedSystemRandom()
    assert {new_request_id(rng)[19] for _ in range(2000)} == set("89ab")

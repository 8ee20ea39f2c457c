"""What a request through the gateway must be allowed to do, as data.

A single S3 or DynamoDB call can need several permissions: ``CopyObject`` reads one object and
writes another, ``BatchWriteItem`` touches several tables, ``PutObject`` with tags also needs
``s3:PutObjectTagging``. The mappers turn a request into a tuple of :class:`AccessCheck`; the
gateway allows the call only when every check is allowed (the AWS "Actions, resources, and
condition keys" pages list, per operation, the actions and resources a caller needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["AccessCheck", "ContextValue", "freeze_context"]

ContextValue = str | tuple[str, ...]
"""A condition key's value: one string, or a set of strings (multivalued keys)."""

_EMPTY: Mapping[str, ContextValue] = MappingProxyType({})


def freeze_context(values: Mapping[str, ContextValue] | None) -> Mapping[str, ContextValue]:
    """A read-only copy of the service condition keys."""
    if not values:
        return _EMPTY
    return MappingProxyType(dict(values))


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """One (action, resource, service condition keys) the caller must be allowed."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def of(
        cls, action: str, resource: str, context: Mapping[str, ContextValue] | None = None
    ) -> AccessCheck:
        return cls(action, resource, freeze_context(context))

"""Compiled shapes: botocore's model shapes turned, once, into small frozen trees.

A service model describes each operation's input and output as a tree of shapes (structure,
list, map and the scalar types) with constraint traits (``min``, ``max``, ``pattern``, ``enum``,
``required``, ``sensitive``) and serialization traits (``locationName``, ``flattened``). See
"Shapes" in the Smithy/botocore model documentation. We compile each shape exactly once when a
service is loaded: patterns become compiled ``re`` objects, names are precomputed for every wire
format, so decoding a request never touches a botocore object.

Recursive shapes (DynamoDB's ``AttributeValue``) are broken by a :class:`Ref` that names a
structure of the same compilation; nothing in STS, IAM or Cognito Identity needs one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from webfed.protocol.javaregex import compile_java_pattern

__all__ = [
    "Kind",
    "ListNode",
    "MapNode",
    "Member",
    "Node",
    "Ref",
    "Resolved",
    "Scalar",
    "Structure",
    "compile_shape",
    "error_label",
    "new_compiler",
    "resolve",
]


class Kind(Enum):
    """The scalar types of the model."""

    STRING = "string"
    INTEGER = "integer"
    LONG = "long"
    FLOAT = "float"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    BLOB = "blob"


@dataclass(frozen=True, slots=True, eq=False)
class Scalar:
    """A leaf value with its constraints (``min``/``max`` mean length for strings and blobs)."""

    name: str
    kind: Kind
    sensitive: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    enum: frozenset[str] | None = None
    enum_text: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """A structure member: its Python key, its names on each wire and its error-message label."""

    name: str
    query_name: str
    json_name: str
    label: str
    node: Node
    required: bool


@dataclass(frozen=True, slots=True, eq=False)
class Structure:
    """A structure; a ``union`` must have exactly one member set."""

    name: str
    members: tuple[Member, ...]
    sensitive: bool = False
    union: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class ListNode:
    name: str
    member: Node
    member_name: str
    flattened: bool
    sensitive: bool = False
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class MapNode:
    name: str
    key: Node
    value: Node
    key_name: str
    value_name: str
    flattened: bool
    sensitive: bool = False
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    """A reference to a structure still being compiled (a recursive shape)."""

    name: str
    table: Mapping[str, Node] = field(repr=False)
    sensitive: bool = True

    @property
    def target(self) -> Node:
        return self.table[self.name]


Node = Scalar | Structure | ListNode | MapNode | Ref
Resolved = Scalar | Structure | ListNode | MapNode


def resolve(node: Node) -> Resolved:
    """Follow a recursive reference to the node it names."""
    while isinstance(node, Ref):
        node = node.target
    return node


def error_label(member_name: str) -> str:
    """AWS names a member in validation messages with a lower-case first letter."""
    return member_name[:1].lower() + member_name[1:]


def _optional_int(metadata: Mapping[str, Any], key: str) -> int | None:
    value = metadata.get(key)
    return None if value is None else int(value)


def _optional_number(metadata: Mapping[str, Any], key: str) -> float | None:
    value = metadata.get(key)
    if value is None:
        return None
    return value if isinstance(value, int | float) else float(value)


def _compile_scalar(shape: Any, kind: Kind) -> Scalar:
    meta = shape.metadata
    is_sized = kind in (Kind.STRING, Kind.BLOB)
    pattern_text = meta.get("pattern", "")
    enum = list(shape.enum) if kind is Kind.STRING and shape.enum else None
    return Scalar(
        name=shape.name,
        kind=kind,
        sensitive=bool(meta.get("sensitive", False)),
        min_length=_optional_int(meta, "min") if is_sized else None,
        max_length=_optional_int(meta, "max") if is_sized else None,
        minimum=None if is_sized else _optional_number(meta, "min"),
        maximum=None if is_sized else _optional_number(meta, "max"),
        pattern=compile_java_pattern(pattern_text) if pattern_text else None,
        pattern_text=pattern_text,
        enum=frozenset(enum) if enum is not None else None,
        enum_text="[" + ", ".join(enum) + "]" if enum is not None else "",
    )


def _query_name(name: str, shape: Any) -> str:
    """The key of a member on the Query wire and in XML (a flattened list uses its member's)."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        member_name = shape.member.serialization.get("name")
        if member_name:
            return str(member_name)
    return str(shape.serialization.get("name", name))


class _Compiler:
    """Compiles shapes of one service, sharing nodes by shape name."""

    def __init__(self) -> None:
        self.table: dict[str, Node] = {}
        self.in_progress: set[str] = set()

    def compile(self, shape: Any) -> Node:
        kind = shape.type_name
        if kind not in ("structure", "list", "map"):
            return _compile_scalar(shape, Kind(kind))
        # member-level traits (locationName, flattened) live on the shape reference, so only
        # plain references are shared
        key = f"{shape.name}:{sorted(shape.serialization.items())}"
        if key in self.table:
            return self.table[key]
        if key in self.in_progress:
            return Ref(key, self.table)
        self.in_progress.add(key)
        node = self._compile_aggregate(shape)
        self.in_progress.discard(key)
        self.table[key] = node
        return node

    def _compile_aggregate(self, shape: Any) -> Node:
        if shape.type_name == "list":
            return self._compile_list(shape)
        if shape.type_name == "map":
            return self._compile_map(shape)
        return self._compile_structure(shape)

    def _compile_structure(self, shape: Any) -> Structure:
        required = set(shape.required_members)
        members = tuple(
            Member(
                name=name,
                query_name=_query_name(name, member_shape),
                json_name=str(member_shape.serialization.get("name", name)),
                label=error_label(name),
                node=self.compile(member_shape),
                required=name in required,
            )
            for name, member_shape in shape.members.items()
        )
        sensitive = bool(shape.metadata.get("sensitive")) or any(m.node.sensitive for m in members)
        return Structure(shape.name, members, sensitive, bool(shape.metadata.get("union")))

    def _compile_list(self, shape: Any) -> ListNode:
        member = self.compile(shape.member)
        meta = shape.metadata
        return ListNode(
            name=shape.name,
            member=member,
            member_name=str(shape.member.serialization.get("name", "member")),
            flattened=bool(shape.serialization.get("flattened")),
            sensitive=bool(meta.get("sensitive")) or member.sensitive,
            min_length=_optional_int(meta, "min"),
            max_length=_optional_int(meta, "max"),
        )

    def _compile_map(self, shape: Any) -> MapNode:
        key, value = self.compile(shape.key), self.compile(shape.value)
        meta = shape.metadata
        return MapNode(
            name=shape.name,
            key=key,
            value=value,
            key_name=str(shape.key.serialization.get("name", "key")),
            value_name=str(shape.value.serialization.get("name", "value")),
            flattened=bool(shape.serialization.get("flattened")),
            sensitive=bool(meta.get("sensitive")) or key.sensitive or value.sensitive,
            min_length=_optional_int(meta, "min"),
            max_length=_optional_int(meta, "max"),
        )


def compile_shape(shape: Any, compiler: _Compiler | None = None) -> Node:
    """Compile a botocore shape (and everything under it) into a frozen node tree."""
    return (compiler or _Compiler()).compile(shape)


def new_compiler() -> _Compiler:
    """A compiler whose node table is shared by all the shapes of one service."""
    return _Compiler()

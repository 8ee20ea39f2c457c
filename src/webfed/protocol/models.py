"""Service models: botocore's published API descriptions, loaded and compiled once.

AWS ships every operation's input/output shapes, constraints and error shapes as data in
botocore (``botocore/data/<service>/<version>/service-2.json``), the same files the SDKs are
generated from. :func:`load_service` reads one with botocore's own loader and compiles every
operation (see :mod:`webfed.protocol.shapes`); the result is cached for the life of the process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from botocore.loaders import create_loader
from botocore.model import ServiceModel

from webfed.errors import InvalidParameterException, ValidationError, WebfedError
from webfed.protocol.shapes import Structure, new_compiler

__all__ = ["OperationSpec", "ServiceMeta", "ServiceSpec", "compile_service", "load_service"]

# Which error reports a constraint violation, per service. AWS's Query services and most JSON
# services say ValidationError / ValidationException; Cognito Identity has its own.
_VALIDATION_ERRORS: Mapping[str, type[WebfedError]] = {
    "cognito-identity": InvalidParameterException,
}

_EMPTY = Structure("Empty", ())


@dataclass(frozen=True, slots=True)
class ServiceMeta:
    """What the wire adapters need to know about a service."""

    name: str
    api_version: str
    protocol: str
    signing_name: str
    xml_namespace: str
    target_prefix: str
    json_version: str
    validation_error: type[WebfedError]


@dataclass(frozen=True, slots=True, eq=False)
class OperationSpec:
    """One operation, compiled: its input tree (decoder and validator) and its output tree."""

    name: str
    service: ServiceMeta
    input: Structure
    output: Structure | None
    result_wrapper: str | None
    error_codes: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class ServiceSpec:
    """A compiled service: metadata plus operations by name (a dict, so lookup is O(1))."""

    meta: ServiceMeta
    operations: Mapping[str, OperationSpec]

    def operation(self, name: str) -> OperationSpec | None:
        return self.operations.get(name)


def _meta(name: str, model: Any) -> ServiceMeta:
    metadata = model.metadata
    return ServiceMeta(
        name=name,
        api_version=str(metadata["apiVersion"]),
        protocol=str(metadata["protocol"]),
        signing_name=str(metadata.get("signingName", metadata["endpointPrefix"])),
        xml_namespace=str(metadata.get("xmlNamespace", "")),
        target_prefix=str(metadata.get("targetPrefix", "")),
        json_version=str(metadata.get("jsonVersion", "1.0")),
        validation_error=_VALIDATION_ERRORS.get(name, ValidationError),
    )


def _structure(node: object) -> Structure:
    if not isinstance(node, Structure):
        raise TypeError("an operation's input and output must be structures")
    return node


def _operation(meta: ServiceMeta, model: Any, compile_node: Any) -> OperationSpec:
    input_shape, output_shape = model.input_shape, model.output_shape
    wrapper = None if output_shape is None else output_shape.serialization.get("resultWrapper")
    return OperationSpec(
        name=model.name,
        service=meta,
        input=_EMPTY if input_shape is None else _structure(compile_node(input_shape)),
        output=None if output_shape is None else _structure(compile_node(output_shape)),
        result_wrapper=None if wrapper is None else str(wrapper),
        error_codes=frozenset(
            str(shape.metadata.get("error", {}).get("code", shape.name))
            for shape in model.error_shapes
        ),
    )


def compile_service(name: str, model_data: Mapping[str, Any]) -> ServiceSpec:
    """Compile a service model given as its parsed ``service-2.json`` document."""
    model = ServiceModel(dict(model_data), name)
    meta = _meta(name, model)
    compiler = new_compiler()
    operations = {
        op_name: _operation(meta, model.operation_model(op_name), compiler.compile)
        for op_name in model.operation_names
    }
    return ServiceSpec(meta, MappingProxyType(operations))


@functools.cache
def load_service(name: str) -> ServiceSpec:
    """Load and compile the newest botocore model of ``name`` ("sts", "iam", ...), once.

    Raises botocore's ``UnknownServiceError`` for a name botocore does not know.
    """
    return compile_service(name, create_loader().load_service_model(name, "service-2"))

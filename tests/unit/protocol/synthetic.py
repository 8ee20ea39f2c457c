"""A small service model covering every shape feature, after botocore's protocol test suites.

The shapes mirror the cases of ``tests/unit/protocols/{input,output}/{query,json}.json`` in
boto/botocore (nested structures, lists, flattened lists, maps, flattened maps, blobs,
timestamps, recursive shapes) plus every constraint trait webfed enforces.
"""

from __future__ import annotations

import functools
from typing import Any

from webfed.protocol.models import OperationSpec, ServiceSpec, compile_service

_SHAPES: dict[str, Any] = {
    "Input": {
        "type": "structure",
        "required": ["Name"],
        "members": {
            "Name": {"shape": "NameType"},
            "Secret": {"shape": "SecretType"},
            "Count": {"shape": "CountType"},
            "Big": {"shape": "LongType"},
            "Flag": {"shape": "BoolType"},
            "When": {"shape": "TimeType"},
            "Data": {"shape": "BlobType"},
            "Ratio": {"shape": "DoubleType"},
            "Color": {"shape": "ColorType"},
            "Inner": {"shape": "InnerType"},
            "Names": {"shape": "NameList"},
            "Flat": {"shape": "FlatList"},
            "Renamed": {"shape": "RenamedFlatList"},
            "Tags": {"shape": "TagList"},
            "Attributes": {"shape": "AttributeMap"},
            "FlatMap": {"shape": "FlatMapType"},
            "Tree": {"shape": "TreeType"},
            "Pick": {"shape": "PickType"},
            "Label": {"shape": "LabelType"},
        },
    },
    "Output": {
        "type": "structure",
        "members": {
            "Name": {"shape": "NameType"},
            "Count": {"shape": "CountType"},
            "Flag": {"shape": "BoolType"},
            "When": {"shape": "TimeType"},
            "Data": {"shape": "BlobType"},
            "Ratio": {"shape": "DoubleType"},
            "Names": {"shape": "NameList"},
            "Flat": {"shape": "FlatList"},
            "Tags": {"shape": "TagList"},
            "Attributes": {"shape": "AttributeMap"},
            "FlatMap": {"shape": "FlatMapType"},
            "Tree": {"shape": "TreeType"},
            "Text": {"shape": "PlainString"},
        },
    },
    "NameType": {"type": "string", "min": 2, "max": 8, "pattern": "[\\w+=,.@-]+"},
    "SecretType": {"type": "string", "min": 4, "max": 20, "sensitive": True},
    "LabelType": {"type": "string", "pattern": "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", "max": 10},
    "PlainString": {"type": "string"},
    "CountType": {"type": "integer", "min": 1, "max": 10},
    "LongType": {"type": "long"},
    "BoolType": {"type": "boolean"},
    "TimeType": {"type": "timestamp"},
    "BlobType": {"type": "blob", "max": 4},
    "DoubleType": {"type": "double"},
    "ColorType": {"type": "string", "enum": ["red", "green"]},
    "InnerType": {
        "type": "structure",
        "required": ["Key"],
        "members": {"Key": {"shape": "NameType"}, "Value": {"shape": "PlainString"}},
    },
    "NameList": {"type": "list", "member": {"shape": "NameType"}, "max": 3},
    "FlatList": {"type": "list", "member": {"shape": "PlainString"}, "flattened": True},
    "RenamedFlatList": {
        "type": "list",
        "member": {"shape": "PlainString", "locationName": "Item"},
        "flattened": True,
    },
    "TagList": {"type": "list", "member": {"shape": "InnerType"}, "min": 1},
    "AttributeMap": {
        "type": "map",
        "key": {"shape": "ColorType"},
        "value": {"shape": "PlainString"},
        "max": 2,
    },
    "FlatMapType": {
        "type": "map",
        "key": {"shape": "PlainString"},
        "value": {"shape": "PlainString"},
        "flattened": True,
    },
    "TreeType": {
        "type": "structure",
        "members": {
            "Leaf": {"shape": "PlainString"},
            "Child": {"shape": "TreeType"},
            "Children": {"shape": "TreeList"},
        },
    },
    "TreeList": {"type": "list", "member": {"shape": "TreeType"}},
    "PickType": {
        "type": "structure",
        "union": True,
        "members": {"A": {"shape": "PlainString"}, "B": {"shape": "PlainString"}},
    },
}


def _model(protocol: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "apiVersion": "2014-01-01",
        "endpointPrefix": "synthetic",
        "protocol": protocol,
        "serviceId": "Synthetic",
        "signatureVersion": "v4",
    }
    if protocol == "query":
        metadata["xmlNamespace"] = "https://synthetic.example/doc/2014-01-01/"
    else:
        metadata.update(jsonVersion="1.1", targetPrefix="Synthetic_20140101")
    output: dict[str, Any] = {"shape": "Output"}
    if protocol == "query":
        output["resultWrapper"] = "OperationNameResult"
    return {
        "version": "2.0",
        "metadata": metadata,
        "operations": {
            "OperationName": {
                "name": "OperationName",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "Input"},
                "output": output,
            },
            "NoOutput": {
                "name": "NoOutput",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "Input"},
            },
        },
        "shapes": _SHAPES,
    }


@functools.cache
def service(protocol: str) -> ServiceSpec:
    """The synthetic service compiled for "query" or "json"."""
    name = "synthetic" if protocol == "query" else "synthetic-json"
    return compile_service(name, _model(protocol))


def operation(protocol: str, name: str = "OperationName") -> OperationSpec:
    return service(protocol).operations[name]


def model_data(protocol: str) -> dict[str, Any]:
    return _model(protocol)

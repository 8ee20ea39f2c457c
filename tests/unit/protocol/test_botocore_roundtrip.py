"""Round trips through the real botocore client code, for every operation of every service.

Inputs: values drawn from botocore's shape → botocore's serializer → the exact wire bytes the
SDK sends → webfed's decoder → the same values. Outputs: values drawn from the output shape →
webfed's encoder → botocore's response parser → the same values.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webfed.protocol.json11 import decode_json, encode_json_response, resolve_target
from webfed.protocol.models import load_service
from webfed.protocol.query import decode_query, parse_form, resolve_action
from webfed.protocol.xml import encode_query_response

from .strategies import value_strategy

SERVICES = ("sts", "iam", "cognito-identity")
_MODELS = {
    name: ServiceModel(create_loader().load_service_model(name, "service-2"), name)
    for name in SERVICES
}
CASES = [(service, op) for service in SERVICES for op in _MODELS[service].operation_names]
ROUND_TRIP = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _operation_model(service: str, name: str) -> OperationModel:
    return _MODELS[service].operation_model(name)


def _wire_request(model: OperationModel, params: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    protocol = model.metadata["protocol"]
    serialized = create_serializer(protocol).serialize_to_request(params, model)
    request = AWSRequest(
        method="POST",
        url="https://example.test/",
        data=serialized["body"],
        headers=serialized["headers"],
    ).prepare()
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return body, dict(request.headers)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _as_xml_carries(value: Any) -> Any:
    """Characters XML 1.0 cannot carry come back as U+FFFD (documented in docs/protocols.md)."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_as_xml_carries(k): _as_xml_carries(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_xml_carries(item) for item in value]
    return value


def _precision(service: str) -> str:
    return "milli" if _MODELS[service].protocol == "json" else "micro"


@pytest.mark.parametrize(("service", "operation"), CASES, ids=[f"{s}.{o}" for s, o in CASES])
@ROUND_TRIP
@given(data=st.data())
def test_botocore_request_decodes_to_same_parameters(
    service: str, operation: str, data: st.DataObject
) -> None:
    model = _operation_model(service, operation)
    params = (
        {}
        if model.input_shape is None
        else data.draw(value_strategy(model.input_shape, _precision(service)))
    )
    body, headers = _wire_request(model, params)
    spec = load_service(service)
    if spec.meta.protocol == "query":
        form = parse_form(body)
        decoded = decode_query(resolve_action(spec, form), form)
    else:
        decoded = decode_json(resolve_target(spec, headers["X-Amz-Target"]), body)
    assert decoded == params


@pytest.mark.parametrize(("service", "operation"), CASES, ids=[f"{s}.{o}" for s, o in CASES])
@ROUND_TRIP
@given(data=st.data())
def test_encoded_result_parses_in_botocore(
    service: str, operation: str, data: st.DataObject
) -> None:
    model = _operation_model(service, operation)
    spec = load_service(service)
    op = spec.operations[operation]
    result = (
        {}
        if model.output_shape is None
        else data.draw(value_strategy(model.output_shape, _precision(service)))
    )
    if spec.meta.protocol == "query":
        body = encode_query_response(op, result, "req-1")
    else:
        body = encode_json_response(op, result)
    parser = create_parser(spec.meta.protocol)
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    metadata = parsed.pop("ResponseMetadata", {})
    if spec.meta.protocol == "query":
        result = _as_xml_carries(result)
    assert parsed == result
    if spec.meta.protocol == "query":
        assert metadata["RequestId"] == "req-1"

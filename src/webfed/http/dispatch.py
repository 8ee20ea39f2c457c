"""``POST /`` and ``GET /``: from raw HTTP to an operation handler and back.

One listener serves every AWS service webfed speaks. A request is routed by, in order:
the ``X-Amz-Target`` header (JSON protocols), the SigV4 credential scope's service (signed Query
calls), and otherwise the ``Action`` name (unsigned Query calls: STS first, then IAM, so that an
unsigned IAM call is answered ``MissingAuthenticationToken`` rather than ``InvalidAction``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from webfed.api.context import Auth, CallContext, Caller, Operation
from webfed.core.authz_message import encode_authorization_message
from webfed.errors import (
    InternalFailure,
    InvalidAction,
    MalformedQueryString,
    MissingAction,
    MissingAuthenticationToken,
    UnknownOperation,
    WebfedError,
)
from webfed.http import auth, metrics
from webfed.http.auditing import CallRecord, audit_event
from webfed.http.body import read_body
from webfed.logs import get_logger
from webfed.protocol import json11, query, xml
from webfed.runtime import Runtime, ServiceBinding
from webfed.storage.availability import database_unavailable

__all__ = ["AwsReply", "answer_aws_call", "handle_aws_request"]

_log = get_logger("webfed.http")
_XML = b"text/xml; charset=utf-8"
_JSON = b"application/x-amz-json-1.1"
_READ_ONLY = ("Get", "List", "Simulate")
RawHeaders = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class AwsReply:
    """An answer as the ASGI messages carry it: status, header lines (names in lower case, as
    Starlette writes them: ``content-length``, ``content-type``, ``x-amzn-requestid``), body."""

    status: int
    headers: RawHeaders
    body: bytes


def _reply(
    status: int, body: bytes, content_type: bytes, error_type: bytes | None = None
) -> AwsReply:
    headers = [] if error_type is None else [(b"x-amzn-errortype", error_type)]
    headers += ((b"content-length", b"%d" % len(body)), (b"content-type", content_type))
    return AwsReply(status, headers, body)


@dataclass(slots=True)
class _RequestHeaders:
    """The few request headers the dispatcher reads, found in one pass over the ASGI list.

    Names are compared as sent (ASGI servers give them in lower case) and the first of a
    repeated header wins: what Starlette's ``Headers.get`` answers."""

    target: str | None
    user_agent: str
    content_length: str | None
    authorization: bool


def _request_headers(scope: Scope) -> _RequestHeaders:
    target = user_agent = content_length = None
    authorization = False
    for name, value in scope["headers"]:
        if name == b"x-amz-target":
            target = value if target is None else target
        elif name == b"user-agent":
            user_agent = value if user_agent is None else user_agent
        elif name == b"content-length":
            content_length = value if content_length is None else content_length
        elif name == b"authorization":
            authorization = True
    return _RequestHeaders(
        target=None if target is None else target.decode("latin-1"),
        user_agent="" if user_agent is None else user_agent.decode("latin-1"),
        content_length=None if content_length is None else content_length.decode("latin-1"),
        authorization=authorization,
    )


def new_request_id(rng: random.Random) -> str:
    """A random (version 4) UUID in its canonical text, as AWS's request ids look.

    From the runtime's batched CSPRNG: ``uuid.uuid4`` costs a system call and a ``UUID`` object
    per request."""
    digits = rng.randbytes(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # RFC 9562 section 4.1: the variant bits 10
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def _route_json(runtime: Runtime, target: str) -> tuple[ServiceBinding, Operation]:
    prefix, _, name = target.partition(".")
    binding = runtime.json_targets.get(prefix)
    if binding is None or not name:
        raise UnknownOperation(f"Unknown operation target: {target[:128]}")
    operation = binding.operations.get(name)
    if operation is None:
        raise UnknownOperation(f"Unknown operation {name[:128]} for {binding.name}.")
    return binding, operation


def _query_params(scope: Scope, body: bytes) -> dict[str, str]:
    params = query.parse_form(scope.get("query_string", b""))
    if scope["method"] == "POST" and body:
        for key, value in query.parse_form(body).items():
            if key in params:
                raise MalformedQueryString(f"The parameter {key[:128]} is given more than once.")
            params[key] = value
    return params


def _route_query(
    runtime: Runtime, params: dict[str, str], signed_service: str | None
) -> tuple[ServiceBinding, Operation]:
    """The operation a Query request names, in the signed service or else in STS, then IAM."""
    action = params.get("Action")
    if not action:
        raise MissingAction("The request must contain the parameter Action.")
    if signed_service is not None:
        binding = runtime.services.get(signed_service)
        if binding is None or binding.spec.meta.protocol != "query":
            raise InvalidAction(
                f"Could not find operation {action[:128]} for {signed_service[:64]}"
            )
    else:
        binding = next(
            (b for b in runtime.services.values() if action in b.operations),
            runtime.services["sts"],
        )
    spec = query.resolve_action(binding.spec, params)  # checks Version too
    operation = binding.operations.get(spec.name)
    if operation is None:
        raise InvalidAction(f"webfed does not support the operation {spec.name}")
    return binding, operation


async def _invoke(
    runtime: Runtime, body: bytes, binding: ServiceBinding, operation: Operation, record: CallRecord
) -> AwsReply:
    spec = binding.spec.operations[operation.name]
    if record.raw_params is not None:
        params = query.decode_query(spec, record.raw_params)
    else:
        params = json11.decode_json(spec, body)
    record.params = params
    if operation.auth is Auth.NONE:  # unsigned: the per-issuer / per-pool limit
        runtime.rate_limits.admit_scope(binding.name, operation.name, params)
    ctx = CallContext(
        request_id=record.request_id,
        now=runtime.clock(),
        source_ip=record.source_ip,
        account_id=runtime.settings.account_id,
        region=runtime.settings.region,
        caller=record.caller,
        store=runtime.store,
        settings=runtime.settings,
        runtime=runtime,
    )
    result = await operation.handler(ctx, params)
    record.result = result
    if binding.name == "iam" and not operation.name.startswith(_READ_ONLY):
        runtime.iam.invalidate()  # this node sees its own writes at once; others within ~1 s
    if record.raw_params is not None:
        return _reply(200, xml.encode_query_response(spec, result, record.request_id), _XML)
    return _reply(200, json11.encode_json_response(spec, result), _JSON)


def _authorize(service: str, operation: Operation, caller: Caller | None) -> None:
    if operation.auth is Auth.NONE:
        return
    if caller is None:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    if operation.auth is Auth.ADMIN and not caller.is_admin:
        raise auth.not_authorized(caller, f"{service}:{operation.name}")


def _signature(
    scope: Scope, receive: Receive, headers: _RequestHeaders, body: bytes
) -> auth.SignedRequest | None:
    """The SigV4 signature; a Starlette ``Request`` is built only for a request that has one."""
    if not headers.authorization and b"X-Amz-Credential" not in scope.get("query_string", b""):
        return None
    return auth.parse_signature(Request(scope, receive), body)


async def _route_and_run(
    runtime: Runtime, scope: Scope, receive: Receive, headers: _RequestHeaders, record: CallRecord
) -> AwsReply:
    settings = runtime.settings
    body = await read_body(
        receive,
        headers.content_length,
        settings.max_request_body_bytes,
        settings.request_body_timeout_seconds,
    )
    signature = _signature(scope, receive, headers, body)
    if headers.target is not None:
        binding, operation = _route_json(runtime, headers.target)
    else:
        record.raw_params = _query_params(scope, body)
        signed_service = signature.service if signature is not None else None
        binding, operation = _route_query(runtime, record.raw_params, signed_service)
    record.service, record.operation = binding.name, operation.name
    if signature is not None and operation.auth is not Auth.NONE:
        record.caller = auth.authenticate(runtime, signature, binding.name)
    _authorize(binding.name, operation, record.caller)
    if operation.auth is Auth.NONE:  # unsigned: the per-client limit, before any decoding
        runtime.rate_limits.admit_client(binding.name, operation.name, record.source_ip)
    return await _invoke(runtime, body, binding, operation, record)


async def answer_aws_call(app: Starlette, scope: Scope, receive: Receive) -> AwsReply:
    """Answer one AWS call straight from its ASGI scope and messages (:mod:`webfed.http.front`).

    Every failure is an AWS error answer; the reply carries ``x-amzn-RequestId``."""
    runtime: Runtime = app.state.runtime
    started = time.perf_counter()
    headers = _request_headers(scope)
    client = scope.get("client")
    record = CallRecord(
        service="",
        operation="",
        request_id=new_request_id(runtime.rng),
        source_ip=client[0] if client is not None else "",
        user_agent=headers.user_agent,
    )
    try:
        reply = await _route_and_run(runtime, scope, receive, headers, record)
    except ClientDisconnect:
        raise  # gone before its body arrived: there is no call to answer, audit or log
    except WebfedError as error:
        metrics.observe_rejection(record.service or "unknown", error)
        _encode_explanation(runtime, error, record)
        record.error = error
        reply = _error_reply(error, headers.target, runtime, record)
    except Exception as error:
        record.error = _unexpected(error, record)
        reply = _error_reply(record.error, headers.target, runtime, record)
    reply.headers.append((b"x-amzn-requestid", record.request_id.encode("latin-1")))
    if record.operation:
        runtime.audit.record(
            audit_event(
                record,
                now=runtime.clock(),
                account_id=runtime.settings.account_id,
                region=runtime.settings.region,
                event_id=new_request_id(runtime.rng),
            )
        )
    metrics.observe_request(
        record.service or "unknown",
        record.operation or "unknown",
        reply.status,
        time.perf_counter() - started,
    )
    return reply


async def handle_aws_request(request: Request) -> Response:
    """The same answer as a Starlette endpoint (``/`` when mounted under a root path)."""
    try:
        reply = await answer_aws_call(request.app, request.scope, request.receive)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read it
    response = Response(reply.body, reply.status)
    response.raw_headers = reply.headers
    return response


def _unexpected(error: Exception, record: CallRecord) -> WebfedError:
    """A database outage is ``ServiceUnavailable`` (retryable, no trace logged); anything else
    is a bug: logged with its trace, answered ``InternalFailure`` without detail."""
    unavailable = database_unavailable(error)
    if unavailable is not None:
        _log.warning(
            "database unavailable",
            request_id=record.request_id,
            operation=record.operation,
            error=type(error).__name__,
        )
        return unavailable
    _log.exception("unhandled error", request_id=record.request_id, operation=record.operation)
    return InternalFailure("We encountered an internal error. Please try again.")


def _encode_explanation(runtime: Runtime, error: WebfedError, record: CallRecord) -> None:
    """Seal an admin-only explanation into the error's encoded message, as AWS appends one."""
    if error.explanation is None or error.encoded_message is not None:
        return
    params = record.raw_params or {}
    error.encoded_message = encode_authorization_message(
        error.explanation,
        key_ring=runtime.key_ring,
        rng=runtime.rng,
        now=runtime.clock(),
        scrub=[value for key, value in params.items() if key.endswith("Token")],
    )


def _error_reply(
    error: WebfedError, target: str | None, runtime: Runtime, record: CallRecord
) -> AwsReply:
    if error.status >= 500:
        _log.warning("request failed", code=error.code, request_id=record.request_id)
    if target is not None:
        body = json11.encode_json_error(error)
        return _reply(error.status, body, _JSON, error.wire_json_code.encode("latin-1"))
    binding = runtime.services.get(record.service)
    service = binding if binding is not None else runtime.services["sts"]
    return _reply(
        error.status, xml.encode_query_error(service.spec, error, record.request_id), _XML
    )

"""Fuzz the AWS JSON 1.1 protocol decoder (Cognito Identity) against botocore's real model.

The input either gives the ``X-Amz-Target`` header's text itself or names one of the service's
operations, then the body. The target is resolved with
:func:`~webfed.protocol.json11.resolve_target` and the body decoded and validated with
:func:`~webfed.protocol.json11.decode_json` (types, constraints, strictness: no duplicate keys,
no ``NaN``, no lone surrogates); any refusal must be a client error, which is then rendered as
the protocol's error body and must be JSON naming its ``__type``.

Run: ``.venv/bin/python tests/fuzz/fuzz_json.py -runs=1000000 tests/fuzz/corpus/json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import FuzzFailure, Input, instrumented, main
from webfed.errors import WebfedError

with instrumented(__name__ == "__main__"):
    from webfed.protocol.json11 import decode_json, encode_json_error, resolve_target
    from webfed.protocol.models import load_service

__all__ = ["OPERATIONS", "SERVICE", "check"]

SERVICE = load_service("cognito-identity")
OPERATIONS = tuple(sorted(SERVICE.operations))


def check(data: bytes) -> None:
    """Decode a fuzzed JSON 1.1 request; raise only on a crash."""
    reader = Input(data)
    if reader.boolean():
        target: str | None = f"{SERVICE.meta.target_prefix}.{reader.pick(OPERATIONS)}"
    else:
        target = reader.text(256) if reader.boolean() else None
    body = reader.rest()
    try:
        operation = resolve_target(SERVICE, target)
        decoded = decode_json(operation, body)
    except WebfedError as error:
        if error.status >= 500:
            raise FuzzFailure(f"a client's request answered with {error!r}") from error
        envelope = json.loads(encode_json_error(error))
        if not isinstance(envelope.get("__type"), str):
            raise FuzzFailure("a JSON error body without __type") from error
        return
    modelled = {member.name for member in operation.input.members}
    if not set(decoded) <= modelled:
        raise FuzzFailure(f"decoded members outside the model: {set(decoded) - modelled}")


if __name__ == "__main__":
    main(check)

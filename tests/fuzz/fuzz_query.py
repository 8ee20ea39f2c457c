"""Fuzz the AWS Query protocol decoder (STS and IAM) against botocore's real service models.

The input picks the service, then either sends its rest as the whole form body (``Action`` and
``Version`` included, so action resolution is fuzzed too) or names one of the service's
operations and prepends that operation's ``Action`` and ``Version`` to the rest, so every
operation's input shape (structures, ``member.N`` lists, ``entry.N`` maps, scalars, patterns,
ranges, enums) is reached. The form is parsed with :func:`~webfed.protocol.query.parse_form`,
the operation resolved with :func:`~webfed.protocol.query.resolve_action` and the parameters
decoded and validated with :func:`~webfed.protocol.query.decode_query`; the decoded members must
be the operation's modelled members.

Run: ``.venv/bin/python tests/fuzz/fuzz_query.py -runs=1000000 tests/fuzz/corpus/query``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import FuzzFailure, Input, expect_client_error, instrumented, main

with instrumented(__name__ == "__main__"):
    from webfed.protocol.models import ServiceSpec, load_service
    from webfed.protocol.query import decode_query, parse_form, resolve_action

__all__ = ["OPERATIONS", "SERVICES", "check"]

SERVICES: tuple[ServiceSpec, ...] = (load_service("sts"), load_service("iam"))
#: Each service's operation names, sorted so that a corpus file always names the same one.
OPERATIONS: dict[str, tuple[str, ...]] = {
    spec.meta.name: tuple(sorted(spec.operations)) for spec in SERVICES
}


def _decode(service: ServiceSpec, body: bytes) -> None:
    params = parse_form(body)
    operation = resolve_action(service, params)
    decoded = decode_query(operation, params)
    modelled = {member.name for member in operation.input.members}
    if not set(decoded) <= modelled:
        raise FuzzFailure(f"decoded members outside the model: {set(decoded) - modelled}")


def check(data: bytes) -> None:
    """Decode a fuzzed Query request; raise only on a crash."""
    reader = Input(data)
    service = reader.pick(SERVICES)
    named = reader.boolean()
    if named:
        operation = reader.pick(OPERATIONS[service.meta.name])
        prefix = f"Action={operation}&Version={service.meta.api_version}&".encode()
        body = prefix + reader.rest()
    else:
        body = reader.rest()
    expect_client_error(lambda: _decode(service, body))


if __name__ == "__main__":
    main(check)

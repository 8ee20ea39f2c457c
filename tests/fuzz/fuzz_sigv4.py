"""Fuzz SigV4: the Authorization header and presigned query parser, the canonical request
builder and the ``aws-chunked`` body decoder.

The first byte picks the shape of the input:

0. **request** (STS/IAM rules) and 1. **request** (S3 rules): the rest is a raw HTTP request
   (request line, headers, blank line, body), read as the listener reads it. Its signature
   parameters are parsed (header or presigned form); when they parse, the canonical request and
   the expected signature are computed, the request must verify with that signature (the
   builder is deterministic), its time window is checked at its own ``X-Amz-Date`` and the
   declared payload digest is checked.
2. **signed chunks**: the harness signs fuzzed chunk data and trailers itself (a fuzzed byte
   may corrupt a signature) and feeds the encoded body to the decoder in fuzzed slices; the
   decoded payload must equal the chunks' data.
3. **raw chunks**: the rest is an ``aws-chunked`` body fed, in one piece, to an unsigned or a
   signed decoder.

Run: ``.venv/bin/python tests/fuzz/fuzz_sigv4.py -runs=1000000 tests/fuzz/corpus/sigv4``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import FuzzFailure, Input, RawHttp, expect_client_error, instrumented, main

with instrumented(__name__ == "__main__"):
    from webfed.core import sigv4

__all__ = ["AMZ_DATE", "CHAIN", "SCOPE", "SECRET", "check"]

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"
SCOPE = "20150830/us-east-1/s3/aws4_request"
SEED_SIGNATURE = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHAIN = sigv4.ChunkChain(
    sigv4.derive_signing_key(SECRET, "20150830", "us-east-1", "s3"), AMZ_DATE, SCOPE, SEED_SIGNATURE
)
_RULES = (sigv4.STANDARD_RULES, sigv4.S3_RULES)


def _request(data: Input, rules: sigv4.SigningRules) -> None:
    raw = RawHttp.parse(data.rest())
    request = sigv4.HttpRequest(raw.method, raw.raw_path, raw.raw_query, raw.headers, raw.body)
    parsed = expect_client_error(lambda: sigv4.parse_authorization(request))
    if parsed is None:
        return
    assert isinstance(parsed, sigv4.ParsedAuthorization)
    sigv4.canonical_request(request, parsed, rules)
    expected = sigv4.request_signature(request, parsed, SECRET, rules=rules)
    if len(expected) != 64:
        raise FuzzFailure(f"a signature of {len(expected)} characters")
    if all(name in request.headers_by_name() for name in parsed.signed_headers):
        # Its own signature must verify: the builder gives the same canonical request twice.
        resigned = dataclasses.replace(parsed, signature=expected)
        sigv4.verify_signature(request, resigned, SECRET, rules=rules)
    sigv4.check_request_time(parsed, now=parsed.signed_at)
    expect_client_error(lambda: sigv4.check_declared_payload(request, rules))


def _encode_chunk(previous: str, payload: bytes, corrupt: bool) -> tuple[str, bytes]:
    signature = sigv4.chunk_signature(CHAIN, previous, payload)
    sent = ("0" * 64) if corrupt else signature
    return signature, f"{len(payload):x};chunk-signature={sent}\r\n".encode() + payload + b"\r\n"


def _signed_chunks(data: Input) -> None:
    trailer = data.boolean()
    corrupt_at = data.int_in(0, 15)
    pieces = [data.chunk(512) for _ in range(data.int_in(0, 6))]
    trailers = [(data.text(64), data.text(256)) for _ in range(data.int_in(0, 3) if trailer else 0)]
    slices = [data.int_in(1, 600) for _ in range(8)]
    body = bytearray()
    previous = SEED_SIGNATURE
    for index, piece in enumerate([*pieces, b""]):
        previous, encoded = _encode_chunk(previous, piece, corrupt=index + 1 == corrupt_at)
        body += encoded
    if trailer:
        text = b"".join(f"{n}:{v}\n".encode() for n, v in trailers)
        for name, value in trailers:
            body += f"{name}:{value}\r\n".encode()
        signature = sigv4.trailer_signature(CHAIN, previous, text)
        body += f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    else:
        body = body[:-2] + b"\r\n"  # the final chunk's CRLF already ends the body
    decoder = sigv4.AwsChunkedDecoder(CHAIN, trailer=trailer)

    def run() -> bytes:
        out = bytearray()
        position = 0
        for size in [*slices, len(body)]:
            out += decoder.feed(bytes(body[position : position + size]))
            position += size
        decoder.finish()
        return bytes(out)

    decoded = expect_client_error(run)
    if decoded is not None and decoded != b"".join(pieces):
        raise FuzzFailure("the decoded payload is not the chunks' data")


def _raw_chunks(data: Input) -> None:
    signed = data.boolean()
    decoder = sigv4.AwsChunkedDecoder(CHAIN if signed else None, trailer=data.boolean())
    body = data.rest()

    def run() -> None:
        decoder.feed(body)
        decoder.finish()

    expect_client_error(run)


def check(data: bytes) -> None:
    """Drive the SigV4 parsers with ``data``; raise only on a crash."""
    reader = Input(data)
    mode = reader.int_in(0, 3)
    if mode < 2:
        _request(reader, _RULES[mode])
    elif mode == 2:
        _signed_chunks(reader)
    else:
        _raw_chunks(reader)


if __name__ == "__main__":
    main(check)

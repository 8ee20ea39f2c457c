"""aws-chunked decoding: AWS's published example first, then botocore-made bodies, attacks and
properties."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core import sigv4
from webfed.core.sigv4 import AwsChunkedDecoder, ChunkChain, chunk_signature, trailer_signature
from webfed.errors import IncompleteSignature, SignatureDoesNotMatch

# "Example: PUT Object" of "Transferring Payload in Multiple Chunks" (Amazon S3 API Reference).
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
    "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
    "x-amz-decoded-content-length;x-amz-storage-class,"
    "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)
EXAMPLE_HEADERS = (
    ("Host", "s3.amazonaws.com"),
    ("x-amz-date", "20130524T000000Z"),
    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    ("Authorization", AUTHORIZATION),
    ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ("Content-Encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "66560"),
    ("Content-Length", "66824"),
)
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE_PAYLOAD = b"a" * 66560


def example_request() -> sigv4.HttpRequest:
    return sigv4.HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", EXAMPLE_HEADERS)


def example_chain() -> ChunkChain:
    parsed = sigv4.parse_authorization(example_request())
    key = sigv4.derive_signing_key(SECRET, "20130524", "us-east-1", "s3")
    return ChunkChain(key, parsed.amz_date, parsed.credential_scope, parsed.signature)


def example_body(signatures: tuple[str, ...] = CHUNK_SIGNATURES) -> bytes:
    first, second, final = signatures
    return (
        f"10000;chunk-signature={first}\r\n".encode()
        + b"a" * 65536
        + f"\r\n400;chunk-signature={second}\r\n".encode()
        + b"a" * 1024
        + f"\r\n0;chunk-signature={final}\r\n\r\n".encode()
    )


def encode(chain: ChunkChain | None, pieces: list[bytes], trailers: dict[str, str] | None) -> bytes:
    """An aws-chunked body the way SDKs write it (signed or not, with or without trailer)."""
    previous = chain.seed_signature if chain is not None else ""
    out = bytearray()
    for piece in [*pieces, b""]:
        size = f"{len(piece):x}"
        if chain is None:
            out += f"{size}\r\n".encode()
        else:
            previous = chunk_signature(chain, previous, piece)
            out += f"{size};chunk-signature={previous}\r\n".encode()
        if piece:
            out += piece + b"\r\n"
    if trailers is None:
        out += b"\r\n"
        return bytes(out)
    text = "".join(f"{name}:{value}\n" for name, value in trailers.items()).encode()
    out += "".join(f"{name}:{value}\r\n" for name, value in trailers.items()).encode()
    if chain is not None:
        out += f"x-amz-trailer-signature:{trailer_signature(chain, previous, text)}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def decode_all(decoder: AwsChunkedDecoder, body: bytes, step: int) -> bytes:
    out = b"".join(decoder.feed(body[i : i + step]) for i in range(0, len(body), step))
    decoder.finish()
    return out


# --- published vector ---------------------------------------------------------------------------


def test_example_seed_signature_is_the_request_signature() -> None:
    request = example_request()
    parsed = sigv4.parse_authorization(request)
    sigv4.verify_signature(request, parsed, SECRET, rules=sigv4.S3_RULES)


@pytest.mark.parametrize(
    ("index", "data"),
    [(0, b"a" * 65536), (1, b"a" * 1024), (2, b"")],
    ids=["first-64KiB", "second-1KiB", "final-empty"],
)
def test_example_chunk_signatures(index: int, data: bytes) -> None:
    chain = example_chain()
    previous = (chain.seed_signature, *CHUNK_SIGNATURES)[index]
    assert chunk_signature(chain, previous, data) == CHUNK_SIGNATURES[index]


@pytest.mark.parametrize("step", [1, 7, 4096, 66824], ids=["byte", "odd", "page", "whole"])
def test_example_body_decodes_in_any_split(step: int) -> None:
    body = example_body()
    assert len(body) == 66824
    decoder = AwsChunkedDecoder(example_chain())
    assert decode_all(decoder, body, step) == EXAMPLE_PAYLOAD
    assert decoder.decoded_length == 66560


# --- botocore-made bodies -----------------------------------------------------------------------


def test_botocore_unsigned_trailer_body_decodes() -> None:
    """The body boto3 sends over HTTPS for PutObject (``STREAMING-UNSIGNED-PAYLOAD-TRAILER``)."""
    from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

    payload = bytes(range(256)) * 300
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload),
        checksum_cls=Crc32Checksum,
        checksum_name="x-amz-checksum-crc32",
        chunk_size=8192,
    )
    body = wrapper.read()
    decoder = AwsChunkedDecoder(None, trailer=True)
    assert decode_all(decoder, body, 1000) == payload
    checksum = Crc32Checksum()
    checksum.update(payload)
    assert decoder.trailers == {"x-amz-checksum-crc32": checksum.b64digest()}


# --- attacks ------------------------------------------------------------------------------------


def flip(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["first", "second", "final"])
def test_tampered_signature_is_refused(index: int) -> None:
    signatures = list(CHUNK_SIGNATURES)
    signatures[index] = flip(signatures[index])
    decoder = AwsChunkedDecoder(example_chain())
    with pytest.raises(SignatureDoesNotMatch):
        decode_all(decoder, example_body((signatures[0], signatures[1], signatures[2])), 4096)


def test_tampered_data_is_refused_before_release() -> None:
    body = bytearray(example_body())
    body[100] = ord("b")
    decoder = AwsChunkedDecoder(example_chain())
    with pytest.raises(SignatureDoesNotMatch):
        decoder.feed(bytes(body[:70000]))


def test_reordered_chunks_are_refused() -> None:
    chain = example_chain()
    good = encode(chain, [b"x" * 10, b"y" * 10], None)
    first, second = good.split(b"\r\n", 4)[0:2], good.split(b"\r\n", 4)[2:4]
    swapped = b"\r\n".join([*second, *first]) + b"\r\n" + good.split(b"\r\n", 4)[4]
    with pytest.raises(SignatureDoesNotMatch):
        decode_all(AwsChunkedDecoder(chain), swapped, 64)


def test_truncated_body_does_not_finish() -> None:
    body = example_body()
    decoder = AwsChunkedDecoder(example_chain())
    decoder.feed(body[:-10])
    with pytest.raises(IncompleteSignature):
        decoder.finish()


def test_bytes_after_the_final_chunk_are_refused() -> None:
    decoder = AwsChunkedDecoder(example_chain())
    with pytest.raises(IncompleteSignature):
        decode_all(decoder, example_body() + b"0\r\n", 66824)


@pytest.mark.parametrize(
    ("body", "signed"),
    [
        (b"zz;chunk-signature=" + b"0" * 64 + b"\r\n", True),
        (b"10\r\n", True),
        (b"10;chunk-signature=abc\r\n", True),
        (b"10;chunk-signature=" + b"0" * 64 + b"\r\n", False),
        (b"1" * 5000, True),
        (b"5\r\nhelloXX", False),
        (b"123456789;chunk-signature=" + b"0" * 64 + b"\r\n", True),
    ],
    ids=[
        "size-not-hex",
        "signed-without-signature",
        "short-signature",
        "unsigned-with-signature",
        "endless-header-line",
        "missing-crlf-after-data",
        "size-too-long",
    ],
)
def test_malformed_bodies_are_refused(body: bytes, signed: bool) -> None:
    decoder = AwsChunkedDecoder(example_chain() if signed else None)
    with pytest.raises(IncompleteSignature):
        decoder.feed(body)


def test_oversized_signed_chunk_is_refused_before_buffering() -> None:
    decoder = AwsChunkedDecoder(example_chain(), max_chunk=1024)
    with pytest.raises(IncompleteSignature):
        decoder.feed(b"401;chunk-signature=" + b"0" * 64 + b"\r\n")


def test_signed_trailer_is_verified() -> None:
    chain = example_chain()
    body = encode(chain, [b"hello"], {"x-amz-checksum-crc32": "NhCmhg=="})
    decoder = AwsChunkedDecoder(chain, trailer=True)
    assert decode_all(decoder, body, 3) == b"hello"
    assert decoder.trailers == {"x-amz-checksum-crc32": "NhCmhg=="}
    tampered = body.replace(b"NhCmhg==", b"AAAAAA==")
    with pytest.raises(SignatureDoesNotMatch):
        decode_all(AwsChunkedDecoder(chain, trailer=True), tampered, 3)


def test_signed_trailer_without_signature_is_refused() -> None:
    chain = example_chain()
    body = encode(None, [], {"x-amz-checksum-crc32": "AAAAAA=="})
    previous = chunk_signature(chain, chain.seed_signature, b"")
    body = body.replace(b"0\r\n", f"0;chunk-signature={previous}\r\n".encode(), 1)
    with pytest.raises(IncompleteSignature):
        decode_all(AwsChunkedDecoder(chain, trailer=True), body, 64)


def test_repr_hides_the_signing_key() -> None:
    chain = example_chain()
    assert chain.signing_key.hex() not in repr(chain)
    assert repr(chain.signing_key) not in repr(chain)


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=300), max_size=6),
    step=st.integers(min_value=1, max_value=500),
    signed=st.booleans(),
    with_trailer=st.booleans(),
)
def test_round_trip(pieces: list[bytes], step: int, signed: bool, with_trailer: bool) -> None:
    chain = example_chain() if signed else None
    trailers = {"x-amz-checksum-sha256": hashlib.sha256(b"".join(pieces)).hexdigest()}
    if chain is None and not with_trailer:
        with_trailer = True  # unsigned chunks always come with a trailer
    body = encode(chain, pieces, trailers if with_trailer else None)
    decoder = AwsChunkedDecoder(chain, trailer=with_trailer)
    assert decode_all(decoder, body, step) == b"".join(pieces)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_a_changed_byte_never_changes_the_payload(position: int, value: int) -> None:
    chain = example_chain()
    body = bytearray(encode(chain, [b"abc" * 20, b"def" * 7], None))
    index = position % len(body)
    if body[index] == value:
        return
    body[index] = value
    try:
        decoded = decode_all(AwsChunkedDecoder(chain), bytes(body), 17)
    except (SignatureDoesNotMatch, IncompleteSignature):
        return
    # Only a change that means the same thing (hex digit case in a size) may go through.
    assert decoded == b"abc" * 20 + b"def" * 7

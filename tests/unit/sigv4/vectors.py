"""Load AWS's SigV4 test vectors (``tests/vectors/sigv4``) into :class:`HttpRequest` values."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from webfed.core.sigv4 import STANDARD_RULES, HttpRequest, SigningRules

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "sigv4"
CLASSIC = VECTORS / "aws4_testsuite"
CRT = VECTORS / "aws-c-auth-v4"

ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def parse_raw_request(data: bytes) -> HttpRequest:
    """Parse a raw HTTP/1.1 request as a lenient server would.

    The request line may contain raw spaces or UTF-8 (kept as text, surrogateescape);
    continuation lines of a folded header are appended to the value with their line break.
    """
    text = data.decode("utf-8", "surrogateescape").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, rest = request_line.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    raw_path, _, raw_query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in header_lines:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers.pop()
            headers.append((name, f"{value}\n{line}"))
        elif line:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return HttpRequest(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        headers=tuple(headers),
        body=body.encode("utf-8", "surrogateescape"),
    )


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def classic_cases() -> list[Path]:
    """Every case folder of the classic suite (a folder holding ``NAME/NAME.req``)."""
    return sorted(req.parent for req in CLASSIC.rglob("*.req"))


def classic_id(case: Path) -> str:
    return case.relative_to(CLASSIC).as_posix()


def classic_file(case: Path, suffix: str) -> Path:
    return case / f"{case.name}.{suffix}"


@dataclass(frozen=True)
class CrtContext:
    """The ``context.json`` of an aws-c-auth case."""

    region: str
    service: str
    signed_at: datetime
    expires: int
    rules: SigningRules
    token: str | None


def crt_cases() -> list[Path]:
    return sorted(context.parent for context in CRT.glob("*/context.json"))


def crt_context(case: Path) -> CrtContext:
    raw = json.loads(read_text(case / "context.json"))
    rules = STANDARD_RULES
    if not raw["normalize"]:
        rules = replace(rules, normalize_path=False, double_encode_path=False)
    if raw.get("omit_session_token", False):
        rules = replace(rules, sign_presigned_token=False)
    return CrtContext(
        region=raw["region"],
        service=raw["service"],
        signed_at=datetime.strptime(raw["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        expires=raw["expiration_in_seconds"],
        rules=rules,
        token=raw["credentials"].get("token"),
    )


def with_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    return replace(request, headers=(*request.headers, (name, value)))


def flip_last_character(text: str) -> str:
    """Change exactly one character (the last) to a different one of the same class."""
    last = text[-1]
    swapped = "0" if last != "0" else "1"
    return text[:-1] + swapped


def replace_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    """Replace the first header called ``name`` (case-insensitive)."""
    headers = list(request.headers)
    for index, (key, _) in enumerate(headers):
        if key.lower() == name.lower():
            headers[index] = (key, value)
            return replace(request, headers=tuple(headers))
    raise KeyError(name)

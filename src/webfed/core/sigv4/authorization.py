"""Read the SigV4 authentication parameters of a request, before any key is looked up.

A request carries its signature either in the ``Authorization`` header ("Authenticating
Requests: Using the Authorization Header", AWS) or in the query string of a presigned URL
(``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires``,
``X-Amz-SignedHeaders``, ``X-Amz-Signature`` and optionally ``X-Amz-Security-Token``;
"Authenticating Requests: Using Query Parameters", AWS). :func:`parse_authorization` turns
either form into one frozen :class:`ParsedAuthorization`, checking only what can be checked
without the secret key: the algorithm, the shape of the credential scope, that ``host`` is
signed and that the scope date is the date of ``X-Amz-Date``.

No auth at all is ``MissingAuthenticationToken``; anything present but malformed is
``IncompleteSignature``. Messages never repeat a token; they quote only values that were first
validated against a strict pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from webfed.core.sigv4.encoding import decode_component, split_query
from webfed.core.sigv4.request import HttpRequest
from webfed.errors import IncompleteSignature, MissingAuthenticationToken

__all__ = [
    "ALGORITHM",
    "MAX_PRESIGNED_EXPIRES",
    "SCOPE_TERMINATOR",
    "ParsedAuthorization",
    "parse_amz_date",
    "parse_authorization",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SCOPE_TERMINATOR = "aws4_request"
MAX_PRESIGNED_EXPIRES = 604_800  # seven days, the SigV4 presigned URL limit
MAX_AUTHORIZATION_LENGTH = 8_192
MAX_SIGNED_HEADERS = 128

_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_SCOPE_DATE = re.compile(r"[0-9]{8}")
_ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_.+=@-]{1,128}")
_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SIGNATURE = re.compile(r"[0-9A-Za-z]{1,128}")
_EXPIRES = re.compile(r"[0-9]{1,7}")
# The spelling every SDK sends, read with one match; anything else (other spacing, other order,
# odd characters) goes through the tolerant parser, which gives the same result for this form.
_USUAL_HEADER = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([\x21-\x2b\x2d-\x7e]+), ?"
    r"SignedHeaders=([\x21-\x2b\x2d-\x7e]+), ?Signature=([\x21-\x2b\x2d-\x7e]+)"
)
# A whole well-formed credential, so that the usual case costs one match; on a mismatch the
# parts are checked one by one to say which is wrong.
_CREDENTIAL = re.compile(
    r"([A-Za-z0-9_.+=@-]{1,128})/([0-9]{8})/([A-Za-z0-9_.-]{1,64})/([A-Za-z0-9_.-]{1,64})"
    r"/aws4_request"
)
_HEADER_NAMES = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]{1,128}(?:;[a-z0-9!#$%&'*+.^_`|~-]{1,128})*")

_HEADER_PARAMS = ("Credential", "SignedHeaders", "Signature")
_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_QUERY_AUTH_KEYS = frozenset((*_QUERY_PARAMS, "X-Amz-Security-Token"))
# Any of these in the query string means the client meant a presigned request.
_PRESIGN_MARKERS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature")


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    """The SigV4 parameters of one request, validated for shape but not yet verified.

    ``scope_date``/``region``/``service`` come from the credential scope; the caller checks the
    region and service against what the endpoint serves. ``signed_at`` is ``amz_date`` as an
    aware UTC datetime. ``expires`` is set (seconds) only for presigned requests.
    """

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    signed_at: datetime
    presigned: bool
    expires: int | None = None
    security_token: str | None = field(default=None, repr=False)

    @property
    def credential_scope(self) -> str:
        """``YYYYMMDD/region/service/aws4_request``, the third line of the string to sign."""
        return f"{self.scope_date}/{self.region}/{self.service}/{SCOPE_TERMINATOR}"


def parse_authorization(request: HttpRequest) -> ParsedAuthorization:
    """Find and parse the request's SigV4 parameters (header form or presigned query form)."""
    header_values = request.header_values("authorization")
    query = _query_auth_parameters(request.raw_query)
    presigned = bool(query) and any(name in query for name in _PRESIGN_MARKERS)
    if header_values and presigned:
        raise IncompleteSignature(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
            "Authorization header should be specified."
        )
    if presigned:
        return _parse_presigned(query)
    if not header_values:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    if len(header_values) > 1:
        raise IncompleteSignature("Request must not carry more than one Authorization header.")
    return _parse_header(header_values[0], request)


def parse_amz_date(text: str, where: str = "X-Amz-Date") -> datetime:
    """Parse an ISO 8601 basic timestamp (``20150830T123600Z``) into an aware UTC datetime."""
    try:
        return _basic_timestamp(text)
    except ValueError:
        raise IncompleteSignature(
            f"{where} must be an ISO 8601 basic format timestamp such as 20150830T123600Z."
        ) from None


# Every request signed within the same second carries the same X-Amz-Date, every request of a
# session the same credential scope, and every request of an SDK the same signed-header list:
# their validated readings are memoised (bounded). A value that fails validation raises and is
# not stored, so it is checked again, in full, each time it is sent.
@lru_cache(maxsize=256)
def _basic_timestamp(text: str) -> datetime:
    # The pattern admits only the basic form with ASCII digits; within it, the C parser reads
    # exactly that form and refuses impossible fields (month 13, second 60). Hour 24, which
    # newer parsers read as the next midnight, is refused here first.
    if _AMZ_DATE.fullmatch(text) is None or text[9:11] >= "24":
        raise ValueError("not a basic ISO 8601 UTC timestamp")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else moment.replace(tzinfo=UTC)


# --- Authorization header form ----------------------------------------------------------------


def _parse_header(value: str, request: HttpRequest) -> ParsedAuthorization:
    if len(value) > MAX_AUTHORIZATION_LENGTH:
        raise IncompleteSignature("Authorization header is too long.")
    dates = request.header_values("x-amz-date")
    credential, signed_headers, signature = _header_triple(value, dated=bool(dates))
    if len(dates) > 1:
        raise IncompleteSignature("Request must not carry more than one X-Amz-Date header.")
    tokens = request.header_values("x-amz-security-token")
    if len(tokens) > 1:
        raise IncompleteSignature("Request must not carry more than one X-Amz-Security-Token.")
    return _assemble(
        credential,
        signed_headers,
        signature,
        dates[0].strip(),
        expires=None,
        security_token=tokens[0].strip() if tokens else None,
    )


def _header_triple(value: str, *, dated: bool) -> tuple[str, str, str]:
    """Credential, SignedHeaders and Signature of an ``AWS4-HMAC-SHA256`` header, or raise
    naming the wrong algorithm or everything that is missing.

    The spelling SDKs send is read with one match; any other goes through the tolerant parser,
    which reads that spelling the same way.
    """
    usual = _USUAL_HEADER.fullmatch(value)
    if usual is not None and dated:
        credential, signed_headers, signature = usual.groups()
        return credential, signed_headers, signature
    parts = value.split(maxsplit=1)
    if not parts or parts[0] != ALGORITHM:
        raise IncompleteSignature(f"Authorization header must use the '{ALGORITHM}' algorithm.")
    params = _header_parameters(parts[1] if len(parts) == 2 else "")
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in _HEADER_PARAMS
        if name not in params
    ]
    if not dated:
        problems.append("Authorization header requires existence of a 'X-Amz-Date' header.")
    if problems:
        raise IncompleteSignature(" ".join(problems))
    return params["Credential"], params["SignedHeaders"], params["Signature"]


def _header_parameters(text: str) -> dict[str, str]:
    """Split ``Credential=..., SignedHeaders=..., Signature=...``, tolerating spacing variants."""
    params: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals:
            raise IncompleteSignature(
                "Authorization header parameters must be key=value pairs (missing equal-sign)."
            )
        if name not in _HEADER_PARAMS:
            raise IncompleteSignature(
                "Authorization header parameters must be Credential, SignedHeaders and Signature."
            )
        if name in params:
            raise IncompleteSignature(f"Authorization header repeats the '{name}' parameter.")
        params[name] = value.strip()
    return params


# --- presigned query form ---------------------------------------------------------------------


def _query_auth_parameters(raw_query: str) -> dict[str, str]:
    """The decoded ``X-Amz-*`` authentication parameters of a query string."""
    found: dict[str, str] = {}
    if "X-Amz-" not in raw_query and "%" not in raw_query:
        return found  # no key can decode to an X-Amz- name ("+" decodes to a space)
    for raw_key, raw_value in split_query(raw_query):
        key = decode_component(raw_key)
        if key not in _QUERY_AUTH_KEYS:
            continue
        if key in found:
            raise IncompleteSignature(f"Query string repeats the '{key}' parameter.")
        found[key] = decode_component(raw_value)
    return found


def _parse_presigned(query: dict[str, str]) -> ParsedAuthorization:
    for name in _QUERY_PARAMS:
        if name not in query:
            raise IncompleteSignature(
                f"AWS query-string parameters must include '{name}'. "
                "Re-examine the query-string parameters."
            )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(f"X-Amz-Algorithm only supports '{ALGORITHM}'.")
    return _assemble(
        query["X-Amz-Credential"],
        query["X-Amz-SignedHeaders"],
        query["X-Amz-Signature"],
        query["X-Amz-Date"],
        expires=_parse_expires(query["X-Amz-Expires"]),
        security_token=query.get("X-Amz-Security-Token"),
    )


def _parse_expires(text: str) -> int:
    if _EXPIRES.fullmatch(text) is None or int(text) < 1:
        raise IncompleteSignature("X-Amz-Expires must be a whole number of seconds, at least 1.")
    seconds = int(text)
    if seconds > MAX_PRESIGNED_EXPIRES:
        raise IncompleteSignature(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES}."
        )
    return seconds


# --- shared validation ------------------------------------------------------------------------


def _assemble(
    credential: str,
    signed_headers: str,
    signature: str,
    amz_date: str,
    *,
    expires: int | None,
    security_token: str | None,
) -> ParsedAuthorization:
    access_key_id, scope_date, region, service = _parse_credential(credential)
    headers = _parse_signed_headers(signed_headers)
    if _SIGNATURE.fullmatch(signature) is None:
        raise IncompleteSignature("Signature must be a hexadecimal string.")
    signed_at = parse_amz_date(amz_date)
    if amz_date[:8] != scope_date:
        raise IncompleteSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    return ParsedAuthorization(  # positional: measurably cheaper than eleven keywords
        access_key_id,
        scope_date,
        region,
        service,
        headers,
        signature,
        amz_date,
        signed_at,
        expires is not None,
        expires,
        security_token,
    )


@lru_cache(maxsize=4096)
def _parse_credential(text: str) -> tuple[str, str, str, str]:
    """``(access key id, date, region, service)`` of a well-formed credential, or raise."""
    whole = _CREDENTIAL.fullmatch(text)
    if whole is not None:
        access_key_id, date, region, service = whole.groups()
        return access_key_id, date, region, service
    parts = text.split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request."
        )
    access_key_id, date, region, service, terminator = parts
    if terminator != SCOPE_TERMINATOR:
        raise IncompleteSignature(
            f"Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}'."
        )
    if _ACCESS_KEY_ID.fullmatch(access_key_id) is None:
        raise IncompleteSignature("Credential must start with a valid access key id.")
    if _SCOPE_DATE.fullmatch(date) is None:
        raise IncompleteSignature("Credential should be scoped to a date in the format YYYYMMDD.")
    if _SCOPE_NAME.fullmatch(region) is None:
        raise IncompleteSignature("Credential should be scoped to a valid region.")
    if _SCOPE_NAME.fullmatch(service) is None:
        raise IncompleteSignature("Credential should be scoped to a valid service.")
    return access_key_id, date, region, service  # unreachable: valid parts match _CREDENTIAL


@lru_cache(maxsize=256)
def _parse_signed_headers(text: str) -> tuple[str, ...]:
    names = tuple(text.split(";"))
    if len(names) > MAX_SIGNED_HEADERS:
        raise IncompleteSignature("SignedHeaders lists too many headers.")
    if _HEADER_NAMES.fullmatch(text) is None:  # each name: 1 to 128 token characters
        raise IncompleteSignature(
            "SignedHeaders must be lower-case header names separated by semicolons."
        )
    if len(set(names)) != len(names):
        raise IncompleteSignature("SignedHeaders must not list a header twice.")
    if "host" not in names:
        raise IncompleteSignature("SignedHeaders must include the 'host' header.")
    return names

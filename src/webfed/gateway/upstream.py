"""The upstream's own credentials, and SigV4 signing of the requests the gateway forwards.

The gateway never forwards the client's signature: the client signed for webfed's credentials,
the upstream knows only its own. Every forwarded request is signed again ("Create a signed AWS
API request", IAM User Guide) with the credentials the gateway was started with:

* S3: the body is streamed, so it is signed as ``UNSIGNED-PAYLOAD`` (allowed by S3 for any
  request; the gateway has already checked the client's payload signature itself);
* DynamoDB: the (small, buffered) JSON body's SHA-256.

Signed headers are ``host``, every ``x-amz-*`` header, ``content-type`` and ``content-md5``;
S3 requires every ``x-amz-*`` header present to be signed. The signing steps are those of
:mod:`webfed.core.sigv4`, so signer and verifier share one implementation (the tests also check
the result against botocore's signer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from webfed.core import sigv4
from webfed.core.sigv4 import SigningRules

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "UpstreamCredentials",
    "sign_upstream",
]

ENVIRONMENT_VARIABLES = (
    "WEBFED_UPSTREAM_ACCESS_KEY_ID",
    "WEBFED_UPSTREAM_SECRET_ACCESS_KEY",
    "WEBFED_UPSTREAM_SESSION_TOKEN",
)
_ALWAYS_SIGNED = frozenset({"host", "content-type", "content-md5"})
_KEY_CACHE = sigv4.SigningKeyCache(maxsize=8)


@dataclass(frozen=True, slots=True)
class UpstreamCredentials:
    """Credentials for the upstream; the secret and token never appear in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> UpstreamCredentials:
        """``WEBFED_UPSTREAM_ACCESS_KEY_ID`` / ``_SECRET_ACCESS_KEY`` / ``_SESSION_TOKEN``."""
        key_id = environ.get("WEBFED_UPSTREAM_ACCESS_KEY_ID", "").strip()
        secret = environ.get("WEBFED_UPSTREAM_SECRET_ACCESS_KEY", "").strip()
        if not key_id or not secret:
            raise ValueError(
                "the upstream's credentials are missing: set WEBFED_UPSTREAM_ACCESS_KEY_ID "
                "and WEBFED_UPSTREAM_SECRET_ACCESS_KEY"
            )
        token = environ.get("WEBFED_UPSTREAM_SESSION_TOKEN", "").strip() or None
        return cls(key_id, secret, token)


def _amz_date(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def sign_upstream(
    method: str,
    path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    *,
    payload_hash: str,
    credentials: UpstreamCredentials,
    region: str,
    service: str,
    rules: SigningRules,
    now: datetime,
) -> list[tuple[str, str]]:
    """``headers`` plus ``X-Amz-Date``, the token, the payload hash (S3) and ``Authorization``.

    ``headers`` must already hold the upstream's ``host``; it must not hold any auth header.
    """
    amz_date = _amz_date(now)
    signed = [*headers, ("x-amz-date", amz_date)]
    if credentials.session_token is not None:
        signed.append(("x-amz-security-token", credentials.session_token))
    if service == "s3":
        signed.append((sigv4.CONTENT_SHA256_HEADER, payload_hash))
    names = sorted(
        {name.lower() for name, _ in signed if name.lower() in _ALWAYS_SIGNED}
        | {name.lower() for name, _ in signed if name.lower().startswith("x-amz-")}
    )
    scope = f"{amz_date[:8]}/{region}/{service}/{sigv4.SCOPE_TERMINATOR}"
    canonical = "\n".join(
        (
            method,
            sigv4.canonical_uri(path, rules),
            sigv4.canonical_query_string(raw_query),
            sigv4.canonical_headers(signed, names),
            ";".join(names),
            payload_hash,
        )
    )
    key = _KEY_CACHE.signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    signature = sigv4.compute_signature(key, sigv4.string_to_sign(canonical, amz_date, scope))
    authorization = (
        f"{sigv4.ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    signed.append(("authorization", authorization))
    return signed

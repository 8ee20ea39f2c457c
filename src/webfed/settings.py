"""webfed's settings: every ``webfed serve`` option, also readable as ``WEBFED_<OPTION>``.

Precedence, highest first: command-line flag, environment variable, the ``--config`` file's
``settings:`` section, the default here.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEBFED_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=0, le=65535)
    data_dir: Path = Path("./data")
    database_url: str | None = None
    public_url: str | None = None
    account_id: str = "000000000000"
    region: str = "us-east-1"
    workers: int = Field(default=1, ge=1, le=256)
    config: Path | None = None
    allow_http_issuers: bool = False
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # OpenTelemetry traces (docs/tracing.md): off, or spans sent over OTLP/HTTP or to stdout.
    otel_exporter: Literal["none", "otlp", "console"] = "none"
    # TLS on the listener (docs/operations.md): PEM files, both or neither.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    admin_access_key_id: str | None = None
    admin_secret_access_key: SecretStr | None = None
    master_key: SecretStr | None = None

    # Limits (AWS defaults; the trust-policy quota is adjustable in AWS too).
    trust_policy_max_size: int = Field(default=2048, ge=2048, le=8192)
    # At most 64 MiB: a body is held in memory whole (the decision endpoint's, Envoy's buffered
    # partial body, is the only one that can be this large; the protocol parsers take 2 MiB).
    max_request_body_bytes: int = Field(default=1_048_576, ge=65_536, le=67_108_864)
    request_body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    # Issuer key fetches (docs/security.md, SSRF): non-public networks they may still reach,
    # comma-separated CIDRs (e.g. "127.0.0.0/8"); requests in flight to one host at a time.
    issuer_allowed_networks: str = ""
    issuer_fetch_concurrency: int = Field(default=2, ge=1, le=64)

    # Rate limits on the unsigned calls, per worker process, requests per second (0 = off);
    # a burst of 0 means twice the rate (docs/security.md, "Rate limits").
    rate_limit_per_client: float = Field(default=0.0, ge=0)
    rate_limit_per_client_burst: int = Field(default=0, ge=0)
    rate_limit_per_issuer: float = Field(default=1000.0, ge=0)
    rate_limit_per_issuer_burst: int = Field(default=0, ge=0)
    rate_limit_max_keys: int = Field(default=10_000, ge=1, le=10_000_000)

    # The development OpenID provider under /dev-idp (docs/dev-idp.md): never in production.
    dev_idp: bool = False
    dev_idp_force: bool = False
    dev_idp_redirect_uris: str = ""
    dev_idp_claims: str = "{}"

    # How often each process reloads the sealing key ring and the issuer's signing keys, so a
    # `webfed keys rotate` anywhere reaches it. At most a minute: the issuer's signing lead
    # (docs/issuer.md) and the sealing keys' grace (docs/credentials.md) count on that.
    key_reload_seconds: float = Field(default=60.0, gt=0, le=60)

    # Browser origins allowed to call the AWS endpoint (comma-separated; "*" any, as AWS's
    # endpoints answer; empty: no CORS). Nothing is ever sent in credentials mode.
    cors_origins: str = "*"

    # Identity pools: the lifetime of GetCredentialsForIdentity's credentials (AWS: one hour).
    # Shorter values exist for tests and demos that exercise the SDKs' credential refresh.
    identity_pool_credentials_seconds: int = Field(default=3600, ge=60, le=3600)

    @field_validator("account_id")
    @classmethod
    def _check_account_id(cls, value: str) -> str:
        if not _ACCOUNT_ID.match(value):
            raise ValueError("account id must be exactly 12 digits")
        return value

    @field_validator("region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError("region must look like us-east-1")
        return value

    @field_validator("dev_idp_redirect_uris")
    @classmethod
    def _check_dev_idp_redirect_uris(cls, value: str) -> str:
        from webfed.devidp.authorization import RedirectPolicy

        RedirectPolicy.from_setting(value)  # raises ValueError with the bad URI
        return value

    @field_validator("dev_idp_claims")
    @classmethod
    def _check_dev_idp_claims(cls, value: str) -> str:
        from webfed.devidp.claims import parse_extra_claims

        parse_extra_claims(value, source="dev_idp_claims")
        return value

    @field_validator("issuer_allowed_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        """Comma-separated CIDRs (a bare address is a /32 or /128), kept in canonical form."""
        entries = (entry.strip() for entry in value.split(","))
        return ",".join(str(ip_network(entry, strict=False)) for entry in entries if entry)

    @model_validator(mode="after")
    def _check_tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self

    @property
    def issuer_allowed_network_list(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``issuer_allowed_networks`` parsed (already validated and canonical)."""
        return tuple(
            ip_network(entry) for entry in self.issuer_allowed_networks.split(",") if entry
        )

    @property
    def effective_database_url(self) -> str:
        """The database URL; SQLite in the data directory unless one is given."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'webfed.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        scheme = "https" if self.tls_cert is not None else "http"
        return f"{scheme}://{host}:{self.port}"

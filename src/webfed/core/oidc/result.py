"""The outcome of a successful validation: a frozen, typed view of the verified token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webfed.core.oidc.json_values import JsonObject
from webfed.core.oidc.session_claims import SessionClaims

__all__ = ["ValidatedToken"]


@dataclass(frozen=True, slots=True)
class ValidatedToken:
    """A token whose signature verified and whose claims passed every check.

    ``audience`` is the registered client id the token was accepted for (STS's ``Audience``);
    ``audiences`` is the whole ``aud`` claim; ``claims`` holds every top-level claim as frozen
    JSON values (arrays are tuples, objects read-only mappings). ``fingerprint`` names the token
    (first 16 hex digits of its SHA-256) in logs; the token itself is not kept.
    """

    issuer: str
    subject: str
    audience: str
    audiences: tuple[str, ...]
    authorized_party: str | None
    amr: tuple[str, ...]
    issued_at: int | None
    expires_at: int
    not_before: int | None
    claims: JsonObject
    session: SessionClaims
    key_id: str | None
    algorithm: str
    fingerprint: str

    @property
    def principal_tags(self) -> Mapping[str, str]:
        return self.session.principal_tags

    @property
    def transitive_tag_keys(self) -> tuple[str, ...]:
        return self.session.transitive_tag_keys

    @property
    def source_identity(self) -> str | None:
        return self.session.source_identity

    def __repr__(self) -> str:
        return (
            f"ValidatedToken(issuer={self.issuer!r}, subject={self.subject!r}, "
            f"audience={self.audience!r}, fingerprint={self.fingerprint!r})"
        )

"""Who makes a request, and the ``Principal`` element that names who a policy applies to.

IAM User Guide, "AWS JSON policy elements: Principal". Principals are matched exactly, never by
substring or wildcard: ``*`` (or ``{"AWS": "*"}``) is everyone; an account id or
``arn:aws:iam::ACCOUNT:root`` is every principal of that account; a role ARN is every session of
that role; an assumed-role ARN is that one session; ``Federated`` names a web identity provider
by its IAM ARN or its well-known name (``accounts.google.com``, ``www.amazon.com``,
``graph.facebook.com``, ``cognito-identity.amazonaws.com``); ``Service`` a service principal.
Partial wildcards are rejected when the policy is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "WELL_KNOWN_PROVIDERS",
    "Principal",
    "PrincipalMatch",
    "PrincipalMatcher",
    "RoleSessionPrincipal",
    "RootPrincipal",
    "ServicePrincipal",
    "WebIdentityPrincipal",
]

WELL_KNOWN_PROVIDERS = frozenset(
    {
        "accounts.google.com",
        "www.amazon.com",
        "graph.facebook.com",
        "cognito-identity.amazonaws.com",
    }
)


@dataclass(frozen=True, slots=True)
class RootPrincipal:
    """The account's administrator (root user): implicitly allowed in its own account."""

    account: str
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"


@dataclass(frozen=True, slots=True)
class RoleSessionPrincipal:
    """A session of a role (from AssumeRoleWithWebIdentity, AssumeRole or an identity pool)."""

    account: str
    role_arn: str
    role_id: str
    session_name: str
    session_arn: str

    @property
    def arn(self) -> str:
        return self.session_arn


@dataclass(frozen=True, slots=True)
class WebIdentityPrincipal:
    """A federated web identity (calling AssumeRoleWithWebIdentity), named by its provider.

    ``aliases`` are other names of the same provider: an IAM OIDC provider for a well-known
    issuer (``accounts.google.com``) may be named in ``Principal.Federated`` either by its ARN
    or by the well-known name, as AWS accepts both.
    """

    provider: str
    aliases: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return self.provider


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """A service acting on its own behalf, e.g. ``ec2.amazonaws.com``."""

    service: str

    @property
    def arn(self) -> str:
        return self.service


Principal = RootPrincipal | RoleSessionPrincipal | WebIdentityPrincipal | ServicePrincipal


class PrincipalMatch(Enum):
    """How a ``Principal`` element named the caller; decides the same-account resource rules."""

    EVERYONE = "everyone"
    ACCOUNT = "account"
    ROLE = "role"
    SESSION = "session"
    FEDERATED = "federated"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class PrincipalMatcher:
    """A compiled ``Principal``/``NotPrincipal`` element: exact sets, one per way of naming."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    unique_ids: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    canonical_users: frozenset[str] = frozenset()

    def match(self, principal: Principal) -> PrincipalMatch | None:
        """How this element names ``principal``, or ``None`` when it does not."""
        if self.everyone:
            return PrincipalMatch.EVERYONE
        if isinstance(principal, RoleSessionPrincipal):
            return self._match_session(principal)
        if isinstance(principal, RootPrincipal):
            return PrincipalMatch.ACCOUNT if principal.account in self.accounts else None
        if isinstance(principal, WebIdentityPrincipal):
            return self._match_federated(principal)
        return PrincipalMatch.SERVICE if principal.service in self.services else None

    def _match_federated(self, principal: WebIdentityPrincipal) -> PrincipalMatch | None:
        if principal.provider in self.federated:
            return PrincipalMatch.FEDERATED
        if any(alias in self.federated for alias in principal.aliases):
            return PrincipalMatch.FEDERATED
        return None

    def _match_session(self, principal: RoleSessionPrincipal) -> PrincipalMatch | None:
        if principal.session_arn in self.arns:
            return PrincipalMatch.SESSION
        if principal.role_arn in self.arns or principal.role_id in self.unique_ids:
            return PrincipalMatch.ROLE
        if principal.account in self.accounts:
            return PrincipalMatch.ACCOUNT
        return None


def principal_account(principal: Principal) -> str | None:
    """The account a principal belongs to; ``None`` for web identities and services."""
    if isinstance(principal, RootPrincipal | RoleSessionPrincipal):
        return principal.account
    return None

"""Typed values for the declarative configuration: the desired state a file declares and the
current state read back from IAM share one shape, so the planner compares like with like.

Identifiers follow the IAM user guide ("IAM identifiers"): a role ARN is
``arn:aws:iam::ACCOUNT:role{path}{name}``, a customer managed policy ARN is
``arn:aws:iam::ACCOUNT:policy{path}{name}`` and an OpenID Connect provider ARN is
``arn:aws:iam::ACCOUNT:oidc-provider/{url without its scheme}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from webfed.core.entities import fold_case
from webfed.declarative.json_text import Json, dumps, loads

__all__ = [
    "DEFAULT_MAX_SESSION_DURATION",
    "InlinePolicy",
    "ManagedPolicy",
    "PolicyDocument",
    "Provider",
    "Role",
    "State",
    "Tags",
    "policy_arn",
    "provider_arn",
    "role_arn",
]

DEFAULT_MAX_SESSION_DURATION = 3600

JsonValue = Json


def role_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def policy_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def provider_arn(account_id: str, url: str) -> str:
    """The provider ARN names the issuer URL without its scheme (CreateOpenIDConnectProvider)."""
    without_scheme = url.split("://", 1)[1] if "://" in url else url
    return f"arn:aws:iam::{account_id}:oidc-provider/{without_scheme}"


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy document; two documents are equal when their JSON values are equal.

    ``text`` is what is sent to IAM; ``canonical`` (sorted keys, no whitespace, ASCII with
    ``\\u`` escapes, numbers as written) is what is compared, so formatting, key order and
    escaping never cause a spurious update. A document read from IAM that is not JSON at all is
    kept :meth:`opaque`: its text is exported as a string and it equals no other document.
    """

    text: str = field(compare=False)
    canonical: str = field(repr=False)

    @classmethod
    def from_text(cls, text: str) -> PolicyDocument:
        """Raises ``ValueError`` when the text is not JSON."""
        return cls(text=text, canonical=dumps(loads(text), sort_keys=True))

    @classmethod
    def from_value(cls, value: JsonValue) -> PolicyDocument:
        return cls(text=dumps(value), canonical=dumps(value, sort_keys=True))

    @classmethod
    def opaque(cls, text: str) -> PolicyDocument:
        """A document that could not be parsed; its canonical form is not JSON, so it never
        equals a parsed document and the planner replaces it."""
        return cls(text=text, canonical=_OPAQUE + text)

    @property
    def parsed(self) -> bool:
        return not self.canonical.startswith(_OPAQUE)

    def value(self) -> JsonValue:
        """The document as a JSON value, keys in the order written; ``ValueError`` if opaque."""
        return loads(self.text)


_OPAQUE = "\x00opaque:"


@dataclass(frozen=True, slots=True)
class Tags:
    """Key/value pairs, kept sorted by key so equal tag sets compare equal."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, str]) -> Tags:
        return cls(tuple(sorted(mapping.items())))

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Provider:
    """An IAM OpenID Connect provider; identified by its URL."""

    url: str
    client_ids: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()
    tags: Tags = Tags()

    def arn(self, account_id: str) -> str:
        return provider_arn(account_id, self.url)


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A customer managed policy; identified by its name (unique per account in IAM, compared
    case-insensitively as IAM does).

    ``version_ids`` lists the stored versions, oldest first; it is known only for the current
    state and is not compared.
    """

    name: str
    document: PolicyDocument
    path: str = "/"
    description: str = ""
    tags: Tags = Tags()
    default_version_id: str = field(default="", compare=False)
    version_ids: tuple[str, ...] = field(default=(), compare=False)

    def arn(self, account_id: str) -> str:
        return policy_arn(account_id, self.path, self.name)


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    name: str
    document: PolicyDocument


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role; identified by its name, compared case-insensitively as IAM does.

    ``managed_policies`` and ``permissions_boundary`` hold policy ARNs. In a freshly loaded file
    they may also hold policy names, which :func:`webfed.declarative.references.resolve` turns
    into ARNs before planning.
    """

    name: str
    trust_policy: PolicyDocument
    path: str = "/"
    description: str = ""
    max_session_duration: int = DEFAULT_MAX_SESSION_DURATION
    inline_policies: tuple[InlinePolicy, ...] = ()
    managed_policies: tuple[str, ...] = ()
    permissions_boundary: str | None = None
    tags: Tags = Tags()

    def arn(self, account_id: str) -> str:
        return role_arn(account_id, self.path, self.name)

    def inline_by_name(self) -> dict[str, PolicyDocument]:
        return {policy.name: policy.document for policy in self.inline_policies}


@dataclass(frozen=True, slots=True)
class State:
    """Everything the declarative file manages in one account."""

    account_id: str
    providers: tuple[Provider, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()

    def provider(self, arn: str) -> Provider | None:
        return next((p for p in self.providers if p.arn(self.account_id) == arn), None)

    def policy(self, name: str) -> ManagedPolicy | None:
        """The managed policy named ``name`` in any letter case (IAM names ignore case)."""
        folded = fold_case(name)
        return next((p for p in self.policies if fold_case(p.name) == folded), None)

    def policy_by_arn(self, arn: str) -> ManagedPolicy | None:
        return next((p for p in self.policies if p.arn(self.account_id) == arn), None)

    def role(self, name: str) -> Role | None:
        """The role named ``name`` in any letter case."""
        folded = fold_case(name)
        return next((r for r in self.roles if fold_case(r.name) == folded), None)

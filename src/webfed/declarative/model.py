"""Typed values for the declarative configuration: the desired state a file declares and the
current state read back from IAM share one shape, so the planner compares like with like.

Identifiers follow the IAM user guide ("IAM identifiers"): a role ARN is
``arn:aws:iam::ACCOUNT:role{path}{name}``, a customer managed policy ARN is
``arn:aws:iam::ACCOUNT:policy{path}{name}`` and an OpenID Connect provider ARN is
``arn:aws:iam::ACCOUNT:oidc-provider/{url without its scheme}``. An identity pool is identified by
its id, ``REGION:UUID`` (Cognito Identity API reference, ``IdentityPool``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from webfed.core.entities import fold_case
from webfed.declarative.json_text import Json, dumps, loads

__all__ = [
    "DEFAULT_MAX_SESSION_DURATION",
    "IdentityPool",
    "InlinePolicy",
    "ManagedPolicy",
    "MappingRule",
    "PolicyDocument",
    "PrincipalTags",
    "Provider",
    "Role",
    "RoleMapping",
    "State",
    "Tags",
    "UserPoolClient",
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
    """An IAM OpenID Connect provider; identified by its URL.

    ``static_keys`` is an offline issuer's JWK Set as canonical JSON (see
    :mod:`webfed.declarative.static_keys`); ``None`` means its keys are fetched.
    """

    url: str
    client_ids: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()
    tags: Tags = Tags()
    static_keys: str | None = None

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
class MappingRule:
    """``MappingRule``: when ``claim`` matches ``value`` by ``match_type``, use ``role``."""

    claim: str
    match_type: str
    value: str
    role: str


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """A provider's ``RoleMapping``: ``Token`` or ordered ``Rules`` (the first match wins)."""

    type: str
    ambiguous_role_resolution: str
    rules: tuple[MappingRule, ...] = ()


@dataclass(frozen=True, slots=True)
class PrincipalTags:
    """One provider's ``SetPrincipalTagAttributeMap``; the default is no tags, no defaults."""

    use_defaults: bool = False
    tags: Tags = Tags()

    @property
    def is_default(self) -> bool:
        return not self.use_defaults and not self.tags.items


@dataclass(frozen=True, slots=True)
class UserPoolClient:
    """A ``CognitoIdentityProvider``: one user-pool app client the pool trusts."""

    provider_name: str
    client_id: str
    server_side_token_check: bool = False


@dataclass(frozen=True, slots=True)
class IdentityPool:
    """A Cognito Identity pool; identified by its id.

    Unordered members are kept sorted (``openid_connect_providers``,
    ``cognito_identity_providers``, the maps), so equal pools compare equal; rules keep their
    order, which decides the first match. In a freshly loaded file ``pool_id`` may be empty (the
    entry is matched by name), ``openid_connect_providers`` may hold provider URLs and the roles
    may be role names; :func:`webfed.declarative.references.resolve` turns them into the id and
    ARNs before planning. ``principal_tags`` leaves out providers whose map is the default.
    """

    name: str
    pool_id: str = ""
    allow_unauthenticated: bool = False
    allow_classic_flow: bool = False
    supported_login_providers: Tags = Tags()
    openid_connect_providers: tuple[str, ...] = ()
    cognito_identity_providers: tuple[UserPoolClient, ...] = ()
    developer_provider_name: str | None = None
    roles: Tags = Tags()
    role_mappings: tuple[tuple[str, RoleMapping], ...] = ()
    principal_tags: tuple[tuple[str, PrincipalTags], ...] = ()
    tags: Tags = Tags()

    def arn(self, account_id: str) -> str:
        """``arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/ID``; the id names the region."""
        region = self.pool_id.partition(":")[0]
        return f"arn:aws:cognito-identity:{region}:{account_id}:identitypool/{self.pool_id}"

    def label(self) -> str:
        """How a person recognises the pool in a plan: its id and its name."""
        return f"{self.pool_id} ({self.name!r})" if self.pool_id else repr(self.name)

    def configuration(self) -> tuple[object, ...]:
        """What ``CreateIdentityPool`` / ``UpdateIdentityPool`` set (not roles, maps or tags)."""
        return (
            self.name,
            self.allow_unauthenticated,
            self.allow_classic_flow,
            self.supported_login_providers,
            self.openid_connect_providers,
            self.cognito_identity_providers,
            self.developer_provider_name,
        )

    def principal_tags_of(self, provider: str) -> PrincipalTags:
        return dict(self.principal_tags).get(provider, PrincipalTags())


@dataclass(frozen=True, slots=True)
class State:
    """Everything the declarative file manages in one account."""

    account_id: str
    providers: tuple[Provider, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    identity_pools: tuple[IdentityPool, ...] = ()

    def identity_pool(self, pool_id: str) -> IdentityPool | None:
        return next((p for p in self.identity_pools if p.pool_id == pool_id), None)

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

"""The typed changes a plan is made of, one per IAM or Cognito Identity call (or short group).

Each change knows the step it belongs to, whether it creates, updates or deletes, and how to say
so in one line. ``webfed.declarative.execute`` maps each change to its IAM operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from webfed.declarative.model import (
    IdentityPool,
    ManagedPolicy,
    PolicyDocument,
    PrincipalTags,
    Provider,
    Role,
    Tags,
)

__all__ = [
    "AddClientId",
    "AttachPolicy",
    "Change",
    "CreateIdentityPool",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateProvider",
    "CreateRole",
    "DeleteBoundary",
    "DeleteIdentityPool",
    "DeleteInlinePolicy",
    "DeletePolicy",
    "DeletePolicyVersion",
    "DeleteProvider",
    "DeleteRole",
    "DetachPolicy",
    "Effect",
    "PutBoundary",
    "PutInlinePolicy",
    "RemoveClientId",
    "SetIdentityPoolRoles",
    "SetPrincipalTags",
    "SetStaticKeys",
    "SetThumbprints",
    "Step",
    "TagIdentityPool",
    "TagPolicy",
    "TagProvider",
    "TagRole",
    "UntagIdentityPool",
    "UntagPolicy",
    "UntagProvider",
    "UntagRole",
    "UpdateIdentityPool",
    "UpdateRole",
    "UpdateTrustPolicy",
]


class Step(IntEnum):
    """Execution order: what a later step refers to exists by then; deletions run last.

    Identity pools come after the providers they trust and the roles they hand out, and are
    deleted before them; one pool's changes keep their order within the step (configuration,
    then roles and mappings, then principal tags, then tags).
    """

    PROVIDERS = 1
    POLICIES = 2
    ROLES = 3
    INLINE_POLICIES = 4
    ATTACHMENTS = 5
    BOUNDARIES = 6
    TAGS = 7
    IDENTITY_POOLS = 8
    PRUNE_IDENTITY_POOLS = 9
    PRUNE_ROLES = 10
    PRUNE_POLICIES = 11
    PRUNE_PROVIDERS = 12


class Effect(Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def _tag_text(tags: Tags) -> str:
    return ", ".join(f"{key}={value}" for key, value in tags.items)


@dataclass(frozen=True, slots=True)
class CreateProvider:
    provider: Provider
    step = Step.PROVIDERS
    effect = Effect.CREATE

    def describe(self) -> str:
        return f"create OpenID Connect provider {self.provider.url}"


@dataclass(frozen=True, slots=True)
class AddClientId:
    arn: str
    client_id: str
    step = Step.PROVIDERS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"add client id {self.client_id!r} to {self.arn}"


@dataclass(frozen=True, slots=True)
class RemoveClientId:
    arn: str
    client_id: str
    step = Step.PROVIDERS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"remove client id {self.client_id!r} from {self.arn}"


@dataclass(frozen=True, slots=True)
class SetThumbprints:
    arn: str
    thumbprints: tuple[str, ...]
    step = Step.PROVIDERS
    effect = Effect.UPDATE

    def describe(self) -> str:
        listed = ", ".join(self.thumbprints) or "none"
        return f"set the thumbprints of {self.arn} to {listed}"


@dataclass(frozen=True, slots=True)
class SetStaticKeys:
    """Replace (or with ``None`` remove) a provider's static key set; ``previous`` is the
    stored one, for the plan's diff. A new provider's set (``created``) is stored right after
    the provider is (IAM's ``CreateOpenIDConnectProvider`` has no member for it)."""

    arn: str
    static_keys: str | None
    created: bool = False
    previous: str | None = field(default=None, compare=False, repr=False)
    step = Step.PROVIDERS

    @property
    def effect(self) -> Effect:
        if self.created:
            return Effect.CREATE
        return Effect.DELETE if self.static_keys is None else Effect.UPDATE

    def describe(self) -> str:
        if self.static_keys is None:
            return f"remove the static key set of {self.arn} (its keys are fetched again)"
        return f"set the static key set of {self.arn}"


@dataclass(frozen=True, slots=True)
class TagProvider:
    arn: str
    tags: Tags
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"tag {self.arn}: {_tag_text(self.tags)}"


@dataclass(frozen=True, slots=True)
class UntagProvider:
    arn: str
    keys: tuple[str, ...]
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"untag {self.arn}: {', '.join(self.keys)}"


@dataclass(frozen=True, slots=True)
class DeleteProvider:
    arn: str
    step = Step.PRUNE_PROVIDERS
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete OpenID Connect provider {self.arn}"


@dataclass(frozen=True, slots=True)
class CreatePolicy:
    policy: ManagedPolicy
    step = Step.POLICIES
    effect = Effect.CREATE

    def describe(self) -> str:
        return f"create managed policy {self.policy.path}{self.policy.name}"


@dataclass(frozen=True, slots=True)
class CreatePolicyVersion:
    """A new default version; ``delete_version_id`` first makes room when 5 versions exist."""

    arn: str
    document: PolicyDocument
    delete_version_id: str | None = None
    previous: PolicyDocument | None = field(default=None, compare=False, repr=False)
    step = Step.POLICIES
    effect = Effect.UPDATE

    def describe(self) -> str:
        room = ""
        if self.delete_version_id is not None:
            room = f" (deleting {self.delete_version_id}, the oldest non-default version)"
        return f"new default version of {self.arn}{room}"


@dataclass(frozen=True, slots=True)
class TagPolicy:
    arn: str
    tags: Tags
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"tag {self.arn}: {_tag_text(self.tags)}"


@dataclass(frozen=True, slots=True)
class UntagPolicy:
    arn: str
    keys: tuple[str, ...]
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"untag {self.arn}: {', '.join(self.keys)}"


@dataclass(frozen=True, slots=True)
class DeletePolicyVersion:
    arn: str
    version_id: str
    step = Step.PRUNE_POLICIES
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete version {self.version_id} of {self.arn}"


@dataclass(frozen=True, slots=True)
class DeletePolicy:
    arn: str
    step = Step.PRUNE_POLICIES
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete managed policy {self.arn}"


@dataclass(frozen=True, slots=True)
class CreateRole:
    """Creates the role with its boundary and tags in one call, so it never exists unbounded."""

    role: Role
    step = Step.ROLES
    effect = Effect.CREATE

    def describe(self) -> str:
        return f"create role {self.role.path}{self.role.name}"


@dataclass(frozen=True, slots=True)
class UpdateTrustPolicy:
    role_name: str
    document: PolicyDocument
    previous: PolicyDocument | None = field(default=None, compare=False, repr=False)
    step = Step.ROLES
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"update the trust policy of role {self.role_name}"


@dataclass(frozen=True, slots=True)
class UpdateRole:
    role_name: str
    description: str
    max_session_duration: int
    step = Step.ROLES
    effect = Effect.UPDATE

    def describe(self) -> str:
        return (
            f"update role {self.role_name}: description {self.description!r}, "
            f"max session duration {self.max_session_duration}s"
        )


@dataclass(frozen=True, slots=True)
class PutInlinePolicy:
    role_name: str
    policy_name: str
    document: PolicyDocument
    created: bool
    previous: PolicyDocument | None = field(default=None, compare=False, repr=False)
    step = Step.INLINE_POLICIES

    @property
    def effect(self) -> Effect:
        return Effect.CREATE if self.created else Effect.UPDATE

    def describe(self) -> str:
        verb = "add" if self.created else "update"
        return f"{verb} inline policy {self.policy_name} of role {self.role_name}"


@dataclass(frozen=True, slots=True)
class DeleteInlinePolicy:
    role_name: str
    policy_name: str
    step = Step.INLINE_POLICIES
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete inline policy {self.policy_name} of role {self.role_name}"


@dataclass(frozen=True, slots=True)
class AttachPolicy:
    role_name: str
    policy_arn: str
    step = Step.ATTACHMENTS
    effect = Effect.CREATE

    def describe(self) -> str:
        return f"attach {self.policy_arn} to role {self.role_name}"


@dataclass(frozen=True, slots=True)
class DetachPolicy:
    role_name: str
    policy_arn: str
    step = Step.ATTACHMENTS
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"detach {self.policy_arn} from role {self.role_name}"


@dataclass(frozen=True, slots=True)
class PutBoundary:
    role_name: str
    policy_arn: str
    step = Step.BOUNDARIES
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"set the permissions boundary of role {self.role_name} to {self.policy_arn}"


@dataclass(frozen=True, slots=True)
class DeleteBoundary:
    role_name: str
    step = Step.BOUNDARIES
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"remove the permissions boundary of role {self.role_name}"


@dataclass(frozen=True, slots=True)
class TagRole:
    role_name: str
    tags: Tags
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"tag role {self.role_name}: {_tag_text(self.tags)}"


@dataclass(frozen=True, slots=True)
class UntagRole:
    role_name: str
    keys: tuple[str, ...]
    step = Step.TAGS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"untag role {self.role_name}: {', '.join(self.keys)}"


@dataclass(frozen=True, slots=True)
class DeleteRole:
    role_name: str
    step = Step.PRUNE_ROLES
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete role {self.role_name}"


# The members UpdateIdentityPool sets, by their names in the file.
_POOL_FIELDS = (
    "name",
    "allow_unauthenticated",
    "allow_classic_flow",
    "supported_login_providers",
    "openid_connect_providers",
    "cognito_identity_providers",
    "developer_provider_name",
)


@dataclass(frozen=True, slots=True)
class CreateIdentityPool:
    """Creates the pool with its id, configuration and tags in one call."""

    pool: IdentityPool
    step = Step.IDENTITY_POOLS
    effect = Effect.CREATE

    def describe(self) -> str:
        return f"create identity pool {self.pool.label()}"


@dataclass(frozen=True, slots=True)
class UpdateIdentityPool:
    """Replaces the pool's configuration (``UpdateIdentityPool``); its tags are left alone."""

    pool: IdentityPool
    previous: IdentityPool | None = field(default=None, compare=False, repr=False)
    step = Step.IDENTITY_POOLS
    effect = Effect.UPDATE

    def changed_fields(self) -> list[str]:
        if self.previous is None:
            return []
        return [
            name
            for name in _POOL_FIELDS
            if getattr(self.pool, name) != getattr(self.previous, name)
        ]

    def describe(self) -> str:
        changed = ", ".join(self.changed_fields())
        return f"update identity pool {self.pool.label()}" + (f": {changed}" if changed else "")


@dataclass(frozen=True, slots=True)
class SetIdentityPoolRoles:
    """Replaces the pool's default roles and role mappings whole (``SetIdentityPoolRoles``)."""

    pool: IdentityPool
    created: bool = False
    step = Step.IDENTITY_POOLS

    @property
    def effect(self) -> Effect:
        return Effect.CREATE if self.created else Effect.UPDATE

    def describe(self) -> str:
        roles = ", ".join(f"{key}={arn}" for key, arn in self.pool.roles.items) or "none"
        mapped = ", ".join(provider for provider, _ in self.pool.role_mappings)
        mappings = f"; role mappings for {mapped}" if mapped else ""
        return f"set the roles of identity pool {self.pool.label()}: {roles}{mappings}"


@dataclass(frozen=True, slots=True)
class SetPrincipalTags:
    """One provider's attribute-to-tag map (``SetPrincipalTagAttributeMap``)."""

    pool_id: str
    provider: str
    tags: PrincipalTags
    created: bool = False
    step = Step.IDENTITY_POOLS

    @property
    def effect(self) -> Effect:
        return Effect.CREATE if self.created else Effect.UPDATE

    def describe(self) -> str:
        mapped = _tag_text(self.tags.tags) or "none"
        defaults = " (with the default tags)" if self.tags.use_defaults else ""
        return (
            f"set the principal tags of identity pool {self.pool_id} for {self.provider}: "
            f"{mapped}{defaults}"
        )


@dataclass(frozen=True, slots=True)
class TagIdentityPool:
    arn: str
    tags: Tags
    step = Step.IDENTITY_POOLS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"tag {self.arn}: {_tag_text(self.tags)}"


@dataclass(frozen=True, slots=True)
class UntagIdentityPool:
    arn: str
    keys: tuple[str, ...]
    step = Step.IDENTITY_POOLS
    effect = Effect.UPDATE

    def describe(self) -> str:
        return f"untag {self.arn}: {', '.join(self.keys)}"


@dataclass(frozen=True, slots=True)
class DeleteIdentityPool:
    """Deletes the pool with its identities and their logins (``DeleteIdentityPool``)."""

    pool_id: str
    name: str
    step = Step.PRUNE_IDENTITY_POOLS
    effect = Effect.DELETE

    def describe(self) -> str:
        return f"delete identity pool {self.pool_id} ({self.name!r}) and its identities"


Change = (
    CreateProvider
    | AddClientId
    | RemoveClientId
    | SetThumbprints
    | SetStaticKeys
    | TagProvider
    | UntagProvider
    | DeleteProvider
    | CreatePolicy
    | CreatePolicyVersion
    | TagPolicy
    | UntagPolicy
    | DeletePolicyVersion
    | DeletePolicy
    | CreateRole
    | UpdateTrustPolicy
    | UpdateRole
    | PutInlinePolicy
    | DeleteInlinePolicy
    | AttachPolicy
    | DetachPolicy
    | PutBoundary
    | DeleteBoundary
    | TagRole
    | UntagRole
    | DeleteRole
    | CreateIdentityPool
    | UpdateIdentityPool
    | SetIdentityPoolRoles
    | SetPrincipalTags
    | TagIdentityPool
    | UntagIdentityPool
    | DeleteIdentityPool
)

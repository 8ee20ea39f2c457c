"""The typed changes a plan is made of, one per IAM call (or short group of calls).

Each change knows the step it belongs to, whether it creates, updates or deletes, and how to say
so in one line. ``webfed.declarative.execute`` maps each change to its IAM operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum

from webfed.declarative.model import ManagedPolicy, PolicyDocument, Provider, Role, Tags

__all__ = [
    "AddClientId",
    "AttachPolicy",
    "Change",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateProvider",
    "CreateRole",
    "DeleteBoundary",
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
    "SetThumbprints",
    "Step",
    "TagPolicy",
    "TagProvider",
    "TagRole",
    "UntagPolicy",
    "UntagProvider",
    "UntagRole",
    "UpdateRole",
    "UpdateTrustPolicy",
]


class Step(IntEnum):
    """Execution order: what a later step refers to exists by then; deletions run last."""

    PROVIDERS = 1
    POLICIES = 2
    ROLES = 3
    INLINE_POLICIES = 4
    ATTACHMENTS = 5
    BOUNDARIES = 6
    TAGS = 7
    PRUNE_ROLES = 8
    PRUNE_POLICIES = 9
    PRUNE_PROVIDERS = 10


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


Change = (
    CreateProvider
    | AddClientId
    | RemoveClientId
    | SetThumbprints
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
)

"""Amazon Resource Names: parse, format, and the pieces the policy engine matches on.

An ARN is ``arn:partition:service:region:account-id:resource``. The resource part may itself
contain colons and slashes; only the first five colons delimit components (AWS General
Reference, "Amazon Resource Names"). Role sessions have ARNs of the form
``arn:aws:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION-NAME``; roles
``arn:aws:iam::ACCOUNT:role/PATH/ROLE-NAME``; OIDC providers
``arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "Arn",
    "ArnError",
    "arn_components",
    "is_account_id",
    "parse_arn",
    "role_name_of",
]

ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
_COMPONENTS = 6


class ArnError(ValueError):
    """The text is not an ARN (never carries anything secret: ARNs are public names)."""


@dataclass(frozen=True, slots=True)
class Arn:
    """The six components of an ARN, already split."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        """The resource part up to the first ``/`` or ``:`` (``role``, ``assumed-role``...)."""
        return re.split(r"[/:]", self.resource, maxsplit=1)[0]

    @property
    def resource_id(self) -> str:
        """The resource part after its type (empty when there is no separator)."""
        parts = re.split(r"[/:]", self.resource, maxsplit=1)
        return parts[1] if len(parts) == 2 else ""


def arn_components(text: str) -> tuple[str, ...] | None:
    """Split ``text`` on its first five colons; ``None`` when it is not six components."""
    parts = text.split(":", _COMPONENTS - 1)
    if len(parts) != _COMPONENTS or parts[0] != "arn":
        return None
    return tuple(parts)


def parse_arn(text: str) -> Arn:
    """Parse ``text`` as an ARN; raise :class:`ArnError` naming what is wrong."""
    parts = arn_components(text)
    if parts is None:
        raise ArnError(f"{text!r} is not an ARN (arn:partition:service:region:account:resource)")
    _, partition, service, region, account, resource = parts
    if not partition:
        raise ArnError(f"{text!r} has an empty partition")
    if not service:
        raise ArnError(f"{text!r} has an empty service")
    if not resource:
        raise ArnError(f"{text!r} has an empty resource")
    return Arn(partition, service, region, account, resource)


def is_account_id(text: str) -> bool:
    """True for a twelve-digit AWS account id."""
    return ACCOUNT_ID_PATTERN.fullmatch(text) is not None


def role_name_of(arn: Arn) -> str:
    """The role name of a role ARN (its last path element) or of an assumed-role ARN."""
    if arn.service == "iam" and arn.resource_type == "role":
        return arn.resource.rsplit("/", 1)[-1]
    if arn.service == "sts" and arn.resource_type == "assumed-role":
        return arn.resource_id.split("/", 1)[0]
    raise ArnError(f"{arn} is neither a role nor an assumed-role ARN")

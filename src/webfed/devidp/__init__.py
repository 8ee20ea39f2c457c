"""A development OpenID Connect provider, served by webfed itself under ``/dev-idp``.

``webfed serve --dev-idp`` (off by default; loopback listeners only unless ``--dev-idp-force``)
adds a small, standard provider: authorization code flow with PKCE S256, a sign-in page where
any user name signs in, ID tokens signed with RS256, a discovery document and a JWK Set. It
exists so that every flow (STS ``AssumeRoleWithWebIdentity``, identity pools, a browser app)
can be tried with no external account. Nothing in webfed trusts it specially: its tokens go
through an IAM OpenID Connect provider like any other issuer's. See ``docs/dev-idp.md``.
"""

from __future__ import annotations

from webfed.devidp.authorization import is_loopback_host
from webfed.devidp.keys import DEV_IDP_SIGNING, load_dev_idp_keys
from webfed.devidp.provider import MOUNT_PATH, DevIdentityProvider
from webfed.devidp.routes import build_routes

__all__ = [
    "DEV_IDP_SIGNING",
    "MOUNT_PATH",
    "DevIdentityProvider",
    "build_routes",
    "is_loopback_host",
    "load_dev_idp_keys",
]

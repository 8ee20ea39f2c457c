"""How web identity credentials end: expiry, tampering, and sealing-key rotation.

A session token is sealed and self-contained (``docs/credentials.md``): a signed request with an
expired one gets ``ExpiredToken``, an altered one or one paired with another access key id gets
``InvalidClientTokenId``. ``webfed keys rotate`` while the server runs must not break sessions
sealed by the previous key (they keep unsealing for 13 h), and new sessions must work.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    CLIENT_ID,
    Federation,
    error_of,
    federation,
    message_of,
)
from webfed.core.credentials import SessionContext, WebIdentity, mint_credentials
from webfed.master_key import load_or_create_master_key
from webfed.storage import Store
from webfed.storage.keys import load_key_ring

__all__ = ["federation"]


def _refusal(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    code, status = error_of(caught)
    return code, status, message_of(caught)


# --- expired and tampered session tokens -------------------------------------------------------


def _server_database_url(federation: Federation) -> str:
    if federation.server.database_url:
        return federation.server.database_url
    return f"sqlite+aiosqlite:///{(federation.server.data_dir / 'webfed.db').resolve()}"


async def _mint_expired(federation: Federation, role_arn: str) -> dict[str, str]:
    """Seal an already-expired session with the server's own key ring (read from its store with
    its master key file): the only way to hold expired credentials without waiting 15 minutes."""
    master, created = load_or_create_master_key(federation.server.data_dir, None)
    assert not created
    store = await Store.open(_server_database_url(federation))
    try:
        ring = await load_key_ring(store, master, datetime.now(UTC))
    finally:
        await store.close()
    role = federation.iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    issued = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    session = SessionContext(
        account_id=ACCOUNT,
        role_arn=role_arn,
        role_id=role["RoleId"],
        role_name=role["RoleName"],
        session_name="expired",
        issued_at=issued,
        expires_at=issued + timedelta(seconds=900),
        web_identity=WebIdentity(provider=federation.prefix, aud=CLIENT_ID, sub="user-1"),
    )
    minted = mint_credentials(session, key_ring=ring, rng=random.Random())
    return {
        "AccessKeyId": minted.access_key_id,
        "SecretAccessKey": minted.secret_access_key,
        "SessionToken": minted.session_token,
    }


def test_expired_credentials(federation: Federation) -> None:
    arn = federation.role()
    credentials = asyncio.run(_mint_expired(federation, arn))
    client = federation.session_client("sts", credentials)
    code, status, message = _refusal(client.get_caller_identity)
    assert (code, status) == ("ExpiredToken", 403)  # as AWS STS answers an expired session
    assert credentials["SessionToken"] not in message


def test_tampered_session_token(federation: Federation) -> None:
    credentials = dict(federation.assume(federation.role(), federation.token())["Credentials"])
    token = credentials["SessionToken"]
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    credentials["SessionToken"] = token[:middle] + flipped + token[middle + 1 :]
    client = federation.session_client("sts", credentials)
    code, status, _ = _refusal(client.get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


def test_session_token_of_another_access_key(federation: Federation) -> None:
    first = federation.assume(federation.role(), federation.token())["Credentials"]
    second = federation.assume(federation.role(), federation.token())["Credentials"]
    mixed = {**second, "SessionToken": first["SessionToken"]}
    code, status, _ = _refusal(federation.session_client("sts", mixed).get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)


# --- sealing-key rotation while the server runs --------------------------------------------------


def _webfed_keys(federation: Federation, *args: str) -> str:
    command = [sys.executable, "-m", "webfed", "keys", *args]
    command += ["--data-dir", str(federation.server.data_dir)]
    if federation.server.database_url:
        command += ["--database-url", federation.server.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_key_rotation_keeps_old_sessions(federation: Federation) -> None:
    arn = federation.role()
    before = federation.assume(arn, federation.token(subject="before"))
    _webfed_keys(federation, "rotate")
    listing = _webfed_keys(federation, "list")
    assert "(current)" in listing
    old = federation.session_client("sts", before["Credentials"]).get_caller_identity()
    assert old["Arn"] == before["AssumedRoleUser"]["Arn"]
    after = federation.assume(arn, federation.token(subject="after"))
    new = federation.session_client("sts", after["Credentials"]).get_caller_identity()
    assert new["Arn"] == after["AssumedRoleUser"]["Arn"]

"""The development provider's RSA signing key, kept in the database like the issuer's keys.

The key lives in the ``sealing_keys`` table under its own purpose, :data:`DEV_IDP_SIGNING`,
wrapped by the master key exactly as webfed's issuer keys are (the issuer's
:func:`~webfed.issuer.store.new_signing_key`, :class:`~webfed.issuer.keys.SigningKey` and the
master key's :func:`~webfed.core.keys.wrap_bytes`, with this purpose as associated data). So
every worker and node signs with the same key, and tokens stay verifiable across restarts.

The key is created on first use and never rotated: the provider exists for development, and a
rotation would only invalidate the tokens of a test run. The table's one-unretired-key-per-
purpose index settles two workers creating it at once (the loser re-reads the winner's key).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from webfed.core.keys import MasterKey, unwrap_bytes, wrap_bytes
from webfed.issuer import IssuerKeys, SigningKey
from webfed.issuer.store import new_signing_key
from webfed.storage.keys import HasKeys, StoredKey

__all__ = ["DEV_IDP_SIGNING", "load_dev_idp_keys"]

#: The ``purpose`` of the development provider's key in the ``sealing_keys`` table.
DEV_IDP_SIGNING = "dev-idp-signing"
_RACE_RETRIES = 5


def _to_store(key: SigningKey, master: MasterKey, rng: random.Random) -> StoredKey:
    wrapped = wrap_bytes(master, key.pkcs8(), purpose=DEV_IDP_SIGNING, key_id=key.kid, rng=rng)
    return StoredKey(key.kid, DEV_IDP_SIGNING, wrapped, key.created_at, None, None)


def _from_store(stored: StoredKey, master: MasterKey) -> SigningKey:
    der = unwrap_bytes(master, stored.wrapped, purpose=DEV_IDP_SIGNING, key_id=stored.key_id)
    return SigningKey.from_pkcs8(stored.key_id, der, stored.created_at, stored.retired_at)


async def load_dev_idp_keys(
    store: HasKeys, master: MasterKey, now: datetime, rng: random.Random | None = None
) -> IssuerKeys:
    """The provider's key set (one current key), creating the key on first use.

    Raises ``MasterKeyError`` when the master key does not open the stored key.
    """
    rng = rng or secrets.SystemRandom()
    for _ in range(_RACE_RETRIES):
        stored = await store.keys.list(DEV_IDP_SIGNING)
        current = [row for row in stored if row.retired_at is None]
        if current:
            return IssuerKeys([_from_store(row, master) for row in current], now)
        key = await new_signing_key(rng, now)
        try:
            await store.keys.add(_to_store(key, master, rng))
        except IntegrityError:
            continue  # another worker created the key between our read and our insert
    raise RuntimeError("could not settle on a development provider key")  # pragma: no cover

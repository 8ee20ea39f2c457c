"""The shell around the issuer keys: create, load and rotate them in the database.

Issuer keys share the ``sealing_keys`` table with the session-token sealing keys, under the
purpose :data:`~webfed.issuer.keys.ISSUER_SIGNING`. The row's ``wrapped`` column holds the
key's PKCS#8 DER wrapped by :func:`webfed.core.keys.wrap_bytes` (the purpose and ``kid`` are
the associated data). The table's partial unique index (one unretired key per purpose) makes
"create the first key" and "rotate" safe when several nodes do them at once: the loser gets an
``IntegrityError``, re-reads and uses the winner's key.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.exc import IntegrityError

from webfed.core.keys import MasterKey, unwrap_bytes, wrap_bytes
from webfed.issuer.keys import (
    ISSUER_SIGNING,
    PUBLISH_GRACE,
    RSA_KEY_BITS,
    IssuerKeys,
    SigningKey,
    new_key_id,
)
from webfed.storage.keys import HasKeys, StoredKey

__all__ = ["load_issuer_keys", "new_signing_key", "rotate_issuer_keys"]

_RACE_RETRIES = 5
_PUBLIC_EXPONENT = 65537


async def new_signing_key(rng: random.Random, now: datetime) -> SigningKey:
    """A fresh RSA key (from the operating system's CSPRNG, inside ``cryptography``; the
    injected ``rng`` draws only the ``kid``), generated off the event loop."""
    private = await asyncio.to_thread(
        rsa.generate_private_key, public_exponent=_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS
    )
    return SigningKey.from_private_key(new_key_id(rng), private, now, None)


def _to_store(key: SigningKey, master: MasterKey, rng: random.Random) -> StoredKey:
    wrapped = wrap_bytes(master, key.pkcs8(), purpose=ISSUER_SIGNING, key_id=key.kid, rng=rng)
    return StoredKey(
        key_id=key.kid,
        purpose=ISSUER_SIGNING,
        wrapped=wrapped,
        created_at=key.created_at,
        retired_at=key.retired_at,
        not_after=key.not_after,
    )


def _from_store(stored: StoredKey, master: MasterKey) -> SigningKey:
    der = unwrap_bytes(master, stored.wrapped, purpose=ISSUER_SIGNING, key_id=stored.key_id)
    return SigningKey.from_pkcs8(stored.key_id, der, stored.created_at, stored.retired_at)


async def load_issuer_keys(
    store: HasKeys, master: MasterKey, now: datetime, rng: random.Random | None = None
) -> IssuerKeys:
    """The issuer keys published at ``now``, creating the first key if there is none.

    Raises ``MasterKeyError`` when the master key does not open a stored key.
    """
    rng = rng or secrets.SystemRandom()
    for _ in range(_RACE_RETRIES):
        stored = await store.keys.list(ISSUER_SIGNING)
        if any(row.retired_at is None for row in stored):
            keys = [_from_store(row, master) for row in stored if _published(row, now)]
            return IssuerKeys(keys, now)
        key = await new_signing_key(rng, now)
        try:
            await store.keys.add(_to_store(key, master, rng))
        except IntegrityError:
            continue  # another node created the first key between our read and our insert
    raise RuntimeError("could not settle on a current issuer key")  # pragma: no cover


def _published(row: StoredKey, now: datetime) -> bool:
    return row.not_after is None or now < row.not_after


async def rotate_issuer_keys(
    store: HasKeys, master: MasterKey, now: datetime, rng: random.Random | None = None
) -> SigningKey:
    """``webfed keys rotate --issuer``: a new current key, published at once, signing after
    :data:`~webfed.issuer.keys.SIGNING_LEAD`; the old key stays published for
    :data:`~webfed.issuer.keys.PUBLISH_GRACE`. Keys past their grace are deleted."""
    rng = rng or secrets.SystemRandom()
    await store.keys.prune(now, ISSUER_SIGNING)
    for _ in range(_RACE_RETRIES):
        key = await new_signing_key(rng, now)
        try:
            await store.keys.replace_current(
                _to_store(key, master, rng), now=now, not_after=now + PUBLISH_GRACE
            )
        except IntegrityError:
            continue  # a concurrent rotation won; rotate again on top of it
        return key
    raise RuntimeError("could not rotate the issuer key")  # pragma: no cover

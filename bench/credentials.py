"""Mint and unseal throughput of session tokens, on one core.

    .venv/bin/python bench/credentials.py [--seconds 2]

Prints mints per second, unseals per second and the per-call time for a typical web identity
session (two tags, a source identity, no session policy) and for a heavy one (a 2,048-character
session policy, ten policy ARNs, fifty tags). Unsealing runs on every signed request, so its
per-call time is the number to watch (target: well under 20 µs for the typical token);
"cached" is the same token again through ``SessionTokenCache``.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from webfed.core.credentials import (
    SessionContext,
    SessionTokenCache,
    WebIdentity,
    mint_credentials,
    unseal_session_token,
)
from webfed.core.keys import KeyRing, new_sealing_key

NOW = datetime.now(UTC).replace(microsecond=0)


def typical_session() -> SessionContext:
    return SessionContext(
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/GameRole",
        role_id="AROACLKWSDQRAOEXAMPLE",
        role_name="GameRole",
        session_name="player-42",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        session_tags=(("Project", "Automation"), ("CostCenter", "987654")),
        transitive_tag_keys=("Project",),
        source_identity="player-42",
        web_identity=WebIdentity(
            provider="accounts.google.com",
            aud="123456789012-abcdefghijklmnop.apps.googleusercontent.com",
            sub="110169484474386276334",
            amr=("authenticated",),
            federated_provider="accounts.google.com",
        ),
    )


def heavy_session() -> SessionContext:
    statement = (
        '{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],'
        '"Resource":"arn:aws:s3:::bucket/${aws:userid}/*"}'
    )
    policy = '{"Version":"2012-10-17","Statement":[' + ",".join([statement] * 20) + "]}"
    return replace(
        typical_session(),
        session_policy=policy[:2048],
        session_policy_arns=tuple(f"arn:aws:iam::123456789012:policy/P{i}" for i in range(10)),
        session_tags=tuple((f"Key{i:02d}", f"value-{i}") for i in range(50)),
    )


def rate(operation: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls per second and microseconds per call, best of three runs."""
    best = 0.0
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while time.perf_counter() < deadline:
            for _ in range(200):
                operation()
            calls += 200
        best = max(best, calls / (time.perf_counter() - start))
    return best, 1e6 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = secrets.SystemRandom()
    ring = KeyRing([new_sealing_key(random.Random(1), NOW)], NOW)
    for name, session in (("typical", typical_session()), ("heavy", heavy_session())):
        minted = mint_credentials(session, key_ring=ring, rng=rng)
        token, key_id = minted.session_token, minted.access_key_id
        mints, mint_us = rate(partial(mint_credentials, session, key_ring=ring, rng=rng), seconds)
        unseals, unseal_us = rate(partial(unseal_session_token, token, key_id, ring), seconds)
        cached, cached_us = rate(partial(SessionTokenCache().unseal, token, key_id, ring), seconds)
        print(
            f"{name:8} token {len(token):4} chars | "
            f"mint {mints:8,.0f}/s ({mint_us:5.1f} µs) | "
            f"unseal {unseals:8,.0f}/s ({unseal_us:5.1f} µs) | "
            f"cached {cached:10,.0f}/s ({cached_us:4.1f} µs)"
        )


if __name__ == "__main__":
    main()

"""API keys: ``jsc_<8 hex>_<secret>``. The first twelve characters (``jsc_ab12cd34``) are the
visible prefix that names the key in lists and finds its row; the whole key is stored only as an
argon2 hash and shown once, at creation or rotation.

Verifying argon2 on every request would cost tens of milliseconds, so a verified key is cached for
five minutes in ``apikey:{prefix}`` (source design 2.3) with a SHA-256 digest of the key: a request
whose key matches the digest is accepted without argon2, one that does not is refused without it.
Revoking, rotating or changing a key deletes that entry at once.

A key is looked up by its prefix before any hashing: a key whose prefix names no live key is
refused without argon2, and the client's address is throttled (``core.credential_checks``) before
argon2 runs for a key that is not in the cache; every refused key counts as a failure of the
address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.credential_checks import IpThrottle, verify
from core.db.models import ApiKey
from core.redis_values import as_text
from core.security import hash_password

PREFIX = "jsc_"
PREFIX_LENGTH = len(PREFIX) + 8
CACHE_TTL_S = 300
USED_EVERY_S = 60  # last_used_at is written at most once a minute per key


@dataclass(frozen=True)
class KeyIdentity:
    id: uuid.UUID
    org_id: uuid.UUID
    user_id: uuid.UUID
    prefix: str
    scopes: frozenset[str]
    rate_limit: int | None
    expires_at: float | None  # unix time

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


def new_key() -> tuple[str, str, str]:
    """(key, prefix, argon2 hash)."""
    prefix = f"{PREFIX}{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_password(key)


def looks_like_key(value: str | None) -> bool:
    return bool(value and value.startswith(PREFIX) and len(value) > PREFIX_LENGTH + 1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _identity(row: ApiKey) -> KeyIdentity:
    return KeyIdentity(
        row.id,
        row.org_id,
        row.user_id,
        row.prefix,
        frozenset(row.permissions or ()),
        row.rate_limit_per_minute,
        row.expires_at.timestamp() if row.expires_at else None,
    )


async def authenticate(
    redis: aioredis.Redis,
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    throttle: IpThrottle,
) -> KeyIdentity | None:
    """The key's identity, or None for an unknown, wrong or revoked key (expiry is the caller's
    to report, so that it can say so). Raises ``credential_checks.Throttled`` when the client's
    address has failed too often, or would need argon2 more often than it may."""
    await throttle.check()
    prefix = key[:PREFIX_LENGTH]
    cached = await redis.hgetall(f"apikey:{prefix}")
    if cached:
        if not hmac.compare_digest(as_text(cached["digest"]), _digest(key)):
            await throttle.failed()
            return None
        return KeyIdentity(
            uuid.UUID(as_text(cached["id"])),
            uuid.UUID(as_text(cached["org_id"])),
            uuid.UUID(as_text(cached["user_id"])),
            prefix,
            frozenset(json.loads(cached["scopes"])),
            int(cached["rate_limit"]) if cached["rate_limit"] else None,
            float(cached["expires_at"]) if cached["expires_at"] else None,
        )
    async with sessions() as db:
        row = await db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None:
        await throttle.failed()
        return None
    await throttle.before_argon2()
    if not await verify(row.key_hash, key, "api_key"):
        await throttle.failed()
        return None
    identity = _identity(row)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            f"apikey:{prefix}",
            mapping={
                "id": str(identity.id),
                "org_id": str(identity.org_id),
                "user_id": str(identity.user_id),
                "digest": _digest(key),
                "scopes": json.dumps(sorted(identity.scopes)),
                "rate_limit": identity.rate_limit or "",
                "expires_at": identity.expires_at or "",
            },
        )
        pipe.expire(f"apikey:{prefix}", CACHE_TTL_S)
        await pipe.execute()
    return identity


async def mark_used(
    redis: aioredis.Redis, sessions: async_sessionmaker[AsyncSession], identity: KeyIdentity
) -> None:
    if await redis.set(f"apikey:{identity.prefix}:used", "1", nx=True, ex=USED_EVERY_S):
        async with sessions() as db:
            await db.execute(
                update(ApiKey)
                .where(ApiKey.id == identity.id)
                .values(last_used_at=datetime.now(UTC))
            )
            await db.commit()


async def forget(redis: aioredis.Redis, *prefixes: str) -> None:
    if prefixes:
        await redis.delete(*(f"apikey:{p}" for p in prefixes))

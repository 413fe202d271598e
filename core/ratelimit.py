"""Abuse limits kept in Redis, shared by every API replica.

- Request rate: a fixed one-minute window per user or API key, ``ratelimit:{id}:{bucket}`` (a
  counter that expires with its window, source design 2.3). Counting and arming the expiry are one
  Lua call, so a crash can never leave a counter without its expiry.
- Sign-in lockout: ``login_failures:{digest}`` counts failed sign-ins of one email address in a
  window; reaching the maximum sets ``login_lockout:{digest}`` for the lockout time, during which
  even the right password is refused. The digest keeps addresses out of key names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis.asyncio as aioredis

_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class RateState:
    limit: int
    count: int
    reset_s: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


async def hit(
    redis: aioredis.Redis, identity: str, bucket: str, limit: int, window_s: int = 60
) -> RateState:
    """Count one request of ``identity`` in ``bucket``; ``allowed`` says whether it is within."""
    count, ttl = await redis.eval(_HIT, 1, f"ratelimit:{identity}:{bucket}", window_s)
    return RateState(limit=limit, count=int(count), reset_s=max(1, int(ttl)))


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginGuard:
    """Lockout after ``max_failures`` failed sign-ins of one address within ``window_s``."""

    def __init__(self, redis: aioredis.Redis, *, max_failures: int, window_s: int, lockout_s: int):
        self.redis, self.max_failures = redis, max_failures
        self.window_s, self.lockout_s = window_s, lockout_s

    async def locked_for(self, email: str) -> int:
        """Seconds the address stays locked (0: not locked)."""
        ttl = await self.redis.ttl(f"login_lockout:{_digest(email)}")
        return max(0, int(ttl))

    async def failed(self, email: str) -> int:
        """Count a failure; answer the lockout in seconds if this failure locks the address."""
        digest = _digest(email)
        count, _ = await self.redis.eval(_HIT, 1, f"login_failures:{digest}", self.window_s)
        if int(count) < self.max_failures:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(f"login_lockout:{digest}", "1", ex=self.lockout_s)
            pipe.delete(f"login_failures:{digest}")
            await pipe.execute()
        return self.lockout_s

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(f"login_failures:{_digest(email)}")

    async def unlock(self, email: str) -> None:
        digest = _digest(email)
        await self.redis.delete(f"login_failures:{digest}", f"login_lockout:{digest}")

"""Password reset by e-mail: single-use, expiring reset tokens and the limits on asking for them.

Only a digest of a token is kept, in Redis, with the time to live of ``JSC_PASSWORD_RESET_TTL_S``:

- ``password_reset:{digest}``: the account (user id) a live token resets; taking it is one
  ``GETDEL``, so of two uses of one token exactly one succeeds.
- ``password_reset_user:{user id}``: the digest of the account's newest token. Asking again
  replaces it (only the newest link works) and a reset removes it.

Asking for a link is limited per client address and per e-mail address (``core.ratelimit``
counters), counted whether or not an account uses the address, so the limit says nothing about
which addresses have accounts.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from core import ratelimit
from core.redis_values import as_text
from core.security import new_opaque_token, token_digest
from core.settings import Settings


def _token_key(digest: str) -> str:
    return f"password_reset:{digest}"


def _user_key(user_id: str) -> str:
    return f"password_reset_user:{user_id}"


def token_key(token: str) -> str:
    """The Redis key of a token (tests move its time to live)."""
    return _token_key(token_digest(token))


async def issue(redis: aioredis.Redis, user_id: str, ttl_s: int) -> str:
    """A new reset token for the account; any earlier one stops working."""
    token = new_opaque_token()
    digest = token_digest(token)
    previous = await redis.getset(_user_key(user_id), digest)
    async with redis.pipeline(transaction=True) as pipe:
        if previous:
            pipe.delete(_token_key(as_text(previous)))
        pipe.set(_token_key(digest), user_id, ex=ttl_s)
        pipe.expire(_user_key(user_id), ttl_s)
        await pipe.execute()
    return token


async def consume(redis: aioredis.Redis, token: str) -> str | None:
    """The user id the token resets, once; None for an unknown, expired or used token."""
    user_id = await redis.getdel(_token_key(token_digest(token)))
    if user_id is None:
        return None
    await redis.delete(_user_key(as_text(user_id)))
    return as_text(user_id)


class Limited(Exception):
    """Too many links asked for; ``retry_after_s`` says when to ask again."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


async def count_request(redis: aioredis.Redis, settings: Settings, client: str, email: str) -> None:
    """Count one request for a link; raise ``Limited`` past either limit of the window."""
    window = settings.password_reset_window_s
    minutes = max(1, window // 60)
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    for key, limit, whom in (
        (f"ip:{client}", settings.password_reset_per_ip, "from your address"),
        (f"email:{digest}", settings.password_reset_per_email, "for this e-mail address"),
    ):
        hit = await ratelimit.hit(redis, key, "password_reset", limit, window_s=window)
        if not hit.allowed:
            raise Limited(
                f"Too many password reset requests {whom} (the limit is {hit.limit} in "
                f"{minutes} minute(s)); retry in {hit.reset_s} s.",
                hit.reset_s,
            )

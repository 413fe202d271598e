"""Login sessions and their rotating refresh tokens, kept in Redis.

- ``session:{sid}``: a hash (user, organization, email, role, ip, times) whose presence makes the
  session's access tokens valid; deleting it ends the session at once.
- ``refresh:{digest}``: the one live refresh token of a session (its family), pointing to ``sid``.
- ``refresh_used:{digest}``: a refresh token already exchanged. Presenting it again is reuse: the
  whole family is revoked (RFC 6819 §5.2.2.3).
Exchange is atomic (GETDEL), so of two concurrent refreshes with one token, exactly one wins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from core.security import new_opaque_token, token_digest


@dataclass(frozen=True)
class SessionInfo:
    sid: str
    user_id: str
    org_id: str
    email: str
    role: str


class RefreshReuse(Exception):
    """A refresh token was presented twice; its session has been revoked. ``str()`` is the
    session id; ``info`` what the session was, when it was still known."""

    def __init__(self, sid: str, info: SessionInfo | None = None):
        super().__init__(sid)
        self.info = info


class RefreshInvalid(Exception):
    """Unknown or expired refresh token."""


def _info(sid: str, data: dict) -> SessionInfo:
    return SessionInfo(sid, data["user_id"], data["org_id"], data["email"], data["role"])


class TokenStore:
    def __init__(self, redis: aioredis.Redis, ttl_s: int):
        self.redis, self.ttl_s = redis, ttl_s

    async def open_session(self, info: SessionInfo, ip: str) -> str:
        now = str(int(time.time()))
        await self.redis.hset(f"session:{info.sid}", mapping={
            "user_id": info.user_id, "org_id": info.org_id, "email": info.email,
            "role": info.role, "ip_address": ip, "created_at": now, "last_activity": now})
        await self.redis.expire(f"session:{info.sid}", self.ttl_s)
        return await self._issue(info.sid)

    async def _issue(self, sid: str) -> str:
        token = new_opaque_token()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(f"refresh:{token_digest(token)}", sid, ex=self.ttl_s)
            pipe.set(f"session:{sid}:refresh", token_digest(token), ex=self.ttl_s)
            await pipe.execute()
        return token

    async def rotate(self, refresh_token: str) -> tuple[SessionInfo, str]:
        digest = token_digest(refresh_token)
        sid = await self.redis.getdel(f"refresh:{digest}")
        if sid is None:
            reused_sid = await self.redis.get(f"refresh_used:{digest}")
            if reused_sid:
                data = await self.redis.hgetall(f"session:{reused_sid}")
                await self.revoke(reused_sid)
                raise RefreshReuse(reused_sid, _info(reused_sid, data) if data else None)
            raise RefreshInvalid()
        await self.redis.set(f"refresh_used:{digest}", sid, ex=self.ttl_s)
        data = await self.redis.hgetall(f"session:{sid}")
        if not data:
            raise RefreshInvalid()
        await self.redis.hset(f"session:{sid}", "last_activity", str(int(time.time())))
        return _info(sid, data), await self._issue(sid)

    async def revoke_all(self, sids: list[str]) -> None:
        for sid in sids:
            await self.revoke(sid)

    async def revoke(self, sid: str) -> None:
        current = await self.redis.get(f"session:{sid}:refresh")
        keys = [f"session:{sid}", f"session:{sid}:refresh"]
        if current:
            keys.append(f"refresh:{current}")
        await self.redis.delete(*keys)

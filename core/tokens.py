"""Login sessions and their rotating refresh tokens, kept in Redis.

- ``session:{sid}``: a hash (user, organization, email, role, ip, times) whose presence makes the
  session's access tokens valid; deleting it ends the session at once.
- ``refresh:{digest}``: the one live refresh token of a session (its family), pointing to ``sid``.
- ``refresh_used:{digest}``: a refresh token already exchanged. Presenting it again is reuse: the
  whole family is revoked (RFC 6819 §5.2.2.3).
- ``user_sessions:{user_id}``: a set of the user's session ids, so their sessions are listed
  without scanning keys (``core.sessions``); an id whose hash has expired or was revoked is
  dropped from it when found.
A refresh is one Lua script (``_ROTATE``): the exchange, the "used" mark, the new token and, for
a reused token, the revocation of its family happen in one step, so of two concurrent refreshes
with one token exactly one gets a new pair and the other is caught as a reuse, which ends the
session (the winner's new tokens included). The script names the session's keys it derives from
the token (a single Redis server, as here; not Redis Cluster).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from core.redis_values import as_text
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


def _info(sid: str, data: dict[str, Any]) -> SessionInfo:
    return SessionInfo(sid, data["user_id"], data["org_id"], data["email"], data["role"])


# KEYS: refresh:{digest}, refresh_used:{digest}; ARGV: the new token's digest, ttl, now.
# Answers {"fresh", sid, session fields...}, {"reused", sid, session fields...} or {"unknown"}.
_ROTATE = """
local sid = redis.call('GET', KEYS[1])
if sid then
  local session = 'session:' .. sid
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], sid, 'EX', ARGV[2])
  if redis.call('EXISTS', session) == 0 then
    return {'unknown'}
  end
  redis.call('SET', 'refresh:' .. ARGV[1], sid, 'EX', ARGV[2])
  redis.call('SET', session .. ':refresh', ARGV[1], 'EX', ARGV[2])
  redis.call('HSET', session, 'last_activity', ARGV[3])
  local reply = {'fresh', sid}
  for _, v in ipairs(redis.call('HGETALL', session)) do table.insert(reply, v) end
  return reply
end
local used = redis.call('GET', KEYS[2])
if not used then
  return {'unknown'}
end
local session = 'session:' .. used
local reply = {'reused', used}
for _, v in ipairs(redis.call('HGETALL', session)) do table.insert(reply, v) end
local current = redis.call('GET', session .. ':refresh')
redis.call('DEL', session, session .. ':refresh')
if current then
  redis.call('DEL', 'refresh:' .. current)
end
return reply
"""


def _fields(flat: list[Any]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=False))


class TokenStore:
    def __init__(self, redis: aioredis.Redis, ttl_s: int):
        self.redis, self.ttl_s = redis, ttl_s

    async def open_session(self, info: SessionInfo, ip: str, user_agent: str = "") -> str:
        now = str(int(time.time()))
        index = user_sessions_key(info.user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                f"session:{info.sid}",
                mapping={
                    "user_id": info.user_id,
                    "org_id": info.org_id,
                    "email": info.email,
                    "role": info.role,
                    "ip_address": ip,
                    "last_ip": ip,
                    "user_agent": user_agent[:512],
                    "created_at": now,
                    "last_activity": now,
                },
            )
            pipe.expire(f"session:{info.sid}", self.ttl_s)
            pipe.sadd(index, info.sid)
            pipe.expire(index, self.ttl_s)  # outlives every session in it
            await pipe.execute()
        return await self._issue(info.sid)

    async def _issue(self, sid: str) -> str:
        token = new_opaque_token()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(f"refresh:{token_digest(token)}", sid, ex=self.ttl_s)
            pipe.set(f"session:{sid}:refresh", token_digest(token), ex=self.ttl_s)
            await pipe.execute()
        return token

    async def rotate(self, refresh_token: str) -> tuple[SessionInfo, str]:
        """Exchange a refresh token for a new one of the same session, atomically. Raises
        ``RefreshReuse`` (the session is revoked) for a token already exchanged, ``RefreshInvalid``
        for an unknown or expired one."""
        digest, token = token_digest(refresh_token), new_opaque_token()
        outcome, *rest = await self.redis.eval(
            _ROTATE,
            2,
            f"refresh:{digest}",
            f"refresh_used:{digest}",
            token_digest(token),
            self.ttl_s,
            str(int(time.time())),
        )
        if outcome == "unknown":
            raise RefreshInvalid()
        sid, data = rest[0], _fields(rest[1:])
        if outcome == "reused":
            raise RefreshReuse(sid, _info(sid, data) if data else None)
        return _info(sid, data), token

    async def revoke_all(self, sids: list[str]) -> None:
        for sid in sids:
            await self.revoke(sid)

    async def revoke(self, sid: str) -> None:
        """End the session: its access tokens and its refresh token stop working at once."""
        current = await self.redis.get(f"session:{sid}:refresh")
        user_id = await self.redis.hget(f"session:{sid}", "user_id")
        keys = [f"session:{sid}", f"session:{sid}:refresh"]
        if current:
            keys.append(f"refresh:{as_text(current)}")
        await self.redis.delete(*keys)
        if user_id:
            await self.redis.srem(user_sessions_key(as_text(user_id)), sid)


def user_sessions_key(user_id: str) -> str:
    """The set of a user's session ids."""
    return f"user_sessions:{user_id}"

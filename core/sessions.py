"""A user's sign-in sessions as they see them: the list of their live sessions (device, address,
when it began and was last used) read through the per-user index of ``core.tokens``, and the
record of a session's last use, written at most every ``TOUCH_EVERY_S`` seconds so a busy client
does not cost a Redis write per request. Ending a session is ``TokenStore.revoke``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from core.redis_values import as_text
from core.tokens import user_sessions_key

TOUCH_EVERY_S = 30

# KEYS: session:{sid}; ARGV: now, TOUCH_EVERY_S, ip. Never creates the hash of a session that
# was revoked since the caller read it (a hash that exists is a live session).
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local last = tonumber(redis.call('HGET', KEYS[1], 'last_activity') or '0') or 0
if tonumber(ARGV[1]) - last < tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'last_activity', ARGV[1])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'last_ip', ARGV[3])
end
return 1
"""


def touch_due(session: dict[str, str], now: float) -> bool:
    """Whether the session's last use is old enough to be written again."""
    try:
        last = int(session.get("last_activity") or 0)
    except ValueError:
        last = 0
    return now - last >= TOUCH_EVERY_S


async def touch(
    redis: aioredis.Redis, sid: str, session: dict[str, str], ip: str, now: float | None = None
) -> bool:
    """Record a use of the session (whose hash the caller has just read as ``session``) from
    ``ip`` (kept as it was when empty); a no-op without a Redis call when the last record is
    recent. True when written."""
    now = time.time() if now is None else now
    if not touch_due(session, now):
        return False
    return bool(await redis.eval(_TOUCH, 1, f"session:{sid}", int(now), TOUCH_EVERY_S, ip))


@dataclass(frozen=True)
class LiveSession:
    id: str
    org_id: str
    ip_address: str  # where it signed in
    last_ip: str  # where it was last used from
    user_agent: str
    device: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime | None


def _moment(value: str | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(value or 0), UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def _live(sid: str, data: dict[str, str], ttl_s: int, now: float) -> LiveSession:
    agent = data.get("user_agent", "")
    return LiveSession(
        id=sid,
        org_id=data.get("org_id", ""),
        ip_address=data.get("ip_address", ""),
        last_ip=data.get("last_ip") or data.get("ip_address", ""),
        user_agent=agent,
        device=device_of(agent),
        created_at=_moment(data.get("created_at")),
        last_used_at=_moment(data.get("last_activity")),
        expires_at=(
            datetime.fromtimestamp(int(now), UTC) + timedelta(seconds=ttl_s) if ttl_s > 0 else None
        ),
    )


async def of_user(redis: aioredis.Redis, user_id: str) -> list[LiveSession]:
    """The user's live sessions, the most recently used first. Ids of sessions that ended
    (expired, revoked by a refresh-token reuse) are dropped from the index on the way."""
    index = user_sessions_key(user_id)
    sids = sorted(as_text(sid) for sid in await redis.smembers(index))
    if not sids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for sid in sids:
            pipe.hgetall(f"session:{sid}")
            pipe.ttl(f"session:{sid}")
        replies = await pipe.execute()
    now = time.time()
    live, ended = [], []
    for sid, data, ttl in zip(sids, replies[::2], replies[1::2], strict=False):
        if not data or data.get("user_id") != user_id:
            ended.append(sid)
        else:
            live.append(_live(sid, data, int(ttl), now))
    if ended:
        await redis.srem(index, *ended)
    return sorted(live, key=lambda s: (s.last_used_at, s.created_at), reverse=True)


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_PRODUCT = re.compile(r"^([A-Za-z][\w.\-]*)(?:/([\w.\-]+))?")


def device_of(user_agent: str) -> str:
    """A short name for the client of a ``User-Agent``: "Firefox on Linux", "python-httpx 0.28",
    "unknown device"."""
    agent = user_agent.strip()
    if not agent:
        return "unknown device"
    if agent.startswith("Mozilla/"):
        browser = next((name for token, name in _BROWSERS if token in agent), "a browser")
        system = next((name for token, name in _SYSTEMS if token in agent), "")
        return f"{browser} on {system}" if system else browser
    match = _PRODUCT.match(agent)
    if match is None:
        return agent[:40]
    name, version = match.groups()
    return f"{name} {version}" if version else name

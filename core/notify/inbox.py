"""Each user's in-app notifications in Redis, after the source design's key layout.

- ``notifications:{user_id}``: list of JSON notifications, newest first, the last ``KEEP`` kept.
  A notification is ``{id, type, org_id, event, request_id, title, actor_email, comment, target,
  created_at}``.
- ``notifications:{user_id}:ids``: sorted set of the ids delivered (score: when), the last
  ``KEEP_IDS`` kept. A notification's id is stable (``uuid5`` of request, event and target), and
  one Lua script adds it to the set and pushes it to the list only if it was not there: an activity
  retry, or two workers racing, deliver it once.
- ``notifications:{user_id}:read``: hash ``{org_id: id}``, the newest notification of that
  organization the user has marked read (``{org_id}:at``: when). Everything pushed after it is
  unread; a marker that aged out of the list means everything left is unread. A user who belongs
  to several organizations reads and marks each organization's notifications apart.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from core.changes.models import RequestEvent

KEEP = 500
KEEP_IDS = 2000
NAMESPACE = uuid.UUID("0b8e0a57-3d2f-4a57-8f5e-4bbef8d0c0a1")

_PUSH = """
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
"""


def list_key(user_id: uuid.UUID | str) -> str:
    return f"notifications:{user_id}"


def ids_key(user_id: uuid.UUID | str) -> str:
    return f"notifications:{user_id}:ids"


def read_key(user_id: uuid.UUID | str) -> str:
    return f"notifications:{user_id}:read"


def notification_id(event: RequestEvent) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event.request_id}:{event.event}:{event.target or ''}"))


def notification(event: RequestEvent, created_at: datetime | None = None) -> dict[str, Any]:
    created_at = created_at or datetime.now(UTC)
    return {
        "id": notification_id(event),
        "type": "approval",
        "org_id": event.org_id,
        "event": event.event,
        "request_id": event.request_id,
        "title": event.title,
        "actor_email": event.actor_email,
        "comment": event.comment,
        "target": event.target,
        "created_at": created_at.isoformat(timespec="milliseconds"),
    }


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def push(
    redis: aioredis.Redis, user_ids: Sequence[uuid.UUID | str], note: dict[str, Any]
) -> int:
    """Deliver ``note`` to each user who does not have it yet; answers how many got it now."""
    payload = json.dumps(note, ensure_ascii=False, separators=(",", ":"))
    score = int(time.time() * 1000)
    delivered = 0
    for user_id in user_ids:
        delivered += int(
            await redis.eval(
                _PUSH,
                2,
                list_key(user_id),
                ids_key(user_id),
                note["id"],
                payload,
                KEEP,
                score,
                KEEP_IDS,
            )
        )
    return delivered


async def _all(redis: aioredis.Redis, user_id: uuid.UUID | str) -> list[dict[str, Any]]:
    out = []
    for raw in await redis.lrange(list_key(user_id), 0, -1):
        try:
            out.append(json.loads(raw))
        except ValueError:
            continue
    return out


async def read(
    redis: aioredis.Redis,
    user_id: uuid.UUID | str,
    org_id: uuid.UUID | str,
    *,
    limit: int = 50,
    unread_only: bool = False,
) -> dict[str, Any]:
    """``{"items": [...], "unread": n, "read_at": ...}``: the user's notifications of the
    organization, newest first, each with ``read``; ``unread`` counts all unread ones."""
    org = str(org_id)
    marker, read_at = await redis.hmget(read_key(user_id), org, f"{org}:at")
    marker = _text(marker)
    items: list[dict[str, Any]] = []
    unread, older = 0, False
    for note in await _all(redis, user_id):
        if marker is not None and note.get("id") == marker:
            older = True
        if note.get("org_id") != org:
            continue
        note["read"] = older
        unread += not older
        if len(items) < limit and not (unread_only and older):
            items.append(note)
    return {"items": items, "unread": unread, "read_at": _text(read_at)}


async def mark_read(
    redis: aioredis.Redis, user_id: uuid.UUID | str, org_id: uuid.UUID | str
) -> dict[str, Any]:
    """Mark every notification of the organization read: ``{"marked": n, "unread": m,
    "read_at": ...}`` (``m`` is not 0 only when one arrived meanwhile)."""
    org = str(org_id)
    before = await read(redis, user_id, org, limit=1)
    if before["items"]:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        await redis.hset(
            read_key(user_id), mapping={org: before["items"][0]["id"], f"{org}:at": at}
        )
    after = await read(redis, user_id, org, limit=0)
    return {"marked": before["unread"], "unread": after["unread"], "read_at": after["read_at"]}

"""The session index and the record of last use, against the stack's Redis: a session is listed
through its user's index, its last use is written at most every 30 seconds (and never brings a
revoked session back), and an ended session leaves the index. The device names are a table."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from core import sessions
from core.sessions import TOUCH_EVERY_S, device_of
from core.tokens import SessionInfo, TokenStore, user_sessions_key


@pytest.fixture
async def redis_client(stack):
    client = aioredis.from_url(stack.env["JSC_REDIS_URL"], decode_responses=True)
    yield client
    await client.aclose()


async def opened(store: TokenStore, user_id: str, agent: str = "") -> str:
    sid = str(uuid.uuid4())
    await store.open_session(
        SessionInfo(sid, user_id, str(uuid.uuid4()), "a@example.com", "viewer"), "192.0.2.1", agent
    )
    return sid


async def test_last_use_is_written_at_most_every_30_seconds(redis_client):
    store = TokenStore(redis_client, 600)
    user = str(uuid.uuid4())
    sid = await opened(store, user)
    first = await redis_client.hgetall(f"session:{sid}")
    began = int(first["created_at"])
    assert not await sessions.touch(redis_client, sid, first, "192.0.2.2", now=began + 5)
    assert await redis_client.hget(f"session:{sid}", "last_ip") == "192.0.2.1"
    later = began + TOUCH_EVERY_S + 1
    assert await sessions.touch(redis_client, sid, first, "192.0.2.2", now=later)
    after = await redis_client.hgetall(f"session:{sid}")
    assert after["last_activity"] == str(later) and after["last_ip"] == "192.0.2.2"
    assert after["ip_address"] == "192.0.2.1"  # where it signed in stays
    # A caller holding a stale read cannot write twice within the interval...
    assert not await sessions.touch(redis_client, sid, first, "192.0.2.3", now=later + 1)
    # ...nor bring back a session revoked after it read the hash.
    await store.revoke(sid)
    assert not await sessions.touch(redis_client, sid, first, "192.0.2.3", now=later + 60)
    assert not await redis_client.exists(f"session:{sid}")


async def test_sessions_are_listed_through_the_index_and_ended_ones_leave_it(redis_client):
    store = TokenStore(redis_client, 600)
    user = str(uuid.uuid4())
    kept = await opened(store, user, "curl/8.5.0")
    ended = await opened(store, user)
    expired = await opened(store, user)
    await opened(store, str(uuid.uuid4()))  # someone else's
    assert await redis_client.ttl(user_sessions_key(user)) > 0
    await store.revoke(ended)
    await redis_client.delete(f"session:{expired}")  # as its TTL would
    live = await sessions.of_user(redis_client, user)
    assert [s.id for s in live] == [kept]
    assert live[0].device == "curl 8.5.0" and live[0].ip_address == "192.0.2.1"
    assert live[0].expires_at is not None and live[0].expires_at > live[0].created_at
    assert await redis_client.smembers(user_sessions_key(user)) == {kept}


@pytest.mark.parametrize(
    "agent, device",
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("python-httpx/0.28.1", "python-httpx 0.28.1"),
        ("jsc", "jsc"),
        ("", "unknown device"),
    ],
)
def test_device_names(agent, device):
    assert device_of(agent) == device

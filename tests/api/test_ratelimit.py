"""Rate limits in Redis: the fixed-window counter itself, per user (an organization's own limit),
per API key; 429 with Retry-After and a sentence."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from core import ratelimit
from tests.api.orgs import signup


async def test_the_window_counter(stack):
    client = aioredis.from_url(stack.env["JSC_REDIS_URL"], decode_responses=True)
    identity = f"test-{uuid.uuid4().hex}"
    try:
        states = [await ratelimit.hit(client, identity, "api", 3, window_s=60) for _ in range(4)]
        assert [s.allowed for s in states] == [True, True, True, False]
        assert [s.remaining for s in states] == [2, 1, 0, 0]
        assert all(0 < s.reset_s <= 60 for s in states)
        assert 0 < await client.ttl(f"ratelimit:{identity}:api") <= 60
        other = await ratelimit.hit(client, identity, "other", 3)
        assert other.allowed and other.count == 1  # buckets are separate
    finally:
        await client.delete(f"ratelimit:{identity}:api", f"ratelimit:{identity}:other")
        await client.aclose()


def _until_refused(api, headers: dict, limit: int):
    """Requests until one is refused: within ``limit`` + 1, or two windows if one ends meanwhile."""
    for _ in range(2 * limit + 2):
        reply = api.get("/api/v1/auth/me", headers=headers)
        if reply.status_code != 200:
            return reply
    raise AssertionError(f"no request refused with a limit of {limit}")


def test_a_user_is_limited_by_the_organizations_limit(api, stack):
    owner = signup(api)
    first = api.get("/api/v1/auth/me", headers=owner.headers)
    assert int(first.headers["X-RateLimit-Limit"]) == stack.settings.rate_limit_per_minute
    org = f"/api/v1/organizations/{owner.org_id}"
    patched = api.patch(org, headers=owner.headers, json={"rate_limit_per_minute": 5})
    assert patched.json()["rate_limit_per_minute"] == 5
    me = api.get("/api/v1/auth/me", headers=owner.headers)
    assert me.headers["X-RateLimit-Limit"] == "5"
    refused = _until_refused(api, owner.headers, 5)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "limit is 5 a minute" in refused.json()["detail"]
    # Another user of the console is not affected.
    assert api.get("/api/v1/auth/me", headers=signup(api).headers).status_code == 200


def test_an_api_key_has_its_own_limit(api):
    owner = signup(api)
    key = api.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": "slow", "rate_limit_per_minute": 3}
    ).json()
    refused = _until_refused(api, {"X-API-Key": key["key"]}, 3)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # The key's owner, signed in, has the user's limit.
    assert api.get("/api/v1/auth/me", headers=owner.headers).status_code == 200

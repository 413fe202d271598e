"""API keys: shown once, stored as argon2 with a visible prefix, accepted as Bearer or X-API-Key,
scopes within the owner's role, rotate, revoke, expiry, last use, and own keys only for members."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import select, update

from core.db.models import ApiKey
from tests.api.orgs import add_cluster, invite, signup
from tests.fixtures import wait_for_audit

KEYS = "/api/v1/api-keys"


def key_headers(key: str, style: str = "x-api-key") -> dict[str, str]:
    return {"X-API-Key": key} if style == "x-api-key" else {"Authorization": f"Bearer {key}"}


async def test_create_use_list_rotate_revoke(api, db_sessions):
    owner = signup(api)
    created = api.post(KEYS, headers=owner.headers, json={"name": "ci pipeline"})
    assert created.status_code == 201, created.text
    body = created.json()
    key, prefix = body["key"], body["prefix"]
    assert re.fullmatch(r"jsc_[0-9a-f]{8}", prefix) and key.startswith(prefix + "_")
    assert body["scopes"] == ["*:*:*"] and body["user_id"] == owner.user_id
    async with db_sessions() as db:
        row = await db.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(body["id"])))
    assert row.key_hash.startswith("$argon2") and key not in row.key_hash

    listed = api.get(KEYS, headers=owner.headers).json()["items"]
    assert [k["prefix"] for k in listed] == [prefix] and "key" not in listed[0]
    assert key not in api.get(f"{KEYS}/{body['id']}", headers=owner.headers).text

    for style in ("x-api-key", "bearer"):
        me = api.get("/api/v1/auth/me", headers=key_headers(key, style))
        assert me.status_code == 200, me.text
        assert me.json()["api_key_id"] == body["id"] and me.json()["email"] == owner.email
    used = api.get(f"{KEYS}/{body['id']}", headers=owner.headers).json()
    assert used["last_used_at"] is not None

    rotated = api.post(f"{KEYS}/{body['id']}/rotate", headers=owner.headers)
    assert rotated.status_code == 200
    new_key = rotated.json()["key"]
    assert new_key != key and rotated.json()["id"] == body["id"]
    assert api.get("/api/v1/auth/me", headers=key_headers(key)).status_code == 401
    assert api.get("/api/v1/auth/me", headers=key_headers(new_key)).status_code == 200

    assert api.delete(f"{KEYS}/{body['id']}", headers=owner.headers).status_code == 204
    refused = api.get("/api/v1/auth/me", headers=key_headers(new_key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert api.get(f"{KEYS}/{body['id']}", headers=owner.headers).json()["revoked_at"]
    assert api.post(f"{KEYS}/{body['id']}/rotate", headers=owner.headers).status_code == 409
    event = wait_for_audit(api, owner.headers, action="api_key.rotate", resource_id=body["id"])
    assert event["changes"]["prefix"]["before"] == prefix
    assert api.get("/api/v1/auth/me", headers=key_headers("jsc_00000000_nope")).status_code == 401


def test_scopes_narrow_the_owner_role_and_denials_name_the_key(api, stack):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    reader = api.post(
        KEYS,
        headers=owner.headers,
        json={"name": "reader", "scopes": ["clusters:read:*", "streams:read:*"]},
    ).json()
    headers = key_headers(reader["key"])
    assert api.get("/api/v1/clusters", headers=headers).status_code == 200
    assert api.get(f"/api/v1/clusters/{cluster['id']}/streams", headers=headers).status_code == 200
    denied = api.post("/api/v1/teams", headers=headers, json={"name": "x"})
    assert denied.status_code == 403
    event = wait_for_audit(api, owner.headers, status="denied", action="teams.create")
    assert event["changes"]["api_key_id"] == reader["id"]
    me = api.get("/api/v1/auth/me", headers=headers).json()
    assert sorted(me["permissions"]) == ["clusters:read:*", "streams:read:*"]
    bad = api.post(KEYS, headers=owner.headers, json={"name": "bad", "scopes": ["streams:fly:*"]})
    assert bad.status_code == 422


def test_a_key_follows_its_owner_role_and_cannot_exceed_it(api):
    owner = signup(api)
    member = invite(api, owner, "member")
    too_much = api.post(
        KEYS, headers=member.headers, json={"name": "x", "scopes": ["clusters:create:*"]}
    )
    assert too_much.status_code == 403 and "clusters:create:*" in too_much.json()["detail"]
    key = api.post(KEYS, headers=member.headers, json={"name": "mine"}).json()
    headers = key_headers(key["key"])
    assert api.get("/api/v1/teams", headers=headers).status_code == 200  # member reads teams
    assert api.post("/api/v1/clusters", headers=headers, json={}).status_code == 403

    # A key made with a key gets at most that key's scopes.
    narrow = api.post(
        KEYS,
        headers=member.headers,
        json={"name": "narrow", "scopes": ["teams:read:*", "api_keys:create:own"]},
    ).json()
    child = api.post(KEYS, headers=key_headers(narrow["key"]), json={"name": "child"})
    assert child.status_code == 201 and child.json()["scopes"] == [
        "api_keys:create:own",
        "teams:read:*",
    ]

    # Members see and manage only their own keys; the admin sees every key of the organization.
    admin_key = api.post(KEYS, headers=owner.headers, json={"name": "admin"}).json()
    mine = {k["id"] for k in api.get(KEYS, headers=member.headers).json()["items"]}
    assert admin_key["id"] not in mine and key["id"] in mine
    assert api.get(f"{KEYS}/{admin_key['id']}", headers=member.headers).status_code == 404
    assert api.delete(f"{KEYS}/{admin_key['id']}", headers=member.headers).status_code == 404
    every = {k["id"] for k in api.get(KEYS, headers=owner.headers).json()["items"]}
    assert {key["id"], admin_key["id"]} <= every

    # The owner's role shrinks: so does the key, at once.
    assert (
        api.patch(
            f"/api/v1/users/{member.user_id}", headers=owner.headers, json={"role": "viewer"}
        ).status_code
        == 200
    )
    assert api.get("/api/v1/teams", headers=headers).status_code == 403
    # Removed from the organization: the key stops.
    assert api.delete(f"/api/v1/users/{member.user_id}", headers=owner.headers).status_code == 204
    assert api.get("/api/v1/clusters", headers=headers).status_code == 401


async def test_expired_keys_are_refused(api, db_sessions, stack):
    owner = signup(api)
    key = api.post(KEYS, headers=owner.headers, json={"name": "short", "expires_in_days": 1}).json()
    expires = datetime.fromisoformat(key["expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(days=1)
    assert api.get("/api/v1/auth/me", headers=key_headers(key["key"])).status_code == 200
    async with db_sessions() as db:
        await db.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.UUID(key["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await db.commit()
    cache = redis.Redis.from_url(stack.env["JSC_REDIS_URL"])
    cache.delete(f"apikey:{key['prefix']}")  # what a PATCH would do; the cache lives 5 minutes
    cache.close()
    expired = api.get("/api/v1/auth/me", headers=key_headers(key["key"]))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_patch_changes_name_scopes_and_rate_limit(api):
    owner = signup(api)
    key = api.post(KEYS, headers=owner.headers, json={"name": "k"}).json()
    patched = api.patch(
        f"{KEYS}/{key['id']}",
        headers=owner.headers,
        json={"name": "renamed", "scopes": ["clusters:read:*"], "rate_limit_per_minute": 100},
    )
    assert patched.status_code == 200
    assert patched.json()["scopes"] == ["clusters:read:*"] and patched.json()["name"] == "renamed"
    started = time.monotonic()
    assert (
        api.post("/api/v1/teams", headers=key_headers(key["key"]), json={"name": "t"}).status_code
        == 403
    )  # the cached key was dropped
    assert time.monotonic() - started < 5

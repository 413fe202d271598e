"""In-app notifications through the API: events delivered by the ``notify_request`` activity (run
with Temporal's ``ActivityEnvironment`` against the stack's PostgreSQL and Redis) are read back by
their recipient, newest first, of the organization they are signed in to; marking them read
counts them, is audited, and leaves what arrives afterwards unread."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from core.bootstrap import slugify
from core.changes.models import RequestEvent
from core.db.models import Organization, OrganizationMember
from core.security import Cipher
from tests.fixtures import PASSWORD, unique, wait_for_audit

NOTES = "/api/v1/notifications"


@pytest.fixture(scope="module")
async def notify(stack, db_sessions):
    client = aioredis.from_url(stack.env["JSC_REDIS_URL"], decode_responses=True)
    activities = NotificationActivities(
        db_sessions, client, Cipher(stack.settings.encryption_key.get_secret_value())
    )

    async def _notify(org_id, user_id, event: str = "created", **fields) -> RequestEvent:
        sent = RequestEvent(
            org_id=str(org_id),
            request_id=str(uuid.uuid4()),
            event=event,
            title=fields.pop("title", f"Update stream {event}"),
            recipients=[str(user_id)],
            **fields,
        )
        await ActivityEnvironment().run(activities.notify_request, sent)
        return sent

    yield _notify
    await client.aclose()


async def test_read_and_mark_read(api, admin_headers, make_member, notify):
    headers, user_id, org_id = await make_member("viewer")
    empty = api.get(NOTES, headers=headers)
    assert empty.status_code == 200 and empty.json() == {"items": [], "unread": 0, "read_at": None}
    first = await notify(
        org_id, user_id, "approved", actor_email="boss@example.com", comment="fine"
    )
    second = await notify(org_id, user_id, "executed")
    listed = api.get(NOTES, headers=headers).json()
    assert listed["unread"] == 2
    assert [n["request_id"] for n in listed["items"]] == [second.request_id, first.request_id]
    older = listed["items"][1]
    assert {k: older[k] for k in ("type", "event", "title", "actor_email", "comment", "read")} == {
        "type": "approval",
        "event": "approved",
        "title": "Update stream approved",
        "actor_email": "boss@example.com",
        "comment": "fine",
        "read": False,
    }
    assert len(api.get(NOTES, headers=headers, params={"limit": 1}).json()["items"]) == 1

    marked = api.post(f"{NOTES}/read", headers=headers)
    assert marked.status_code == 200, marked.text
    assert marked.json()["marked"] == 2 and marked.json()["unread"] == 0
    after = api.get(NOTES, headers=headers).json()
    assert after["unread"] == 0 and [n["read"] for n in after["items"]] == [True, True]
    assert after["read_at"] == marked.json()["read_at"]
    assert api.get(NOTES, headers=headers, params={"unread_only": True}).json()["items"] == []
    wait_for_audit(api, admin_headers, action="notification.read", resource_id=str(user_id))

    third = await notify(org_id, user_id, "escalated", target="role:viewer")
    now = api.get(NOTES, headers=headers, params={"unread_only": True}).json()
    assert now["unread"] == 1 and [n["request_id"] for n in now["items"]] == [third.request_id]
    assert now["items"][0]["target"] == "role:viewer"
    assert len(api.get(NOTES, headers=headers).json()["items"]) == 3


async def test_each_user_and_organization_apart(api, make_member, notify, db_sessions):
    headers, user_id, org_id = await make_member("editor")
    other_headers, other_id, _ = await make_member("member")
    mine = await notify(org_id, user_id)
    assert api.get(NOTES, headers=other_headers).json()["unread"] == 0
    # nothing arrives from an organization the user is not a member of
    await notify(uuid.uuid4(), user_id)
    assert [n["request_id"] for n in api.get(NOTES, headers=headers).json()["items"]] == [
        mine.request_id
    ]
    # a second organization of theirs is listed and marked read apart
    second_org = await _also_member_of_a_new_org(db_sessions, user_id)
    theirs = await notify(second_org, user_id)
    assert [n["request_id"] for n in api.get(NOTES, headers=headers).json()["items"]] == [
        mine.request_id
    ]
    email = api.get("/api/v1/auth/me", headers=headers).json()["email"]
    there = api.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "organization_id": str(second_org)},
    )
    assert there.status_code == 200, there.text
    there_headers = {"Authorization": f"Bearer {there.json()['access_token']}"}
    assert [n["request_id"] for n in api.get(NOTES, headers=there_headers).json()["items"]] == [
        theirs.request_id
    ]
    assert api.post(f"{NOTES}/read", headers=there_headers).json()["marked"] == 1
    assert api.get(NOTES, headers=headers).json()["unread"] == 1  # still unread in the first
    await notify(org_id, other_id)
    assert api.post(f"{NOTES}/read", headers=other_headers).json()["marked"] == 1
    assert api.get(NOTES, headers=headers).json()["unread"] == 1  # another user's marker


async def _also_member_of_a_new_org(db_sessions, user_id) -> uuid.UUID:
    async with db_sessions() as db, db.begin():
        name = unique("second")
        org = Organization(name=name, slug=slugify(name), plan="free", settings={})
        db.add(org)
        await db.flush()
        db.add(OrganizationMember(org_id=org.id, user_id=user_id, role="viewer"))
    return org.id


def test_bad_parameters_are_named(api, admin_headers):
    for params in ({"limit": 0}, {"limit": 501}, {"unread_only": "perhaps"}):
        reply = api.get(NOTES, headers=admin_headers, params=params)
        assert reply.status_code == 422, (params, reply.text)
        assert reply.json()["errors"][0]["field"] in ("limit", "unread_only")

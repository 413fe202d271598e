"""Webhook secret rotation through the API, against the real stack and a local receiver:
``POST /webhooks/{id}/rotate-secret`` answers the new secret once (never again by a read); during
the grace a delivery (the API's ``/test`` and the worker's ``deliver_webhook`` activity) carries
the new and the replaced secret's signatures in ``X-JSC-Signature``, and a receiver verifies it with
either; after the grace (its end moved to the past in PostgreSQL) only the new one; a second
rotation replaces the previous secret; admins only (viewer, member, editor, operator: 403, and the
refusal audited), another organization's webhook a 404, the rotation audited without a secret."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select, update
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from core.changes.models import RequestEvent, WebhookDelivery
from core.db.models import Webhook
from core.notify.delivery import open_secret
from core.notify.webhooks import verify
from core.security import Cipher
from tests.fixtures import unique, wait_for_audit
from tests.webhook_receiver import Receiver

HOOKS = "/api/v1/webhooks"
GRACE_S = 24 * 3600  # the stack runs with the default JSC_WEBHOOK_SECRET_GRACE_S


def create(api, headers, **body) -> dict:
    reply = api.post(
        HOOKS,
        headers=headers,
        json={"name": unique("hook"), "url": "https://hooks.example.com/x", **body},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def rotate(api, headers, hook_id: str) -> dict:
    reply = api.post(f"{HOOKS}/{hook_id}/rotate-secret", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def ping(api, headers, hook_id: str, receiver: Receiver):
    """One ``/test`` delivery; what the receiver got: (timestamp, body, signature values)."""
    before = len(receiver.received)
    sent = api.post(f"{HOOKS}/{hook_id}/test", headers=headers)
    assert sent.status_code == 200 and sent.json()["ok"], sent.text
    assert len(receiver.received) == before + 1
    got = receiver.received[-1]
    return got.headers["x-jsc-timestamp"], got.body, got.headers["x-jsc-signature"]


async def end_grace(db_sessions, hook_id: str) -> None:
    async with db_sessions() as db, db.begin():
        await db.execute(
            update(Webhook)
            .where(Webhook.id == uuid.UUID(hook_id))
            .values(previous_valid_until=datetime.now(UTC) - timedelta(seconds=1))
        )


@pytest.fixture(scope="module")
def cipher(stack) -> Cipher:
    return Cipher(stack.settings.encryption_key.get_secret_value())


async def test_the_new_secret_is_answered_once_and_audited(api, make_member, db_sessions, cipher):
    headers, _, _ = await make_member("admin", org="new")
    hook = create(api, headers)
    started = datetime.now(UTC)
    rotated = rotate(api, headers, hook["id"])
    assert set(rotated) == {"id", "secret", "previous_valid_until"}
    assert rotated["id"] == hook["id"] and len(rotated["secret"]) >= 40
    assert rotated["secret"] != hook["secret"]
    until = datetime.fromisoformat(rotated["previous_valid_until"])
    assert (
        started + timedelta(seconds=GRACE_S - 60)
        < until
        < datetime.now(UTC) + timedelta(seconds=GRACE_S + 60)
    )
    read = api.get(f"{HOOKS}/{hook['id']}", headers=headers)
    listed = api.get(HOOKS, headers=headers)
    for reply in (read, listed):
        assert reply.status_code == 200
        assert rotated["secret"] not in reply.text and hook["secret"] not in reply.text
    assert datetime.fromisoformat(read.json()["previous_valid_until"]) == until
    assert "secret" not in read.json()
    async with db_sessions() as db:
        row = await db.scalar(select(Webhook).where(Webhook.id == uuid.UUID(hook["id"])))
    stored = json.dumps([row.secret, row.previous_secret])
    assert rotated["secret"] not in stored and hook["secret"] not in stored  # sealed at rest
    assert open_secret(cipher, row) == rotated["secret"]
    event = wait_for_audit(api, headers, action="webhook.rotate_secret", resource_id=hook["id"])
    assert event["status"] == "success" and event["resource_name"] == hook["name"]
    assert datetime.fromisoformat(event["changes"]["previous_valid_until"]) == until
    assert rotated["secret"] not in json.dumps(event) and hook["secret"] not in json.dumps(event)


async def test_during_the_grace_both_secrets_verify_then_only_the_new(
    api, make_member, db_sessions
):
    headers, _, _ = await make_member("admin", org="new")
    with Receiver() as receiver:
        hook = create(api, headers, url=receiver.url)
        old = hook["secret"]
        timestamp, body, signature = ping(api, headers, hook["id"], receiver)
        assert "," not in signature and verify(old, timestamp, body, signature)

        new = rotate(api, headers, hook["id"])["secret"]
        timestamp, body, signature = ping(api, headers, hook["id"], receiver)
        assert len(signature.split(",")) == 2 and all(
            v.startswith("sha256=") for v in signature.split(",")
        )
        assert verify(new, timestamp, body, signature.split(",")[0])  # the new one first
        assert verify(new, timestamp, body, signature, max_age_s=300)
        assert verify(old, timestamp, body, signature, max_age_s=300)
        assert not verify("a-wrong-secret-of-some-length", timestamp, body, signature)

        await end_grace(db_sessions, hook["id"])
        assert (
            api.get(f"{HOOKS}/{hook['id']}", headers=headers).json()["previous_valid_until"] is None
        )
        timestamp, body, signature = ping(api, headers, hook["id"], receiver)
        assert "," not in signature
        assert verify(new, timestamp, body, signature)
        assert not verify(old, timestamp, body, signature)


async def test_rotating_again_replaces_the_previous_secret(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    with Receiver() as receiver:
        hook = create(api, headers, url=receiver.url)
        second = rotate(api, headers, hook["id"])
        third = rotate(api, headers, hook["id"])
        assert third["secret"] not in (hook["secret"], second["secret"])
        assert third["previous_valid_until"] >= second["previous_valid_until"]
        timestamp, body, signature = ping(api, headers, hook["id"], receiver)
    assert len(signature.split(",")) == 2
    assert verify(third["secret"], timestamp, body, signature)
    assert verify(second["secret"], timestamp, body, signature)
    assert not verify(hook["secret"], timestamp, body, signature)  # two rotations ago


async def test_the_delivery_activity_carries_both_signatures(
    api, stack, make_member, db_sessions, cipher
):
    """The delivery activity (as the worker runs it for approvals, failovers and alerts)."""
    headers, _, org_id = await make_member("admin", org="new")
    redis_client = aioredis.from_url(stack.env["JSC_REDIS_URL"])
    activities = NotificationActivities(
        db_sessions, redis_client, cipher, public_url="https://console.example"
    )
    env = ActivityEnvironment()
    sent = RequestEvent(
        org_id=str(org_id),
        request_id=str(uuid.uuid4()),
        event="approved",
        title="Create stream orders",
        actor_email="jane@example.com",
    )
    try:
        with Receiver() as receiver:
            hook = create(api, headers, url=receiver.url, events=["approved"])
            new = rotate(api, headers, hook["id"])["secret"]
            await env.run(
                activities.deliver_webhook, WebhookDelivery(webhook_id=hook["id"], event=sent)
            )
            await end_grace(db_sessions, hook["id"])
            await env.run(
                activities.deliver_webhook, WebhookDelivery(webhook_id=hook["id"], event=sent)
            )
    finally:
        await redis_client.aclose()
    during, after = receiver.received
    for got, old_verifies in ((during, True), (after, False)):
        timestamp, signature = got.headers["x-jsc-timestamp"], got.headers["x-jsc-signature"]
        assert got.headers["x-jsc-event"] == "approved"
        assert verify(new, timestamp, got.body, signature, max_age_s=300)
        assert verify(hook["secret"], timestamp, got.body, signature) is old_verifies
    assert during.headers["x-jsc-delivery"] == after.headers["x-jsc-delivery"]  # one delivery


async def test_admins_only_and_tenancy(api, make_member, db_sessions, cipher):
    headers, _, org_id = await make_member("admin", org="new")
    hook = create(api, headers)
    path = f"{HOOKS}/{hook['id']}/rotate-secret"
    for role in ("viewer", "member", "editor", "operator"):
        who, _, _ = await make_member(role, org=org_id)
        refused = api.post(path, headers=who)
        assert refused.status_code == 403, (role, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    denied = wait_for_audit(api, headers, status="denied", resource_name=path)
    assert denied["action"] == "organizations.update"
    stranger, _, _ = await make_member("admin", org="new")
    for hook_id in (hook["id"], str(uuid.uuid4())):
        missing = api.post(f"{HOOKS}/{hook_id}/rotate-secret", headers=stranger)
        assert missing.status_code == 404, missing.text
        assert "No webhook" in missing.json()["detail"]
    async with db_sessions() as db:
        row = await db.scalar(select(Webhook).where(Webhook.id == uuid.UUID(hook["id"])))
    assert open_secret(cipher, row) == hook["secret"] and row.previous_secret is None
    assert api.get(f"{HOOKS}/{hook['id']}", headers=headers).json()["previous_valid_until"] is None


def test_the_route_declares_its_answers(api):
    operation = api.get("/openapi.json").json()["paths"][
        "/api/v1/webhooks/{webhook_id}/rotate-secret"
    ]["post"]
    assert {"200", "404"} <= set(operation["responses"])
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    assert operation["security"], "the route declares its permission"

"""Webhooks through the API: create (the secret answered once, sealed at rest, never listed),
read, change, delete, admins only, another organization's webhook a 404, every change audited
without the secret; and ``/test``, which sends one signed, Slack-compatible event to a local
receiver that checks the signature with the secret."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import select

from core.db.models import Webhook
from core.notify.delivery import open_secret
from core.notify.webhooks import verify
from core.security import Cipher
from tests.fixtures import unique, wait_for_audit
from tests.webhook_receiver import Receiver, closed_port_url

HOOKS = "/api/v1/webhooks"


def create(api, headers, **body) -> dict:
    reply = api.post(
        HOOKS,
        headers=headers,
        json={"name": unique("hook"), "url": "https://hooks.example.com/x", **body},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_secret_is_shown_once_and_sealed_at_rest(api, stack, make_member, db_sessions):
    headers, _, _ = await make_member("admin", org="new")
    created = create(api, headers, events=["executed", "approved"])
    secret = created["secret"]
    assert len(secret) >= 40 and created["enabled"] is True
    assert created["events"] == ["approved", "executed"]  # in the order of the event list
    listed = api.get(HOOKS, headers=headers)
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json()["items"]] == [created["id"]]
    assert secret not in listed.text and "secret" not in listed.json()["items"][0]
    read = api.get(f"{HOOKS}/{created['id']}", headers=headers)
    assert read.status_code == 200 and secret not in read.text and "secret" not in read.json()
    async with db_sessions() as db:
        row = await db.scalar(select(Webhook).where(Webhook.id == uuid.UUID(created["id"])))
    assert secret not in json.dumps(row.secret)
    assert open_secret(Cipher(stack.settings.encryption_key.get_secret_value()), row) == secret
    event = wait_for_audit(api, headers, action="webhook.create", resource_id=created["id"])
    assert secret not in json.dumps(event) and event["changes"]["secret"] == "generated"
    given = create(api, headers, secret="my-own-signing-secret-123")
    assert given["secret"] == "my-own-signing-secret-123"


async def test_change_and_delete(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    hook = create(api, headers, url="https://hooks.slack.com/services/T0/B0/token-in-url")
    changed = api.patch(
        f"{HOOKS}/{hook['id']}",
        headers=headers,
        json={
            "name": "renamed",
            "events": ["failed"],
            "enabled": False,
            "url": "http://127.0.0.1:8080/jsc",
        },
    )
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in ("name", "events", "enabled", "url")} == {
        "name": "renamed",
        "events": ["failed"],
        "enabled": False,
        "url": "http://127.0.0.1:8080/jsc",
    }
    assert api.get(f"{HOOKS}/{hook['id']}", headers=headers).json()["name"] == "renamed"
    event = wait_for_audit(api, headers, action="webhook.update", resource_id=hook["id"])
    assert set(event["changes"]) == {"name", "events", "enabled", "url"}
    assert "token-in-url" not in json.dumps(event)  # a URL's path may carry a token
    kept = api.patch(f"{HOOKS}/{hook['id']}", headers=headers, json={"enabled": True})
    assert kept.json()["name"] == "renamed" and kept.json()["enabled"] is True
    taken = create(api, headers)
    clash = api.patch(f"{HOOKS}/{hook['id']}", headers=headers, json={"name": taken["name"]})
    assert clash.status_code == 409 and taken["name"] in clash.json()["detail"]
    assert api.delete(f"{HOOKS}/{hook['id']}", headers=headers).status_code == 204
    assert api.get(f"{HOOKS}/{hook['id']}", headers=headers).status_code == 404
    assert [h["id"] for h in api.get(HOOKS, headers=headers).json()["items"]] == [taken["id"]]
    wait_for_audit(api, headers, action="webhook.delete", resource_id=hook["id"])


async def test_bad_input_is_named(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    for body, field, words in [
        ({"name": "x", "url": "ftp://files.example.com"}, "url", "http:// or https://"),
        ({"name": "x", "url": "hooks.example.com"}, "url", "http:// or https://"),
        (
            {"name": "x", "url": "https://h.example", "events": ["approved", "merged"]},
            "events",
            "'merged' is not an event",
        ),
        ({"name": "   ", "url": "https://h.example"}, "name", "non-blank"),
        ({"name": "x", "url": "https://h.example", "secret": "short"}, "secret", "16"),
        ({"name": "x", "url": "https://h.example", "colour": "red"}, "colour", "not a known"),
    ]:
        reply = api.post(HOOKS, headers=headers, json=body)
        assert reply.status_code == 422, (body, reply.text)
        errors = {e["field"]: e["message"] for e in reply.json()["errors"]}
        assert field in errors and words in errors[field], (body, errors)
    hook = create(api, headers)
    null = api.patch(f"{HOOKS}/{hook['id']}", headers=headers, json={"name": None})
    assert null.status_code == 422 and "name cannot be null" in null.json()["detail"]


async def test_admins_only_and_tenancy(api, make_member):
    headers, _, org_id = await make_member("admin", org="new")
    hook = create(api, headers)
    viewer, _, _ = await make_member("viewer", org=org_id)
    editor, _, _ = await make_member("editor", org=org_id)
    for who in (viewer, editor):
        assert api.get(HOOKS, headers=who).status_code == 403
        assert (
            api.post(HOOKS, headers=who, json={"name": "x", "url": "https://h.example"}).status_code
            == 403
        )
        assert api.post(f"{HOOKS}/{hook['id']}/test", headers=who).status_code == 403
    stranger, _, _ = await make_member("admin", org="new")
    assert api.get(HOOKS, headers=stranger).json()["items"] == []
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/test", None),
    ]:
        reply = api.request(method, f"{HOOKS}/{hook['id']}{path}", headers=stranger, json=body)
        assert reply.status_code == 404, (method, path, reply.text)
    assert api.get(f"{HOOKS}/{hook['id']}", headers=headers).json()["enabled"] is True


async def test_test_event_is_signed_and_slack_compatible(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    with Receiver() as receiver:
        hook = create(api, headers, url=receiver.url, events=["approved"], enabled=False)
        sent = api.post(f"{HOOKS}/{hook['id']}/test", headers=headers)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {
            "ok": True,
            "status_code": 200,
            "delivery_id": sent.json()["delivery_id"],
            "error": None,
        }
    [got] = receiver.received
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-jsc-event"] == "test"
    assert got.headers["x-jsc-delivery"] == sent.json()["delivery_id"]
    timestamp, signature = got.headers["x-jsc-timestamp"], got.headers["x-jsc-signature"]
    assert signature.startswith("sha256=") and abs(int(timestamp) - time.time()) < 60
    assert verify(hook["secret"], timestamp, got.body, signature, max_age_s=300)
    assert not verify("a-wrong-secret-of-some-length", timestamp, got.body, signature)
    assert not verify(hook["secret"], str(int(timestamp) + 1), got.body, signature)
    assert not verify(
        hook["secret"], timestamp, got.body, signature, max_age_s=300, now=int(timestamp) + 3600
    )  # an old delivery replayed
    body = json.loads(got.body)
    assert isinstance(body["text"], str) and hook["name"] in body["text"]
    assert body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": body["text"]}}]
    assert body["event"] == "test" and body["title"] == f"webhook {hook['name']}"
    event = wait_for_audit(api, headers, action="webhook.test", resource_id=hook["id"])
    assert event["status"] == "success" and hook["secret"] not in json.dumps(event)


async def test_test_reports_a_failing_receiver(api, make_member):
    headers, _, _ = await make_member("admin", org="new")
    with Receiver(status=500) as receiver:
        hook = create(api, headers, url=receiver.url)
        failed = api.post(f"{HOOKS}/{hook['id']}/test", headers=headers).json()
    assert failed["ok"] is False and failed["status_code"] == 500 and "500" in failed["error"]
    assert len(receiver.received) == 1
    gone = create(api, headers, url=closed_port_url())
    unreachable = api.post(f"{HOOKS}/{gone['id']}/test", headers=headers).json()
    assert unreachable["ok"] is False and unreachable["status_code"] is None
    assert "could not reach" in unreachable["error"]
    event = wait_for_audit(api, headers, action="webhook.test", resource_id=gone["id"])
    assert event["status"] == "failure"

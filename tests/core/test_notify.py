"""The notification activities against the stack's real PostgreSQL and Redis, run with Temporal's
``ActivityEnvironment``: who gets a request event in the app (recipients, approval groups by role,
team and user, escalation targets), exactly once under retries; which webhooks hear it; and the
signed delivery to a local receiver (a 500 raises for Temporal to retry, a 200 passes, a webhook
disabled or deleted meanwhile is skipped)."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import pytest
import redis.asyncio as aioredis
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from core.bootstrap import slugify
from core.changes.models import RequestEvent, WebhookDelivery
from core.db.models import Organization, OrganizationMember, Team, TeamMember, User, Webhook
from core.notify import inbox
from core.notify.delivery import seal_secret
from core.notify.webhooks import verify
from core.security import Cipher
from tests.fixtures import unique
from tests.webhook_receiver import Receiver, closed_port_url

PEOPLE = {  # name: (organization role, team, status)
    "admin": ("admin", None, "active"),
    "editor": ("editor", None, "active"),
    "viewer": ("viewer", None, "active"),
    "payer": ("member", "payments", "active"),
    "operator": ("operator", "ops", "active"),
    "disabled": ("editor", "payments", "disabled"),
}


@pytest.fixture(scope="module")
def cipher(stack) -> Cipher:
    return Cipher(stack.settings.encryption_key.get_secret_value())


@pytest.fixture(scope="module")
async def redis_client(stack):
    client = aioredis.from_url(stack.env["JSC_REDIS_URL"])  # bytes, as a worker may hold it
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def activities(db_sessions, redis_client, cipher) -> NotificationActivities:
    return NotificationActivities(
        db_sessions, redis_client, cipher, public_url="https://console.example"
    )


async def _org(db, name: str) -> Organization:
    org = Organization(name=name, slug=slugify(name), plan="free", settings={})
    db.add(org)
    await db.flush()
    return org


async def _user(db, org: Organization, name: str, role: str, status: str = "active") -> User:
    user = User(email=f"{unique(name)}@example.com", status=status)
    db.add(user)
    await db.flush()
    db.add(OrganizationMember(org_id=org.id, user_id=user.id, role=role))
    return user


@pytest.fixture(scope="module")
async def org(db_sessions):
    """An organization with one person per entry of PEOPLE, teams ``payments`` and ``ops``, and an
    outsider: the admin of another organization, who also has a team ``payments``."""
    async with db_sessions() as db, db.begin():
        home, other = await _org(db, unique("notify")), await _org(db, unique("elsewhere"))
        teams = {}
        for team_name in ("payments", "ops"):
            teams[team_name] = Team(org_id=home.id, name=team_name)
            db.add(teams[team_name])
        foreign_team = Team(org_id=other.id, name="payments")
        db.add(foreign_team)
        await db.flush()
        people = {}
        for name, (role, team, status) in PEOPLE.items():
            people[name] = await _user(db, home, name, role, status)
            if team:
                db.add(TeamMember(team_id=teams[team].id, user_id=people[name].id))
        outsider = await _user(db, other, "outsider", "admin")
        db.add(TeamMember(team_id=foreign_team.id, user_id=outsider.id))
    return SimpleNamespace(
        id=home.id, other_id=other.id, outsider=outsider, **{n: u for n, u in people.items()}
    )


def event(org, kind: str = "created", **fields) -> RequestEvent:
    return RequestEvent(
        org_id=str(org.id),
        request_id=str(uuid.uuid4()),
        event=kind,
        title=fields.pop("title", "Create stream orders"),
        **fields,
    )


async def reached(redis_client, org, note_event: RequestEvent) -> set[str]:
    """The names of the people (and ``outsider``) whose inbox holds the event's notification."""
    wanted = inbox.notification_id(note_event)
    names = {**{n: getattr(org, n) for n in PEOPLE}, "outsider": org.outsider}
    out = set()
    for name, user in names.items():
        raw_notes = await redis_client.lrange(inbox.list_key(user.id), 0, -1)
        notes = [json.loads(raw) for raw in raw_notes]
        count = sum(n["id"] == wanted for n in notes)
        assert count <= 1, f"{name} got the notification {count} times"
        if count:
            out.add(name)
    return out


async def test_recipients_are_the_requester_and_members_only(activities, redis_client, org):
    sent = event(
        org,
        "approved",
        actor_email="boss@example.com",
        recipients=[str(org.viewer.id), str(org.outsider.id), "not-a-uuid"],
    )
    await ActivityEnvironment().run(activities.notify_request, sent)
    assert await reached(redis_client, org, sent) == {"viewer"}
    note = json.loads(await redis_client.lindex(inbox.list_key(org.viewer.id), 0))
    assert note == {
        **note,
        "id": inbox.notification_id(sent),
        "type": "approval",
        "event": "approved",
        "request_id": sent.request_id,
        "title": "Create stream orders",
        "actor_email": "boss@example.com",
        "org_id": str(org.id),
        "target": None,
    }
    assert note["created_at"].endswith("+00:00")


async def test_approval_groups_by_role_team_and_user(activities, redis_client, org):
    by_role = event(org, groups=[{"name": "admins", "count": 1, "roles": ["admin", "operator"]}])
    by_team = event(org, groups=[{"name": "payments", "count": 1, "teams": ["payments"]}])
    by_user = event(
        org,
        groups=[
            {
                "name": "named",
                "count": 1,
                "users": [org.editor.email.upper(), str(org.viewer.id), org.outsider.email],
            }
        ],
    )
    together = event(
        org,
        groups=[
            {"name": "a", "roles": ["viewer"]},
            {"name": "b", "teams": ["ops"], "users": [str(org.viewer.id)]},
        ],
    )
    env = ActivityEnvironment()
    for sent in (by_role, by_team, by_user, together):
        await env.run(activities.notify_request, sent)
    assert await reached(redis_client, org, by_role) == {"admin", "operator"}
    assert await reached(redis_client, org, by_team) == {"payer"}  # not the disabled member
    assert await reached(redis_client, org, by_user) == {"editor", "viewer"}
    assert await reached(redis_client, org, together) == {"viewer", "operator"}


@pytest.mark.parametrize(
    "target, who",
    [
        ("@payments", {"payer"}),
        ("@ops", {"operator"}),
        ("@no-such-team", {"admin"}),
        ("role:viewer", {"viewer"}),
        ("role:nobody", {"admin"}),
        ("EDITOR-email", {"editor"}),
        ("outsider-email", {"admin"}),
        ("the on-call person", {"admin"}),
    ],
)
async def test_escalation_targets(activities, redis_client, org, target, who):
    target = {"EDITOR-email": org.editor.email.upper(), "outsider-email": org.outsider.email}.get(
        target, target
    )
    sent = event(org, "escalated", target=target)
    await ActivityEnvironment().run(activities.notify_request, sent)
    assert await reached(redis_client, org, sent) == who


async def test_notify_twice_delivers_once(activities, redis_client, org):
    sent = event(
        org,
        "rejected",
        actor_email="a@example.com",
        comment="too big",
        recipients=[str(org.editor.id)],
        groups=[{"name": "g", "roles": ["editor"]}],
    )
    before = await redis_client.llen(inbox.list_key(org.editor.id))
    env = ActivityEnvironment()
    await env.run(activities.notify_request, sent)
    await env.run(activities.notify_request, sent)
    assert await redis_client.llen(inbox.list_key(org.editor.id)) == before + 1
    assert await reached(redis_client, org, sent) == {"editor"}
    # the same request's next step is a new notification
    later = sent.model_copy(update={"event": "executed", "comment": ""})
    await env.run(activities.notify_request, later)
    assert await redis_client.llen(inbox.list_key(org.editor.id)) == before + 2


async def _webhook(
    db_sessions,
    cipher,
    org_id,
    url: str,
    events: list[str],
    *,
    enabled: bool = True,
    secret: str = "s3cret-signing-key",
) -> str:
    webhook_id = uuid.uuid4()
    async with db_sessions() as db, db.begin():
        db.add(
            Webhook(
                id=webhook_id,
                org_id=org_id,
                name=unique("hook"),
                url=url,
                secret=seal_secret(cipher, webhook_id, secret),
                events=events,
                enabled=enabled,
            )
        )
    return str(webhook_id)


async def test_notify_answers_the_webhooks_that_hear_the_event(
    activities, db_sessions, cipher, org
):
    url = "http://127.0.0.1:9/unused"
    every = await _webhook(db_sessions, cipher, org.id, url, [])
    approvals = await _webhook(db_sessions, cipher, org.id, url, ["approved", "rejected"])
    await _webhook(db_sessions, cipher, org.id, url, [], enabled=False)
    await _webhook(db_sessions, cipher, org.other_id, url, [])
    env = ActivityEnvironment()
    assert sorted(await env.run(activities.notify_request, event(org, "approved"))) == sorted(
        [every, approvals]
    )
    assert await env.run(activities.notify_request, event(org, "created")) == [every]


async def test_delivery_is_signed_retried_on_500_and_passes_on_200(
    activities, db_sessions, cipher, org
):
    secret = "whsec-" + uuid.uuid4().hex
    sent = event(org, "approved", actor_email="jane@example.com", comment="ship it")
    with Receiver(status=500) as receiver:
        hook = await _webhook(
            db_sessions, cipher, org.id, receiver.url, ["approved"], secret=secret
        )
        delivery = WebhookDelivery(webhook_id=hook, event=sent)
        env = ActivityEnvironment()
        with pytest.raises(ApplicationError, match="answered 500"):
            await env.run(activities.deliver_webhook, delivery)
        receiver.status = 200
        assert await env.run(activities.deliver_webhook, delivery) is None
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.headers["x-jsc-delivery"] == second.headers["x-jsc-delivery"]  # a retry
    for got in receiver.received:
        assert got.path == "/hooks/jsc" and got.headers["x-jsc-event"] == "approved"
        timestamp = got.headers["x-jsc-timestamp"]
        assert abs(int(timestamp) - time.time()) < 60
        assert verify(secret, timestamp, got.body, got.headers["x-jsc-signature"])
        assert not verify("another-secret", timestamp, got.body, got.headers["x-jsc-signature"])
        assert not verify(secret, timestamp, got.body + b" ", got.headers["x-jsc-signature"])
    body = json.loads(second.body)
    assert body["event"] == "approved" and body["request_id"] == sent.request_id
    assert body["actor"] == "jane@example.com" and body["comment"] == "ship it"
    assert body["text"].startswith(
        ":white_check_mark: jane@example.com approved request “Create stream orders”"
    )
    assert f"https://console.example/?request={sent.request_id}" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    # another event of the same request to the same webhook is another delivery
    with Receiver() as receiver:
        other = await _webhook(db_sessions, cipher, org.id, receiver.url, [], secret=secret)
        for kind in ("approved", "executed"):
            await env.run(
                activities.deliver_webhook,
                WebhookDelivery(webhook_id=other, event=sent.model_copy(update={"event": kind})),
            )
    ids = {r.headers["x-jsc-delivery"] for r in receiver.received}
    assert len(ids) == 2 and first.headers["x-jsc-delivery"] not in ids


async def test_unreachable_receiver_raises(activities, db_sessions, cipher, org):
    hook = await _webhook(db_sessions, cipher, org.id, closed_port_url(), [])
    with pytest.raises(ApplicationError, match="could not be reached"):
        await ActivityEnvironment().run(
            activities.deliver_webhook, WebhookDelivery(webhook_id=hook, event=event(org))
        )


async def test_a_secret_sealed_with_another_key_is_not_retried(activities, db_sessions, org):
    hook = await _webhook(
        db_sessions, Cipher(Cipher.generate_key()), org.id, "http://127.0.0.1:9/x", []
    )
    with pytest.raises(ApplicationError, match="cannot be decrypted") as refused:
        await ActivityEnvironment().run(
            activities.deliver_webhook, WebhookDelivery(webhook_id=hook, event=event(org))
        )
    assert refused.value.non_retryable


async def test_disabled_deleted_or_foreign_webhooks_are_skipped(
    activities, db_sessions, cipher, org
):
    env = ActivityEnvironment()
    with Receiver() as receiver:
        disabled = await _webhook(db_sessions, cipher, org.id, receiver.url, [], enabled=False)
        unsubscribed = await _webhook(db_sessions, cipher, org.id, receiver.url, ["failed"])
        foreign = await _webhook(db_sessions, cipher, org.other_id, receiver.url, [])
        deleted = await _webhook(db_sessions, cipher, org.id, receiver.url, [])
        async with db_sessions() as db, db.begin():
            await db.delete(await db.get(Webhook, uuid.UUID(deleted)))
        for hook in (disabled, unsubscribed, foreign, deleted, "not-an-id"):
            await env.run(
                activities.deliver_webhook,
                WebhookDelivery(webhook_id=hook, event=event(org, "created")),
            )
        assert receiver.received == []
        live = await _webhook(db_sessions, cipher, org.id, receiver.url, [])
        await env.run(
            activities.deliver_webhook,
            WebhookDelivery(webhook_id=live, event=event(org, "created")),
        )
        assert len(receiver.received) == 1  # the receiver was listening all along

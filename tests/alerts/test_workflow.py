"""The evaluation workflow on the real Temporal: a pass run directly (its history replays with the
current code, and is recorded with JSC_RECORD_HISTORIES=1 as ``alert_evaluation.json``), the
schedule the API keeps, and activities retried without notifying twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from nats.js.api import AckPolicy, ConsumerConfig
from temporalio.testing import ActivityEnvironment

from activities.alerts import AlertActivities
from activities.notifications import NotificationActivities
from core.alerts.events import AlertEvent, EvaluationInput, EvaluationResult, WebhookDelivery
from core.alerts.schedule import SCHEDULE_ID
from core.db.base import make_engine, make_sessionmaker
from core.events import EventPublisher
from core.notify import inbox
from core.security import Cipher
from tests.fixtures import unique
from tests.waiting import wait_until, wait_until_async
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


async def lagging(alerting, hub_nc) -> tuple[dict, str]:
    """A consumer_lag rule over a consumer that does not ack 10 messages, measured as firing."""
    js = hub_nc.jetstream()
    name = unique("WF").upper().replace("-", "_")
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    await js.add_consumer(
        name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
    )
    for i in range(10):
        await js.publish(f"{name}.x", f"{i}".encode())
    rule = alerting.rule(
        kind="consumer_lag", stream=name, consumer="worker", threshold=5, **{"for": "0s"}
    )
    await alerting.until_measured(rule, True)
    return rule, name


async def test_an_evaluation_pass_replays(alerting, hub_nc):
    rule, name = await lagging(alerting, hub_nc)
    client = await alerting.temporal()

    async def fired():
        await alerting.collect()
        handle = await client.start_workflow(
            "AlertEvaluationWorkflow",
            EvaluationInput(rule_ids=[rule["id"]]),
            id=unique("alerts-evaluate"),
            task_queue=alerting.stack.settings.task_queue,
            result_type=EvaluationResult,
        )
        result = await handle.result()
        return handle if result.events else None

    handle = await wait_until_async(fired, "a pass that delivers the firing", 60, every=0.5)
    history = await handle.fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    record_new(history, "alert_evaluation.json")
    await hub_nc.jetstream().delete_stream(name)


async def test_the_api_keeps_the_evaluation_schedule(stack, alerting):
    client = await alerting.temporal()
    handle = client.get_schedule_handle(SCHEDULE_ID)
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(
        seconds=stack.settings.alert_interval_s
    )
    assert described.schedule.action.workflow == "AlertEvaluationWorkflow"
    before = described.info.num_actions
    await handle.trigger()

    async def ran():
        info = (await handle.describe()).info
        return info.num_actions > before and info.recent_actions

    await wait_until_async(ran, "the triggered evaluation", 60)


async def test_retried_activities_notify_once(alerting, stack, hub_nc):
    s = stack.settings
    engine = make_engine(s.database_url)
    redis = aioredis.from_url(s.redis_url, decode_responses=True)
    events = await EventPublisher.connect(s.events_nats_url)
    sessions = make_sessionmaker(engine)
    try:
        cipher = Cipher(s.encryption_key.get_secret_value())
        activities = AlertActivities(
            sessions, redis, events, NotificationActivities(sessions, redis, cipher)
        )
        rule = alerting.rule(kind="server_health", threshold=0, **{"for": "0s"})
        event = AlertEvent(
            id=uuid.uuid4(),
            org_id=alerting.org_id,
            rule_id=rule["id"],
            rule_name=rule["name"],
            kind="server_health",
            cluster_id=alerting.cluster["id"],
            severity="warning",
            status="firing",
            transition=1,
            value=1,
            threshold=0,
            message=f"{rule['name']}: the cluster has been unreachable",
            timestamp=datetime.now(UTC),
        )
        env = ActivityEnvironment()
        first = await env.run(activities.alert_publish, event)
        again = await env.run(activities.alert_publish, event)  # a retry
        assert first == again == [alerting.webhook["id"]]
        user_id = (alerting.api.get("/api/v1/auth/me", headers=alerting.headers).json())["id"]
        notes = [
            n
            for n in await redis.lrange(inbox.list_key(user_id), 0, -1)
            if json.loads(n)["id"] == str(event.id)
        ]
        assert len(notes) == 1
        recorded = wait_until(lambda: alerting.events(rule_id=rule["id"]), "the event recorded")
        assert [e["id"] for e in recorded] == [str(event.id)]  # published twice, stored once
        for _ in range(2):
            await env.run(
                activities.deliver_alert_webhook,
                WebhookDelivery(webhook_id=alerting.webhook["id"], event=event),
            )
        posts = alerting.deliveries(str(event.id))
        assert len(posts) == 2 and posts[0]["delivery"] == posts[1]["delivery"]
    finally:
        await events.close()
        await redis.aclose()
        await engine.dispose()

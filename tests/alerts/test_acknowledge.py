"""Acknowledging and snoozing, on the real stack: an acknowledged firing says who and when (in
the events and on the rule), audited, forbidden to viewers, invisible to another organization; a
snoozed rule's events are recorded but nobody is notified; a rule that fires again within its
cooldown is not re-notified; events are pushed on the live stream; a rule's channels choose
where it goes."""

from __future__ import annotations

import json
import uuid

from nats.js.api import AckPolicy, ConsumerConfig

from core.live import subjects
from tests.fixtures import unique, wait_for_audit
from tests.waiting import wait_until, wait_until_async


async def lag_situation(alerting, hub_nc, **rule_fields):
    """(rule, breach, repair) over a fresh stream whose consumer stops acking."""
    js = hub_nc.jetstream()
    name = unique("ACK").upper().replace("-", "_")
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    await js.add_consumer(
        name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
    )
    rule = alerting.rule(
        kind="consumer_lag",
        stream=name,
        consumer="worker",
        threshold=5,
        **{"for": "0s", **rule_fields},
    )

    async def breach():
        for i in range(10):
            await js.publish(f"{name}.x", f"{i}".encode())

    async def repair():
        sub = await js.pull_subscribe_bind("worker", stream=name)
        for msg in await sub.fetch(10, timeout=10):
            await msg.ack_sync()

    return rule, breach, repair


async def test_acknowledging_a_firing(alerting, hub_nc, api, make_member):
    rule, breach, _ = await lag_situation(alerting, hub_nc)
    await breach()
    await alerting.until_measured(rule, True)
    firing = await alerting.transition(rule, "firing")

    viewer, _, _ = await make_member("viewer", org=alerting.org_id)
    denied = api.post(f"/api/v1/alerts/events/{firing['id']}/acknowledge", headers=viewer)
    assert denied.status_code == 403, denied.text
    stranger, _, _ = await make_member("admin", org="new")
    hidden = api.post(f"/api/v1/alerts/events/{firing['id']}/acknowledge", headers=stranger)
    assert hidden.status_code == 404, hidden.text
    assert api.get("/api/v1/alerts/events", headers=stranger).json()["items"] == []

    acked = api.post(f"/api/v1/alerts/events/{firing['id']}/acknowledge", headers=alerting.headers)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_by"] and acked.json()["acknowledged_at"]
    state = api.get(f"/api/v1/alerts/rules/{rule['id']}", headers=alerting.headers).json()["state"]
    assert (
        state["status"] == "firing" and state["acknowledged_by"] == acked.json()["acknowledged_by"]
    )
    wait_for_audit(
        api, alerting.headers, action="alert_event.acknowledge", resource_id=firing["id"]
    )
    wait_until(
        lambda: [
            e for e in alerting.events(rule_id=rule["id"], status="firing") if e["acknowledged_by"]
        ],
        "the acknowledgement in the events",
    )
    again = api.post(f"/api/v1/alerts/rules/{rule['id']}/acknowledge", headers=alerting.headers)
    assert again.status_code == 200 and again.json()["id"] == firing["id"], again.text

    pushed = await alerting.live_nc.jetstream().get_last_msg(
        subjects.STREAM, subjects.alerts(alerting.org_id)
    )
    assert json.loads(pushed.data)["rule_id"] == rule["id"]


async def test_a_snoozed_rule_records_without_notifying(alerting, hub_nc, api):
    rule, breach, _ = await lag_situation(alerting, hub_nc)
    snoozed = api.post(
        f"/api/v1/alerts/rules/{rule['id']}/snooze", headers=alerting.headers, json={"for": "1h"}
    )
    assert snoozed.status_code == 200, snoozed.text
    await breach()
    await alerting.until_measured(rule, True)
    firing = await alerting.transition(rule, "firing")
    assert firing["notify"] is False
    result = await alerting.evaluate(rule)  # nothing pending any more
    assert result.events == []
    assert alerting.deliveries(firing["id"]) == []
    notes = api.get("/api/v1/notifications", headers=alerting.headers).json()["items"]
    assert firing["id"] not in [n["id"] for n in notes]


async def test_refiring_within_the_cooldown_is_not_renotified(alerting, hub_nc, api):
    rule, breach, repair = await lag_situation(alerting, hub_nc, cooldown="1h")
    first, _ = await alerting.fires_and_resolves(rule, breach=breach, repair=repair)
    await breach()
    await alerting.until_measured(rule, True)

    async def refired():
        await alerting.collect()
        await alerting.evaluate(rule)
        return [
            e
            for e in alerting.events(rule_id=rule["id"], status="firing")
            if e["id"] != first["id"]
        ]

    again = (await wait_until_async(refired, "the second firing", 60, every=0.5))[0]
    assert again["notify"] is False and again["transition"] == first["transition"] + 2
    assert alerting.deliveries(again["id"]) == []

    # the history: newest first, paged, filtered
    history = alerting.events(rule_id=rule["id"])
    assert [e["transition"] for e in history] == [3, 2, 1]
    page = api.get(
        "/api/v1/alerts/events",
        headers=alerting.headers,
        params={"rule_id": rule["id"], "limit": 2},
    ).json()
    assert [e["transition"] for e in page["items"]] == [3, 2] and page["next_offset"] == 2
    rest = api.get(
        "/api/v1/alerts/events",
        headers=alerting.headers,
        params={"rule_id": rule["id"], "limit": 2, "offset": 2},
    ).json()
    assert [e["transition"] for e in rest["items"]] == [1] and rest["next_offset"] is None
    assert [e["transition"] for e in alerting.events(rule_id=rule["id"], status="resolved")] == [2]
    assert alerting.events(rule_id=rule["id"], cluster_id=str(uuid.uuid4())) == []
    assert [
        e["transition"] for e in alerting.events(rule_id=rule["id"], since=history[0]["timestamp"])
    ] == [3]
    assert [
        e["transition"] for e in alerting.events(rule_id=rule["id"], until=history[1]["timestamp"])
    ] == [2, 1]


async def test_channels_choose_where_an_alert_goes(alerting, hub_nc, api):
    """in_app only: no webhook, though the organization's webhook hears alerts."""
    rule, breach, _ = await lag_situation(alerting, hub_nc, channels=["in_app"])
    await breach()
    await alerting.until_measured(rule, True)
    firing = await alerting.transition(rule, "firing")
    assert alerting.notified(firing)["title"] == firing["message"]
    assert alerting.deliveries(firing["id"]) == []

    silent = api.patch(
        f"/api/v1/webhooks/{alerting.webhook['id']}",
        headers=alerting.headers,
        json={"events": ["created"]},
    )  # no longer hears alerts...
    assert silent.status_code == 200, silent.text
    chosen, breach2, _ = await lag_situation(
        alerting, hub_nc, channels=[f"webhook:{alerting.webhook['id']}"]
    )  # ...but is chosen
    await breach2()
    await alerting.until_measured(chosen, True)
    fired = await alerting.transition(chosen, "firing")
    assert alerting.delivered(fired)[0]["alert"]["rule_id"] == chosen["id"]

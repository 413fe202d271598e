"""Each kind fires and resolves from a situation made on the real servers (the hub), measured from
the samples the real collector takes of it (made-up history samples for rate_anomaly), evaluated
by the workflow on the real Temporal, delivered signed to a local webhook receiver and in-app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, StreamSource

from stack.ports import free_port
from tests.fixtures import register, unique
from tests.waiting import wait_until_async


@pytest.fixture
async def stream(hub_nc):
    """A fresh stream on the hub (deleted at the end): ``(js, name)``."""
    js = hub_nc.jetstream()
    name = unique("ALERTS").upper().replace("-", "_")
    await js.add_stream(name=name, subjects=[f"{name}.>"], max_bytes=10_000)
    yield js, name
    try:
        await js.delete_stream(name)
    except Exception:
        pass


async def test_consumer_lag_fires_while_a_consumer_stops_acking(alerting, stream):
    js, name = stream
    await js.add_consumer(
        name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
    )
    rule = alerting.rule(
        kind="consumer_lag",
        stream=name,
        consumer="worker",
        threshold=5,
        severity="critical",
        **{"for": "0s"},
    )

    async def stop_acking():
        for i in range(10):
            await js.publish(f"{name}.orders", f"o{i}".encode())

    async def catch_up():
        sub = await js.pull_subscribe_bind("worker", stream=name)
        for msg in await sub.fetch(10, timeout=10):
            await msg.ack_sync()

    firing, _ = await alerting.fires_and_resolves(rule, breach=stop_acking, repair=catch_up)
    assert firing["value"] == 10 and firing["severity"] == "critical"
    assert firing["links"]["chart"].startswith("/api/v1/analytics/consumers/worker/lag?")
    assert firing["links"]["consumer"].endswith(f"/streams/{name}/consumers/worker")


async def test_storage_pct_fires_for_a_stream_filled_near_max_bytes(alerting, stream):
    js, name = stream
    rule = alerting.rule(kind="storage_pct", stream=name, threshold=50, **{"for": "0s"})

    async def fill():
        for _ in range(7):
            await js.publish(f"{name}.blob", b"x" * 1000)

    async def purge():
        await js.purge_stream(name)

    firing, resolved = await alerting.fires_and_resolves(rule, breach=fill, repair=purge)
    assert 50 < firing["value"] <= 100 and resolved["value"] == 0


async def test_stream_idle_fires_when_no_message_arrives_for_the_window(alerting, stream):
    js, name = stream
    rule = alerting.rule(kind="stream_idle", stream=name, threshold=0, **{"for": "2s"})

    async def nothing():
        await js.publish(f"{name}.first", b"one")  # then silence

    async def traffic():
        await js.publish(f"{name}.more", b"m")
        await alerting.collect()

    await alerting.fires_and_resolves(rule, breach=nothing, repair=traffic, during_repair=traffic)


async def test_lag_growth_fires_while_the_lag_keeps_growing(alerting, stream):
    js, name = stream
    await js.add_consumer(name, ConsumerConfig(durable_name="slow", ack_policy=AckPolicy.EXPLICIT))
    rule = alerting.rule(
        kind="lag_growth", stream=name, consumer="slow", threshold=3, **{"for": "2s"}
    )

    async def grow():
        for _ in range(2):
            await js.publish(f"{name}.job", b"j")
        await alerting.collect()

    async def drain():
        sub = await js.pull_subscribe_bind("slow", stream=name)
        while True:
            try:
                msgs = await sub.fetch(50, timeout=1)
            except Exception:
                break
            for msg in msgs:
                await msg.ack_sync()

    async def nothing():
        return None

    firing, _ = await alerting.fires_and_resolves(
        rule, breach=nothing, repair=drain, during_breach=grow
    )
    assert firing["value"] >= 3


async def test_mirror_lag_fires_for_a_mirror_that_lost_its_source(alerting, hub_nc):
    js = hub_nc.jetstream()
    source = unique("SRC").upper().replace("-", "_")
    mirror = unique("MIR").upper().replace("-", "_")
    await js.add_stream(name=source, subjects=[f"{source}.>"])
    await js.add_stream(name=mirror, mirror=StreamSource(name=source))
    for _ in range(5):
        await js.publish(f"{source}.x", b"x")

    async def in_sync():
        return (await js.stream_info(mirror)).state.messages == 5

    await wait_until_async(in_sync, "the mirror in sync with its source", 30)
    try:
        rule = alerting.rule(kind="mirror_lag", stream=mirror, threshold=1000, **{"for": "3s"})

        async def stop_source():
            await js.delete_stream(source)

        async def restore_source():
            await js.add_stream(name=source, subjects=[f"{source}.>"])

        async def traffic():  # past the mirror's last sequence, the new source is heard
            for _ in range(3):
                await js.publish(f"{source}.x", b"y")
            await alerting.collect()

        await alerting.fires_and_resolves(
            rule, breach=stop_source, repair=restore_source, during_repair=traffic
        )
    finally:
        for name in (mirror, source):
            try:
                await js.delete_stream(name)
            except Exception:
                pass


async def test_server_health_fires_for_an_unreachable_cluster(alerting, api, stack):
    down = register(api, alerting.headers, f"nats://127.0.0.1:{free_port()}", name=unique("down"))
    rule = alerting.rule(kind="server_health", cluster_id=down["id"], threshold=0, **{"for": "0s"})

    async def nothing():
        return None

    async def bring_back():  # the cluster answers again (its address now the live server's)
        reply = api.patch(
            f"/api/v1/clusters/{down['id']}",
            headers=alerting.headers,
            json={"server_urls": [stack.env["JSC_HUB_URL"]]},
        )
        assert reply.status_code == 200, reply.text

    firing, _ = await alerting.fires_and_resolves(rule, breach=nothing, repair=bring_back)
    assert firing["value"] == 1 and firing["cluster_id"] == down["id"]


async def test_quota_pct_fires_for_a_team_over_its_quota(alerting, api, hub_nc):
    prefix = unique("qa").lower().replace("_", "-") + "-"
    team = api.post(
        "/api/v1/teams",
        headers=alerting.headers,
        json={
            "name": unique("payments"),
            "namespaces": [{"cluster_id": alerting.cluster["id"], "prefix": prefix}],
        },
    )
    assert team.status_code == 201, team.text
    team = team.json()
    limits = api.put(
        f"/api/v1/teams/{team['id']}/quotas",
        headers=alerting.headers,
        json={"limits": {"streams": 2}},
    )
    assert limits.status_code == 200, limits.text
    rule = alerting.rule(
        kind="quota_pct", cluster_id=None, team_id=team["id"], threshold=80, **{"for": "0s"}
    )
    js = hub_nc.jetstream()
    names = [f"{prefix}one", f"{prefix}two"]

    async def over_quota():
        for name in names:
            await js.add_stream(name=name, subjects=[f"{name}.>"])

    async def back_under():
        await js.delete_stream(names[1])

    try:
        firing, resolved = await alerting.fires_and_resolves(
            rule, breach=over_quota, repair=back_under
        )
        assert firing["value"] == 100 and resolved["value"] == 50
        assert firing["links"]["team"] == f"/api/v1/teams/{team['id']}/quotas"
    finally:
        for name in names:
            try:
                await js.delete_stream(name)
            except Exception:
                pass


async def test_rate_anomaly_fires_against_the_same_hour_of_the_previous_week(alerting):
    name = unique("RATE").upper().replace("-", "_")  # samples only: no stream needed
    now = datetime.now(UTC)
    rule = alerting.rule(kind="rate_anomaly", stream=name, threshold=0.5, **{"for": "0s"})

    async def history():
        for days in range(1, 8):
            await alerting.publish_sample(name, now - timedelta(days=days), messages_rate=100.0)

    def current(rate: float):
        async def publish():
            await alerting.publish_sample(name, datetime.now(UTC), messages_rate=rate)

        return publish

    async def nothing():
        return None

    firing, resolved = await alerting.fires_and_resolves(
        rule,
        breach=history,
        repair=nothing,
        during_breach=current(0.0),
        during_repair=current(95.0),
    )
    assert firing["value"] == 1.0 and resolved["value"] == pytest.approx(0.05)


async def test_a_rule_turned_off_while_firing_resolves(alerting, api):
    """Nobody is left with an alert that never ends: turning a firing rule off resolves it (and
    says so), delivered like any resolution."""
    down = register(api, alerting.headers, f"nats://127.0.0.1:{free_port()}", name=unique("off"))
    rule = alerting.rule(kind="server_health", cluster_id=down["id"], threshold=0, **{"for": "0s"})
    await alerting.until_measured(rule, True)
    firing = await alerting.transition(rule, "firing")
    off = api.patch(
        f"/api/v1/alerts/rules/{rule['id']}", headers=alerting.headers, json={"enabled": False}
    )
    assert off.status_code == 200, off.text
    resolved = await alerting.transition(rule, "resolved")
    assert resolved["transition"] == firing["transition"] + 1
    assert alerting.delivered(resolved)[0]["alert"]["status"] == "resolved"
    state = api.get(f"/api/v1/alerts/rules/{rule['id']}", headers=alerting.headers).json()["state"]
    assert state["status"] == "ok" and "turned off" in state["detail"]

"""Samples reach ClickHouse once each, and the analytics routes read them back at the resolution
the range calls for (raw, hourly, daily roll-ups), limited to the caller's organization."""

from __future__ import annotations

import asyncio

from nats.js.api import AckPolicy, ConsumerConfig

from tests.fixtures import unique
from tests.metrics.collecting import org_collector
from tests.waiting import wait_until


async def _traffic(js, name: str, published: int, acked: int) -> None:
    for i in range(published):
        await js.publish(f"{name}.x", f"m{i}".encode())
    sub = await js.pull_subscribe_bind("worker", stream=name)
    for msg in await sub.fetch(acked, timeout=10):
        await msg.ack_sync()


async def test_history_at_every_resolution_and_only_for_its_organization(
    api, stack, tenant, hub_nc, make_member
):
    headers, org_id, cluster = tenant
    cid = cluster["id"]
    name = unique("HIST").upper()
    js = hub_nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    try:
        await js.add_consumer(
            name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
        )
        async with org_collector(stack.settings, org_id) as collector:
            await collector.pass_once()
            await _traffic(js, name, 40, 25)
            await asyncio.sleep(0.05)  # a non-zero interval between the two samples
            await collector.pass_once()
            await collector.pass_once()  # the same sample twice would double the counts below

        def raw():
            reply = api.get(
                "/api/v1/analytics/metrics",
                headers=headers,
                params={
                    "metric": "messages",
                    "cluster_id": cid,
                    "stream": name,
                    "range": "1h",
                    "aggregate": "max",
                },
            )
            assert reply.status_code == 200, reply.text
            points = reply.json()["series"][0]["points"] if reply.json()["series"] else []
            return reply.json() if points and points[-1]["value"] == 40 else None

        found = wait_until(raw, "the samples in ClickHouse", 120)
        assert found["resolution"] == "raw"

        lag = api.get(
            "/api/v1/analytics/consumers/worker/lag",
            headers=headers,
            params={"cluster_id": cid, "stream": name, "range": "1h", "aggregate": "last"},
        ).json()
        assert lag["lag"][-1]["value"] == 15  # 40 published, 25 acknowledged

        # the health score's processing rate: acking stopped after the second pass (the third
        # sample's ack rate is 0 against an hour's average above 0)
        consumer = api.get(
            f"/api/v1/clusters/{cid}/streams/{name}/consumers/worker", headers=headers
        ).json()
        rate = next(p for p in consumer["health"]["components"] if p["name"] == "processing_rate")
        assert rate["value"] == 0.0 and rate["status"] == "critical"

        hourly = api.post(
            "/api/v1/analytics/query",
            headers=headers,
            json={
                "metric": "messages_rate",
                "filters": {"cluster_id": cid, "stream": name},
                "range": "3d",
            },
        ).json()
        assert hourly["resolution"] == "hour" and hourly["series"][0]["points"]
        counted = api.post(
            "/api/v1/analytics/query",
            headers=headers,
            json={
                "metric": "lag",
                "filters": {"cluster_id": cid, "stream": name, "consumer": "worker"},
                "range": "60d",
            },
        ).json()
        assert counted["resolution"] == "day" and counted["series"][0]["points"]
        overview = api.get(
            "/api/v1/analytics/cluster/overview", headers=headers, params={"cluster_id": cid}
        ).json()
        assert (
            any(s["stream"] == name and s["messages"] == 40 for s in overview["top_streams"])
            or overview["streams"]["total"] > 10
        )
        assert (
            any(
                c["consumer"] == "worker" and c["stream"] == name and c["lag"] == 15
                for c in overview["consumers_by_lag"]
            )
            or overview["consumers"]["total"] > 10
        )

        latency = api.get(
            f"/api/v1/analytics/streams/{name}/latency", headers=headers, params={"cluster_id": cid}
        ).json()
        assert latency["consumers"][0]["lag"] == 15

        # another organization: the cluster is not found; its own queries see nothing of it
        other, _, _ = await make_member("admin", org="new")
        reply = api.get(
            "/api/v1/analytics/metrics",
            headers=other,
            params={"metric": "messages", "cluster_id": cid},
        )
        assert reply.status_code == 404
        mine = api.post(
            "/api/v1/analytics/query",
            headers=other,
            json={"metric": "messages", "filters": {"stream": name}, "range": "1h"},
        ).json()
        assert mine["series"] == []
        # a viewer of the organization reads it
        viewer, _, _ = await make_member("viewer", org=org_id)
        assert (
            api.get(
                "/api/v1/analytics/metrics",
                headers=viewer,
                params={"metric": "messages", "cluster_id": cid, "stream": name},
            ).status_code
            == 200
        )
    finally:
        await js.delete_stream(name)


def test_bad_queries_name_the_field(api, admin_headers):
    reply = api.post(
        "/api/v1/analytics/query", headers=admin_headers, json={"metric": "nope", "range": "1h"}
    )
    assert reply.status_code == 422 and "metric" in reply.text
    reply = api.get(
        "/api/v1/analytics/metrics", headers=admin_headers, params={"metric": "lag", "range": "ten"}
    )
    assert reply.status_code == 422 and "range" in reply.text
    reply = api.post(
        "/api/v1/analytics/query",
        headers=admin_headers,
        json={"metric": "connections", "group_by": ["consumer"]},
    )
    assert reply.status_code == 422 and "group_by" in reply.text
    assert api.get("/api/v1/analytics/metrics", params={"metric": "lag"}).status_code == 401

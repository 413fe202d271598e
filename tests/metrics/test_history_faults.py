"""Samples published while the API (which runs the ingester) is down are stored once it is back:
the collector does not need the API, the samples wait in ``JSC_LIVE``, and the ingester's durable
consumer picks up where it acknowledged last. The API is killed (SIGKILL) mid-way."""

from __future__ import annotations

import signal

from tests.fixtures import unique
from tests.metrics.collecting import org_collector
from tests.waiting import wait_until


async def test_samples_made_while_the_api_is_down_are_stored_once_it_is_back(
    api, stack, tenant, hub_nc
):
    headers, org_id, cluster = tenant
    name = unique("DOWN").upper()
    js = hub_nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    try:
        async with org_collector(stack.settings, org_id) as collector:
            await js.publish(f"{name}.x", b"1")
            await collector.pass_once()
            stack.stop_service("api", signal.SIGKILL)
            try:
                for i in range(2, 5):  # three more samples, each with one more message
                    await js.publish(f"{name}.x", str(i).encode())
                    await collector.pass_once()
            finally:
                stack.start_service("api")

        def stored():
            reply = api.post(
                "/api/v1/analytics/query",
                headers=headers,
                json={
                    "metric": "messages",
                    "filters": {"cluster_id": cluster["id"], "stream": name},
                    "range": "1h",
                    "resolution": "raw",
                    "aggregate": "max",
                },
            )
            assert reply.status_code == 200, reply.text
            series = reply.json()["series"]
            return series[0]["points"] if series and series[0]["points"][-1]["value"] == 4 else None

        wait_until(stored, "the samples made while the API was down", 120)
        counted = api.post(
            "/api/v1/analytics/query",
            headers=headers,
            json={
                "metric": "messages_in",
                "filters": {"cluster_id": cluster["id"], "stream": name},
                "range": "1h",
                "aggregate": "sum",
                "resolution": "hour",
            },
        )
        # three samples after the first, one new message each: nothing lost, nothing twice
        assert counted.status_code == 200, counted.text
        assert sum(p["value"] for p in counted.json()["series"][0]["points"]) == 3
    finally:
        await js.delete_stream(name)

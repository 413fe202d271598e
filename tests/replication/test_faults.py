"""Faults: a target cluster that cannot be reached refuses the mirror with 503 and nothing is made;
a worker SIGKILLed while a mirror operation measures the catch-up does not end it (the measuring
activity is retried on the restarted worker, without using up a budget) and the operation still
answers its signals."""

from __future__ import annotations

import signal

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.jetstream.api import JetStreamApi
from tests.fixtures import unique
from tests.replication.conftest import (
    consumer_info,
    exists,
    fill,
    mirror_body,
    mirror_row,
    operation,
    start_mirror,
    target_name,
    wait_operation,
    wait_until,
    wait_until_async,
)


async def test_an_unreachable_target_is_503_and_nothing_is_made(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 3)
    target = target_name(cleanup, dr_nc)
    stack.stop_service("dr")
    try:
        reply = api.post(
            "/api/v1/operations/mirror",
            headers=admin_headers,
            json=mirror_body(hub_cluster, dr_cluster, stream, target),
        )
        assert reply.status_code == 503, reply.text
        assert reply.json()["service"] == "nats"
    finally:
        stack.start_service("dr")
        # the API's connection to dr reconnects on its own, within a second or two
        wait_until(
            lambda: (
                api.get(
                    f"/api/v1/clusters/{dr_cluster['id']}/streams", headers=admin_headers
                ).status_code
                == 200
            ),
            "the API to reach dr again",
        )
    assert await JetStreamApi(hub_nc).consumer_list(stream) == []
    await wait_until_async(lambda: _dr_answers(dr_nc), "dr to answer the tests again")
    assert not await exists(dr_nc, target)
    items = api.get(
        "/api/v1/mirrors", params={"cluster_id": dr_cluster["id"]}, headers=admin_headers
    ).json()["items"]
    assert not [m for m in items if m["target_stream"] == target]


async def _dr_answers(nc) -> bool:
    try:
        await nc.jetstream().account_info()
        return True
    except Exception:
        return False


async def _measuring(client: Client, workflow_id: str):
    """The pending ``mirror_wait`` activity of the workflow (None when there is none)."""
    description = await client.get_workflow_handle(workflow_id).describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name == "mirror_wait":
            return pending
    return None


async def test_a_worker_killed_while_measuring_does_not_end_the_operation(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, cleanup
):
    stream = unique("STUCK").replace("-", "_")
    await hub_nc.jetstream().add_stream(
        name=stream, subjects=[f"{stream}.>"], discard="new", max_bytes=10_000_000
    )
    cleanup(hub_nc, stream)
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 200)
    target = target_name(cleanup, dr_nc)
    # the mirror may hold 2 kB of it: it never catches up, the operation keeps measuring
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, overrides={"max_bytes": 2048}),
    )
    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    first = await wait_until_async(
        lambda: _measuring(client, started["workflow_id"]), "the operation to measure the mirror"
    )
    assert first.attempt == 1

    before = stack.restarts.get("worker", 0)
    stack.kill("worker", signal.SIGKILL)
    wait_until(lambda: stack.restarts.get("worker", 0) == before + 1, "the worker's restart")

    async def retried():
        pending = await _measuring(client, started["workflow_id"])
        return (
            pending
            if pending is not None
            and pending.attempt >= 2
            and pending.last_started_time.ToSeconds() > 0
            else None
        )

    again = await wait_until_async(
        retried, "the measuring to run again on the new worker", timeout=120
    )
    assert again.attempt >= 2
    assert operation(api, admin_headers, started["id"])["status"] == "running"

    assert (
        api.post(f"/api/v1/operations/{started['id']}/cancel", headers=admin_headers).status_code
        == 200
    )
    op = wait_operation(api, admin_headers, started["id"])
    assert op["status"] == "cancelled" and op["result"]["left_in_place"] == [started["mirror_id"]]
    consumer = mirror_row(api, admin_headers, started["mirror_id"])["consumer_name"]
    assert (await consumer_info(hub_nc, stream, consumer))["name"] == consumer

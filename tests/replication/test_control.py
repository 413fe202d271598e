"""Pausing and resuming one mirror's replication (its source consumer), removing it, and the
mirror operation's own pause, resume and cancel: they act on replication itself, and a cancelled
operation leaves its mirrors in place and says so."""

from __future__ import annotations

from core.jetstream.api import JetStreamApi
from tests.fixtures import unique
from tests.replication.conftest import (
    consumer_info,
    exists,
    fill,
    history_of,
    message_count,
    mirror_body,
    mirror_row,
    operation,
    read_stream,
    start_mirror,
    target_name,
    wait_operation,
    wait_until,
    wait_until_async,
)
from tests.workflows.recorded import replay_failure
from workflows.worker import WORKFLOWS


async def _pending_is(hub_nc, stream: str, consumer: str, count: int) -> bool:
    return (await consumer_info(hub_nc, stream, consumer))["num_pending"] == count


async def _count_is(nc, stream: str, count: int) -> bool:
    return await message_count(nc, stream) == count


async def test_pause_holds_replication_and_resume_catches_up(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    js = hub_nc.jetstream()
    await fill(js, [f"{stream}.a"], 10)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target))
    wait_operation(api, admin_headers, started["id"])
    mirror_id = started["mirror_id"]
    consumer = mirror_row(api, admin_headers, mirror_id)["consumer_name"]

    paused = api.post(f"/api/v1/mirrors/{mirror_id}/pause", headers=admin_headers)
    assert paused.status_code == 200 and paused.json()["state"] == "paused", paused.text
    assert (await consumer_info(hub_nc, stream, consumer))["paused"] is True
    await fill(js, [f"{stream}.b"], 15, start=10)
    # the source holds the 15 for the paused consumer; the mirror has not taken any of them
    await wait_until_async(
        lambda: _pending_is(hub_nc, stream, consumer, 15),
        "the paused consumer to hold the new messages",
    )
    assert await message_count(dr_nc, target) == 10

    resumed = api.post(f"/api/v1/mirrors/{mirror_id}/resume", headers=admin_headers)
    assert resumed.status_code == 200 and resumed.json()["state"] == "active", resumed.text
    await wait_until_async(lambda: _count_is(dr_nc, target, 25), "the mirror to catch up")
    assert await read_stream(dr_nc, target) == await read_stream(hub_nc, stream)


async def test_delete_removes_the_stream_then_the_consumer(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 4)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target))
    wait_operation(api, admin_headers, started["id"])
    mirror_id = started["mirror_id"]
    consumer = mirror_row(api, admin_headers, mirror_id)["consumer_name"]

    deleted = api.delete(f"/api/v1/mirrors/{mirror_id}", headers=admin_headers)
    assert deleted.status_code == 204, deleted.text
    assert not await exists(dr_nc, target)
    assert consumer not in [c["name"] for c in await JetStreamApi(hub_nc).consumer_list(stream)]
    assert await message_count(hub_nc, stream) == 4  # the source is untouched
    assert mirror_row(api, admin_headers, mirror_id)["state"] == "removed"
    again = api.delete(f"/api/v1/mirrors/{mirror_id}", headers=admin_headers)
    assert again.status_code == 204, again.text  # what is gone counts as removed
    for action in ("pause", "resume"):
        reply = api.post(f"/api/v1/mirrors/{mirror_id}/{action}", headers=admin_headers)
        assert reply.status_code == 409 and "removed" in reply.json()["detail"], reply.text

    # the name is free again: a new mirror may take it
    again = start_mirror(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target))
    assert wait_operation(api, admin_headers, again["id"])["status"] == "completed"
    assert await message_count(dr_nc, target) == 4


async def test_deleting_the_mirror_as_a_plain_stream_takes_its_consumer_too(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 3)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target))
    wait_operation(api, admin_headers, started["id"])
    consumer = mirror_row(api, admin_headers, started["mirror_id"])["consumer_name"]

    deleted = api.delete(
        f"/api/v1/clusters/{dr_cluster['id']}/streams/{target}", headers=admin_headers
    )
    assert deleted.status_code == 204, deleted.text
    assert not await exists(dr_nc, target)
    assert consumer not in [c["name"] for c in await JetStreamApi(hub_nc).consumer_list(stream)]
    assert mirror_row(api, admin_headers, started["mirror_id"])["state"] == "removed"


async def test_the_operations_pause_resume_and_cancel_act_on_replication(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, cleanup
):
    """A mirror that cannot catch up (it may store 2 kB of a source that holds more, refusing
    the rest) keeps its operation waiting: the operation's signals can be watched at work."""
    stream = unique("STUCK").replace("-", "_")
    await hub_nc.jetstream().add_stream(
        name=stream, subjects=[f"{stream}.>"], discard="new", max_bytes=10_000_000
    )
    cleanup(hub_nc, stream)
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 200)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, overrides={"max_bytes": 2048}),
    )
    op_id, mirror_id = started["id"], started["mirror_id"]
    wait_until(
        lambda: mirror_row(api, admin_headers, mirror_id)["state"] == "active",
        "the mirror to be created",
    )
    consumer = mirror_row(api, admin_headers, mirror_id)["consumer_name"]
    waiting = wait_until(
        lambda: (op := operation(api, admin_headers, op_id))["progress"].get("total") and op,
        "the operation to measure the mirror",
    )
    assert waiting["status"] == "running"
    assert waiting["progress"]["done"] < waiting["progress"]["total"], waiting["progress"]

    assert api.post(f"/api/v1/operations/{op_id}/pause", headers=admin_headers).status_code == 200
    wait_operation(api, admin_headers, op_id, until=("paused",))
    assert (await consumer_info(hub_nc, stream, consumer))["paused"] is True
    assert mirror_row(api, admin_headers, mirror_id)["state"] == "paused"

    assert api.post(f"/api/v1/operations/{op_id}/resume", headers=admin_headers).status_code == 200
    wait_operation(api, admin_headers, op_id, until=("running",))
    assert not (await consumer_info(hub_nc, stream, consumer)).get("paused")
    assert mirror_row(api, admin_headers, mirror_id)["state"] == "active"

    assert api.post(f"/api/v1/operations/{op_id}/cancel", headers=admin_headers).status_code == 200
    op = wait_operation(api, admin_headers, op_id)
    assert op["status"] == "cancelled", op
    result = op["result"]
    assert result["stopped_early"] is True and result["left_in_place"] == [mirror_id]
    assert result["mirrors"][0]["caught_up"] is False
    # the mirror stays, with its consumer
    assert await exists(dr_nc, target)
    assert (await consumer_info(hub_nc, stream, consumer))["name"] == consumer
    assert mirror_row(api, admin_headers, mirror_id)["state"] == "active"

    # a history with pauses, a cancelled measurement and a cancel replays too
    history = await history_of(stack, started["workflow_id"])
    assert await replay_failure(history, WORKFLOWS) is None

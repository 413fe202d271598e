"""Failovers when a cluster dies: an emergency failover with the ``hub`` server stopped (the
console's own event stream lives there too), and a planned failover whose target dies after the
fence, which rolls back: the primary is unfenced and takes writes again."""

from __future__ import annotations

import asyncio
import json
import uuid
from signal import SIGKILL

import pytest
from nats.errors import NoRespondersError
from nats.js.errors import NoStreamResponseError

from core.db.models import DrPair
from core.jetstream.api import JetStreamApi
from core.replication import active_side
from core.replication.mirrors import pause_consumer, resume_consumer
from tests.fixtures import unique, wait_for_audit
from tests.replication.failover_setup import (
    drop_streams,
    make_pair,
    msg_ids,
    read_all,
    signal,
    start_directly,
    start_failover,
    steps_of,
    wait_mirrored,
    wait_operation,
)
from tests.waiting import wait_until_async as until


async def publish(nc, stream: str, prefix: str, count: int) -> None:
    js = nc.jetstream()
    for i in range(count):
        await js.publish(f"{stream}.orders", b"x", headers={"Nats-Msg-Id": f"{prefix}-{i}"})


async def healthy_again(api, hub_nc) -> None:
    """hub's clients are back: the test's own connection and the API (its event stream, its
    ingester: /readyz checks them)."""

    async def connected():
        return hub_nc.is_connected

    async def ready():
        return (await asyncio.to_thread(api.get, "/readyz")).status_code == 200

    await until(connected, "the test's connection to hub")
    await until(ready, "the API to be ready again")


async def test_emergency_failover_with_hub_killed(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    stream = unique("EMERG")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], [stream]
    )
    dr = JetStreamApi(dr_nc, "dr")
    try:
        await publish(hub_nc, stream, "before", 40)
        await wait_mirrored(dr_nc, stream, 40)
        stack.stop_service("hub", SIGKILL)  # killed, not shut down
        try:
            planned = start_failover(
                api,
                admin_headers,
                {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"]},
                expect=409,
            )
            assert "emergency mode" in planned["detail"]  # a planned one needs the primary
            started = start_failover(
                api,
                admin_headers,
                {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "mode": "emergency"},
            )
            op = await wait_operation(api, admin_headers, started["id"], step=("verify", "done"))
            result = op["result"]
            print(
                "emergency, hub down:",
                json.dumps(
                    {
                        k: result.get(k)
                        for k in ("rto_s", "rto_from", "data_loss_messages", "data_at_risk_exact")
                    }
                ),
            )
            assert result["mode"] == "emergency" and result["data_at_risk_exact"] is False
            assert result["data_loss_messages"] in (0, None)  # the mirror's last word, or unknown
            steps = steps_of(op)
            assert steps["fence"] == "skipped" and steps["catch_up"] == "skipped"
            assert steps["promote"] == steps["switch"] == steps["verify"] == "done"
            assert steps["cleanup"] == "running"  # it waits for hub to fence it
            [row] = result["streams"]
            assert row["promoted"] and row["canary_seq"] == 41
            ack = await dr_nc.jetstream().publish(
                f"{stream}.orders", b"on-dr", headers={"Nats-Msg-Id": "after-0"}
            )
            assert ack.stream == stream and ack.seq == 42
            side = await active_side.read(dr, pair.id)
            assert side.active_cluster_id == dr_cluster["id"]
        finally:
            stack.start_service("hub")
        op = await wait_operation(api, admin_headers, started["id"], timeout=180)
        assert op["status"] == "completed", op
        assert steps_of(op)["cleanup"] == "done"
        await healthy_again(api, hub_nc)
        await api_reaches(api, admin_headers, hub_cluster["id"])

        # Back, the old primary was fenced at once and told where clients write now.
        hub = JetStreamApi(hub_nc, "hub")
        old = (await hub.stream_info(stream))["config"]
        assert old["subjects"] == [f"_JSC_FENCED.{stream}"]
        assert old["metadata"]["jsc.fenced_by"] == started["id"]
        with pytest.raises((NoRespondersError, NoStreamResponseError)):
            await hub_nc.jetstream().publish(f"{stream}.orders", b"late", timeout=2)
        assert (await active_side.read(hub, pair.id)).active_cluster_id == dr_cluster["id"]
        assert not [
            c for c in await hub.consumer_list(stream) if c["name"].startswith("jsc_mirror_")
        ]
        ids = msg_ids(await read_all(dr_nc, stream))
        assert ids == [f"before-{i}" for i in range(40)] + ["after-0"]
        async with db_sessions() as db:
            row = await db.get(DrPair, uuid.UUID(pair.id))
            assert str(row.active_cluster_id) == dr_cluster["id"]
            assert row.last_failover["mode"] == "emergency" and row.last_failover["ok"]
        # What was audited while hub (and the console's event stream) was down arrives.
        wait_for_audit(
            api, admin_headers, timeout=90, action="failover.promote", resource_id=started["id"]
        )
        wait_for_audit(
            api, admin_headers, timeout=90, action="failover.cleanup", resource_id=started["id"]
        )
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])


async def test_the_target_dying_after_the_fence_rolls_back(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    stream = unique("ROLL")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], [stream]
    )
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    consumer = (await dr.stream_info(stream))["config"]["mirror"]["consumer"]["name"]
    try:
        await publish(hub_nc, stream, "a", 20)
        await wait_mirrored(dr_nc, stream, 20)
        # Held before its fence, once measured, while replication stops and the primary moves
        # on: the mirror cannot catch up any more.
        op_id = await start_directly(
            stack,
            db_sessions,
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "fence_timeout_s": 10},
            {"hub": hub_nc, "dr": dr_nc},
            start_signal="pause",
        )
        await wait_operation(api, admin_headers, op_id, until=("paused",))
        await pause_consumer(hub, stream, consumer)
        await publish(hub_nc, stream, "b", 5)
        signal(api, admin_headers, op_id, "resume")
        await wait_operation(api, admin_headers, op_id, step=("fence", "done"))
        with pytest.raises((NoRespondersError, NoStreamResponseError)):
            await hub_nc.jetstream().publish(f"{stream}.orders", b"fenced", timeout=2)
        stack.stop_service("dr")  # the target dies mid-way
        try:
            op = await wait_operation(api, admin_headers, op_id, timeout=120)
        finally:
            stack.start_service("dr")
        assert op["status"] == "failed", op
        assert "did not catch up" in op["error"] or "cannot be reached" in op["error"], op
        result = op["result"]
        assert result["rolled_back"] is True
        steps = steps_of(op)
        assert steps["catch_up"] == "failed" and steps["rollback"] == "done"
        assert steps["promote"] == steps["switch"] == "skipped"
        [row] = result["streams"]
        assert row["promoted"] is False and row["unfenced"] is True
        assert row["primary_state"] == "active" and row["standby_state"] in (
            "unreachable",
            "mirror",
        )
        # Unfenced from its own metadata: its subjects back, the marks gone, writes accepted.
        config = (await hub.stream_info(stream))["config"]
        assert config["subjects"] == [f"{stream}.>"]
        assert not {"jsc.fenced_by", "jsc.fenced_subjects"} & set(config.get("metadata") or {})
        ack = await hub_nc.jetstream().publish(f"{stream}.orders", b"again")
        assert ack.seq == 26
        async with db_sessions() as db:
            pair_row = await db.get(DrPair, uuid.UUID(pair.id))
            assert str(pair_row.active_cluster_id) == hub_cluster["id"]
            assert pair_row.last_failover["ok"] is False
            assert pair_row.last_failover["rolled_back"] is True
        # Once dr is back and replication resumed, the mirror (never promoted) catches up.
        await until(lambda: _connected(dr_nc), "the test's connection to dr")
        await resume_consumer(hub, stream, consumer)
        await wait_mirrored(dr_nc, stream, 26, timeout=120)
        assert (await dr.stream_info(stream))["config"].get("mirror")
        wait_for_audit(api, admin_headers, action="failover.rollback", resource_id=op_id)
        await api_reaches(api, admin_headers, dr_cluster["id"])
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])


async def api_reaches(api, headers, cluster_id: str) -> None:
    """The API's own connection to a restarted cluster is back (its reconnection runs on its own
    schedule, after the test's): the next test's failover needs it. ``healthy``, not merely not
    ``unreachable``: ``degraded`` is also what a connection still reconnecting reads."""

    async def reachable():
        reply = await asyncio.to_thread(
            api.get, f"/api/v1/clusters/{cluster_id}/health", headers=headers
        )
        return reply.status_code == 200 and reply.json()["status"] == "healthy"

    await until(reachable, "the API to reach the restarted cluster again")


async def _connected(nc) -> bool:
    return nc.is_connected

"""A drill rehearses the failover on temporary copies and leaves production as it was: the
primary and its mirror have the same configuration and messages before and after, no copy is
left, the active side did not move, and the pair keeps the drill's RTO and RPO."""

from __future__ import annotations

import uuid

from core.db.models import DrPair
from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication import active_side
from tests.fixtures import unique
from tests.replication.failover_setup import (
    drop_streams,
    make_pair,
    start_failover,
    steps_of,
    wait_mirrored,
    wait_operation,
)


async def snapshot(hub: JetStreamApi, dr: JetStreamApi, streams: list[str]) -> dict:
    out = {}
    for stream in streams:
        for side, js in (("hub", hub), ("dr", dr)):
            info = await js.stream_info(stream)
            state = info["state"]
            out[(side, stream)] = (
                info["config"],
                state["messages"],
                state["first_seq"],
                state["last_seq"],
            )
    return out


async def test_a_drill_touches_nothing_and_keeps_its_figures(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    streams = [unique("DRILLA"), unique("DRILLB")]
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], streams
    )
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    js = hub_nc.jetstream()
    try:
        for i in range(60):
            await js.publish(
                f"{streams[i % 2]}.orders", f"{i}".encode(), headers={"Nats-Msg-Id": f"d-{i}"}
            )
        for stream in streams:
            await wait_mirrored(dr_nc, stream, 30)
        before = await snapshot(hub, dr, streams)

        started = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "drill": True},
        )
        op = await wait_operation(api, admin_headers, started["id"])
        assert op["status"] == "completed", op
        result = op["result"]
        assert result["drill"] is True and result["rto_s"] > 0
        assert result["data_loss_messages"] == 0  # the drill's RPO
        assert result["active_cluster_id"] == hub_cluster["id"]
        assert steps_of(op) == {
            "measure": "done",
            "approve": "done",
            "fence": "done",
            "catch_up": "done",
            "promote": "done",
            "switch": "skipped",
            "verify": "done",
            "cleanup": "done",
            "reverse": "skipped",
        }
        short = started["id"].replace("-", "")[:8]
        fence = next(s for s in op["progress"]["steps"] if s["name"] == "fence")
        assert fence["detail"]["fenced"] is False
        assert sorted(fence["detail"]["copies"]) == sorted(f"{s}_drill_{short}" for s in streams)
        for row in result["streams"]:
            assert row["promoted"] and row["lost"] == 0 and row["canary_seq"] > 0, row
            assert row["primary_state"] == "active" and row["standby_state"] == "mirror", row
        promote = next(s for s in op["progress"]["steps"] if s["name"] == "promote")
        for stream in streams:  # the copies took no production subject
            assert promote["detail"][f"{stream}_drill_{short}"] == [
                f"_JSC_DRILL.{short}.{stream}.>"
            ]

        assert await snapshot(hub, dr, streams) == before  # configs and messages, both sides
        left = [
            s["config"]["name"]
            for s in await dr.stream_list()
            if "_drill_" in s["config"]["name"] and s["config"]["name"].startswith(tuple(streams))
        ]
        assert left == []
        for side in (hub, dr):  # the active side was never written
            assert await active_side.read(side, pair.id) is None
        await js.publish(f"{streams[0]}.orders", b"still-primary")  # hub still takes writes

        async with db_sessions() as db:
            row = await db.get(DrPair, uuid.UUID(pair.id))
            assert str(row.active_cluster_id) == hub_cluster["id"] and row.last_failover is None
            drill = row.last_drill
            assert drill["operation_id"] == started["id"] and drill["ok"] is True
            assert drill["rpo_messages"] == 0 and drill["rto_s"] == result["rto_s"]
    finally:
        await drop_streams(hub_nc, streams)
        await drop_streams(dr_nc, streams)


async def test_a_failed_drill_removes_its_copies(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    """The name of a drill's copy is taken by a stream that is not the drill's (the operation id
    is known in advance through its Idempotency-Key): the drill fails at its fence step, rolls
    back what it made, leaves the other stream alone, and production is as it was."""
    stream = unique("DRILLC")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], [stream]
    )
    dr = JetStreamApi(dr_nc, "dr")
    key = str(uuid.uuid4())
    op_id = str(uuid.uuid5(admin_org_id, f"failover:{key}"))
    squatter = f"{stream}_drill_{op_id.replace('-', '')[:8]}"
    try:
        await dr.stream_create({"name": squatter, "subjects": [f"squat-{stream}.>"]})
        reply = api.post(
            "/api/v1/operations/failover",
            headers={**admin_headers, "Idempotency-Key": key},
            json={"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "drill": True},
        )
        assert reply.status_code == 202 and reply.json()["id"] == op_id, reply.text
        op = await wait_operation(api, admin_headers, op_id)
        assert op["status"] == "failed" and "not this drill's copy" in op["error"], op
        steps = steps_of(op)
        assert steps["fence"] == "failed" and steps["rollback"] == "done"
        assert steps["promote"] == "skipped"
        assert (await dr.stream_info(squatter))["config"]["subjects"] == [f"squat-{stream}.>"]
        assert (await dr.stream_info(stream))["config"].get("mirror")
        # The same key names the same operation.
        again = api.post(
            "/api/v1/operations/failover",
            headers={**admin_headers, "Idempotency-Key": key},
            json={"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "drill": True},
        )
        assert again.status_code == 202 and again.json()["id"] == op_id
    finally:
        try:
            await dr.stream_delete(squatter)
        except JetStreamError:
            pass
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])

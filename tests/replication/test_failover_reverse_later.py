"""The reverse after the fact: a pair that failed over without ``reverse`` stays active on its
standby, its old primary fenced; ``POST /operations/failover {pair_id, target_cluster_id: <the
standby, active now>, reverse: true}`` then runs the reverse step alone (steps measure, approve,
reverse; ``input.reverse_only``): the old primary's data is kept aside, its streams become
mirrors of the new primary and the pair's roles are swapped, so failing back is a planned failover
the other way.

The pair is made through the API (its mirrors by the pair's own operation), and a publisher that
follows the pair's key in ``jsc_dr_active`` from the start (nothing else tells it where to write)
keeps writing through the failover, the reverse and the fail-back: every acknowledged message is
on the final primary exactly once, message by message. A reverse alone is refused while its old
primary cannot be reached, is an admin's, and a production pair's waits for approval."""

from __future__ import annotations

import asyncio
from collections import Counter

from core.jetstream.api import JetStreamApi
from core.operations import request_operation_id
from core.replication import active_side
from stack.ports import HOST, free_port
from tests.approvals.setup import production_org
from tests.fixtures import register, unique, wait_for_audit
from tests.replication.conftest import history_of
from tests.replication.conftest import wait_operation as wait_sync
from tests.replication.failover_setup import (
    Follower,
    drop_streams,
    make_pair,
    msg_ids,
    read_all,
    start_failover,
    steps_of,
    wait_mirrored,
    wait_operation,
)
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


async def acked_on(follower: Follower, side: str, more: int) -> None:
    """Until the follower has had ``more`` messages acknowledged by ``side`` than now."""
    start = sum(1 for s in follower.acked.values() if s == side)
    deadline = asyncio.get_running_loop().time() + 120
    while sum(1 for s in follower.acked.values() if s == side) < start + more:
        assert asyncio.get_running_loop().time() < deadline, f"no writes acknowledged by {side}"
        await asyncio.sleep(0.05)


async def test_failover_then_reverse_alone_then_fail_back(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc
):
    hub_id, dr_id = hub_cluster["id"], dr_cluster["id"]
    streams = [unique("LATEA").replace("-", "_"), unique("LATEB").replace("-", "_")]
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    follower, pair = None, None
    try:
        for stream in streams:
            await hub.stream_create(
                {"name": stream, "subjects": [f"{stream}.>"], "duplicate_window": 120 * 10**9}
            )
        made = api.post(
            "/api/v1/dr/pairs",
            headers=admin_headers,
            json={
                "name": unique("late-reverse"),
                "primary_cluster_id": hub_id,
                "standby_cluster_id": dr_id,
                "streams": [{"stream": s} for s in streams],
            },
        )
        assert made.status_code == 201, made.text
        pair = made.json()
        assert pair["announced"] == {hub_id: True, dr_id: True}, pair
        assert wait_sync(api, admin_headers, pair["operation_id"])["status"] == "completed"

        # Told where to write by the pair's key alone: it names hub from the pair's creation.
        follower = await Follower(
            {hub_id: stack.env["JSC_HUB_URL"], dr_id: stack.env["JSC_DR_URL"]},
            stack.env["JSC_HUB_URL"],
            pair["id"],
            streams,
            None,
            rate=150,
        ).start()
        await acked_on(follower, hub_id, 150)

        # 1. hub -> dr without reverse: dr is active, hub fenced and nothing more.
        first = start_failover(
            api, admin_headers, {"pair_id": pair["id"], "target_cluster_id": dr_id}
        )
        op = await wait_operation(api, admin_headers, first["id"])
        assert op["status"] == "completed", op
        assert steps_of(op)["reverse"] == "skipped"
        await acked_on(follower, dr_id, 150)
        acked_on_hub = {m for m, side in follower.acked.items() if side == hub_id}

        # 2. The reverse alone.
        later = start_failover(
            api, admin_headers, {"pair_id": pair["id"], "target_cluster_id": dr_id, "reverse": True}
        )
        op = await wait_operation(api, admin_headers, later["id"])
        assert op["status"] == "completed", op
        assert op["type"] == "failover" and op["input"]["reverse_only"] is True
        assert [s["name"] for s in op["progress"]["steps"]] == ["measure", "approve", "reverse"]
        assert steps_of(op) == {"measure": "done", "approve": "done", "reverse": "done"}
        result = op["result"]
        assert result["reverse_only"] is True and result["active_cluster_id"] == dr_id
        assert (result["primary_cluster_id"], result["standby_cluster_id"]) == (dr_id, hub_id)
        assert result["data_loss_messages"] == 0 and result["rolled_back"] is False
        short = later["id"].replace("-", "")[:8]
        for row in result["streams"]:
            assert row["primary_state"] == "mirror" and row["standby_state"] == "active", row
            assert row["kept_aside"] == f"{row['stream']}_pre_failover_{short}"
        await acked_on(follower, dr_id, 150)  # dr took writes all along

        # hub kept its own data aside, message by message, and mirrors dr now.
        kept_ids = []
        for stream in streams:
            kept = f"{stream}_pre_failover_{short}"
            info = await hub.stream_info(kept)
            assert info["config"]["subjects"] == [f"_JSC_KEPT.{kept}"]
            kept_ids += msg_ids(await read_all(hub_nc, kept))
            mirror = (await hub.stream_info(stream))["config"]["mirror"]
            assert mirror["name"] == stream and mirror["external"]["api"] == "$JS.dr.API"
        assert sorted(kept_ids) == sorted(acked_on_hub)

        swapped = api.get(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers).json()
        assert (
            swapped["primary_cluster_id"],
            swapped["standby_cluster_id"],
            swapped["active_cluster_id"],
        ) == (dr_id, hub_id, dr_id)
        assert swapped["last_failover"]["operation_id"] == first["id"]  # a reverse is no failover
        mirrors = api.get(
            "/api/v1/mirrors", params={"pair_id": pair["id"]}, headers=admin_headers
        ).json()["items"]
        back = [m for m in mirrors if m["target_cluster_id"] == hub_id]
        assert sorted(m["target_stream"] for m in back) == sorted(streams)
        assert {(m["source_cluster_id"], m["state"]) for m in back} == {(dr_id, "active")}
        for side in (hub, dr):  # the active side did not move
            value = await active_side.read(side, pair["id"])
            assert value.active_cluster_id == dr_id and value.epoch == 1
        wait_for_audit(api, admin_headers, action="failover.reverse", resource_id=later["id"])

        # Nothing left to reverse: asked again, refused before anything.
        again = start_failover(
            api,
            admin_headers,
            {"pair_id": pair["id"], "target_cluster_id": dr_id, "reverse": True},
            expect=409,
        )
        assert "Nothing to reverse" in again["detail"], again

        # 3. Fail back: a planned failover the other way (dr -> hub).
        back_op = start_failover(
            api, admin_headers, {"pair_id": pair["id"], "target_cluster_id": hub_id}
        )
        op = await wait_operation(api, admin_headers, back_op["id"])
        assert op["status"] == "completed", op
        assert op["result"]["data_loss_messages"] == 0
        await acked_on(follower, hub_id, 150)
        await follower.stop()
        follower_acked = dict(follower.acked)
        follower = None

        on_hub = []
        for stream in streams:
            on_hub += msg_ids(await read_all(hub_nc, stream))
        twice = [m for m, n in Counter(on_hub).items() if n > 1]
        assert not twice, f"stored twice on the final primary: {twice[:10]}"
        assert set(on_hub) == set(follower_acked), (
            f"lost: {sorted(set(follower_acked) - set(on_hub))[:10]}, "
            f"unexpected: {sorted(set(on_hub) - set(follower_acked))[:10]}"
        )
        assert {side for side in follower_acked.values()} == {hub_id, dr_id}
        for side in (hub, dr):  # created 0, failover 1, fail-back 2
            value = await active_side.read(side, pair["id"])
            assert value.active_cluster_id == hub_id and value.epoch == 2
    finally:
        if follower is not None:
            await follower.stop()
        if pair is not None:
            api.delete(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers)
        await drop_streams(hub_nc, streams)
        await drop_streams(dr_nc, streams)


def reverse_alone(pair_id: str, target_id: str) -> dict:
    return {"pair_id": pair_id, "target_cluster_id": target_id, "reverse": True}


async def test_a_reverse_alone_needs_its_old_primary(
    api, admin_headers, stack, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id, make_member
):
    """The old primary is a registration of the hub server of its own; pointed at a port where
    nothing listens, it cannot be reached: the reverse is refused and nothing changes; pointed
    back at hub, the same request runs. Only an admin may ask for it."""
    old = register(
        api, admin_headers, stack.env["JSC_HUB_URL"], name=unique("old-primary"), domain="hub"
    )
    stream = unique("LATEC")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, old["id"], dr_cluster["id"], [stream]
    )
    hub = JetStreamApi(hub_nc, "hub")
    body = reverse_alone(pair.id, dr_cluster["id"])
    try:
        for i in range(5):
            await hub_nc.jetstream().publish(
                f"{stream}.orders", b"x", headers={"Nats-Msg-Id": f"c-{i}"}
            )
        await wait_mirrored(dr_nc, stream, 5)
        done = start_failover(
            api, admin_headers, {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"]}
        )
        assert (await wait_operation(api, admin_headers, done["id"]))["status"] == "completed"

        for role in ("viewer", "operator", "editor"):
            headers, _, _ = await make_member(role)
            refused = start_failover(api, headers, body, expect=403)
            assert "does not allow failover" in refused["detail"], refused

        moved = api.patch(
            f"/api/v1/clusters/{old['id']}",
            headers=admin_headers,
            json={"server_urls": [f"nats://{HOST}:{free_port()}"]},
        )
        assert moved.status_code == 200, moved.text
        refused = start_failover(api, admin_headers, body, expect=409)
        assert "cannot be reached" in refused["detail"] and refused["reasons"], refused
        still = api.get(f"/api/v1/dr/pairs/{pair.id}", headers=admin_headers).json()
        assert (still["primary_cluster_id"], still["active_cluster_id"]) == (
            old["id"],
            dr_cluster["id"],
        )
        assert (await hub.stream_info(stream))["config"]["subjects"] == [f"_JSC_FENCED.{stream}"]

        back = api.patch(
            f"/api/v1/clusters/{old['id']}",
            headers=admin_headers,
            json={"server_urls": [stack.env["JSC_HUB_URL"]]},
        )
        assert back.status_code == 200, back.text
        started = start_failover(api, admin_headers, body)
        op = await wait_operation(api, admin_headers, started["id"])
        assert op["status"] == "completed", op
        assert steps_of(op) == {"measure": "done", "approve": "done", "reverse": "done"}
        [row] = op["result"]["streams"]
        assert row["kept_messages"] == 5 and row["primary_state"] == "mirror", row
        # Its history replays (committed once as failover_reverse_only.json, tests/workflows).
        history = await history_of(stack, started["workflow_id"])
        assert await replay_failure(history, WORKFLOWS) is None
        record_new(history, "failover_reverse_only.json")
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])
        api.delete(f"/api/v1/dr/pairs/{pair.id}", headers=admin_headers)


async def test_a_production_reverse_alone_waits_for_approval(
    api, stack, hub_nc, dr_nc, db_sessions
):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    made = api.post(
        "/api/v1/clusters",
        headers=org.admin.headers,
        json={
            "name": unique("prod-dr"),
            "environment": "production",
            "server_urls": [stack.env["JSC_DR_URL"]],
            "jetstream_domain": "dr",
        },
    )
    assert made.status_code == 201, made.text
    dr_id = made.json()["id"]
    stream = unique("LATED")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, org.admin.org_id, org.cluster_id, dr_id, [stream]
    )
    second = org.member("admin", "second")
    hub = JetStreamApi(hub_nc, "hub")

    async def approved(pending: dict, kind: str) -> dict:
        assert pending["status"] == "waiting_approval", pending
        assert org.act(second, pending["request_id"], "approve").status_code == 200
        org.wait_status(pending["request_id"], "executed", timeout=60)
        op_id = str(request_operation_id(pending["request_id"], kind))
        return await wait_operation(api, org.admin.headers, op_id)

    try:
        await hub_nc.jetstream().publish(f"{stream}.orders", b"x")
        await wait_mirrored(dr_nc, stream, 1)
        op = await approved(
            start_failover(
                api, org.admin.headers, {"pair_id": pair.id, "target_cluster_id": dr_id}
            ),
            "failover",
        )
        assert op["status"] == "completed" and steps_of(op)["reverse"] == "skipped", op

        pending = start_failover(api, org.admin.headers, reverse_alone(pair.id, dr_id))
        assert pending["title"].startswith("Reverse "), pending
        request = org.request(pending["request_id"])
        assert request["spec"]["kind"] == "failover"
        assert request["spec"]["config"]["reverse_only"] is True
        assert (await hub.stream_info(stream))["config"]["subjects"] == [
            f"_JSC_FENCED.{stream}"
        ]  # nothing done while it waits

        op = await approved(pending, "failover")
        assert op["status"] == "completed", op
        assert op["input"]["reverse_only"] is True
        assert steps_of(op) == {"measure": "done", "approve": "done", "reverse": "done"}
        approve = next(s for s in op["progress"]["steps"] if s["name"] == "approve")
        assert "change request" in approve["detail"]
        mirror = (await hub.stream_info(stream))["config"]["mirror"]
        assert mirror["name"] == stream and mirror["external"]["api"] == "$JS.dr.API"
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])

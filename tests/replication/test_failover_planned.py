"""A planned failover of a DR pair (hub → dr) through the API, under a steady publisher that
follows the active side: fenced, caught up, promoted, announced, verified; every acknowledged
message is on the new primary exactly once, message by message; the old primary is fenced and
keeps its data; the pair and the bucket on both clusters say dr; every step is in the progress
and the audit log."""

from __future__ import annotations

import json
import uuid
from collections import Counter

from sqlalchemy import select

from core.db.models import DrPair, Mirror
from core.jetstream.api import JetStreamApi
from core.notify.webhooks import verify
from core.replication.active_side import BUCKET
from tests.fixtures import unique, wait_for_audit
from tests.replication.failover_setup import (
    Follower,
    drop_streams,
    make_pair,
    msg_ids,
    read_all,
    start_failover,
    steps_of,
    wait_operation,
)
from tests.waiting import wait_until_async
from tests.webhook_receiver import Receiver


async def test_planned_failover_loses_nothing_under_a_steady_publisher(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    streams = [unique("PLANA"), unique("PLANB")]
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], streams
    )
    receiver = Receiver().__enter__()
    hook = api.post(
        "/api/v1/webhooks",
        headers=admin_headers,
        json={"name": unique("dr-hook"), "url": receiver.url, "events": ["dr.failover"]},
    ).json()
    follower = await Follower(
        {hub_cluster["id"]: stack.env["JSC_HUB_URL"], dr_cluster["id"]: stack.env["JSC_DR_URL"]},
        stack.env["JSC_HUB_URL"],
        pair.id,
        streams,
        hub_cluster["id"],
        rate=200,
    ).start()
    try:

        async def acked_on(cluster_id: str, count: int) -> bool:
            return len([s for s in follower.acked.values() if s == cluster_id]) >= count

        async def acked(count: int) -> bool:
            return len(follower.acked) >= count

        await wait_until_async(
            lambda: acked(300),
            "300 writes acknowledged",  # to hub, steadily
            timeout=120,
            every=0.05,
        )
        started = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "mode": "planned"},
        )
        assert started["status"] == "pending"
        op = await wait_operation(api, admin_headers, started["id"])
        assert op["status"] == "completed", op
        on_dr = len([s for s in follower.acked.values() if s == dr_cluster["id"]])
        await wait_until_async(
            lambda: acked_on(dr_cluster["id"], on_dr + 200),  # it follows dr
            "200 more writes acknowledged by dr",
            timeout=120,
            every=0.05,
        )
    finally:
        await follower.stop()
        api.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin_headers)
        receiver.__exit__()
    try:
        result = op["result"]
        print(
            "planned failover:",
            json.dumps(
                {k: result[k] for k in ("rto_s", "rto_from", "data_loss_messages", "announced")}
            ),
            "refused publishes:",
            follower.refused,
        )
        assert result["mode"] == "planned" and result["rolled_back"] is False
        assert result["active_cluster_id"] == dr_cluster["id"]
        assert result["data_loss_messages"] == 0 and result["rto_s"] > 0
        assert steps_of(op) == {
            "measure": "done",
            "approve": "done",
            "fence": "done",
            "catch_up": "done",
            "promote": "done",
            "switch": "done",
            "verify": "done",
            "cleanup": "done",
            "reverse": "skipped",
        }
        for row in result["streams"]:
            assert row["promoted"] and row["lost"] == 0 and row["canary_seq"] > 0, row
            assert row["primary_state"] == "fenced" and row["standby_state"] == "active", row

        # Message by message: every acknowledged message exactly once on the new primary; the
        # old primary holds exactly what it acknowledged before the fence, also on dr.
        acked_hub = {m for m, side in follower.acked.items() if side == hub_cluster["id"]}
        assert acked_hub and len(acked_hub) < len(follower.acked)
        on_new, on_old = [], []
        for stream in streams:
            new = await read_all(dr_nc, stream)
            old = await read_all(hub_nc, stream)
            on_new += msg_ids(new)
            on_old += msg_ids(old)
            assert [m.metadata.sequence.stream for m in old] == [
                m.metadata.sequence.stream for m in new
            ][: len(old)]  # same sequences
        duplicated = [m for m, n in Counter(on_new).items() if n > 1]
        assert not duplicated, f"stored twice on the new primary: {duplicated[:10]}"
        assert set(on_new) == set(follower.acked), (
            f"lost: {sorted(set(follower.acked) - set(on_new))[:10]}, "
            f"unexpected: {sorted(set(on_new) - set(follower.acked))[:10]}"
        )
        assert set(on_old) == acked_hub and len(on_old) == len(acked_hub)
        assert follower.refused > 0  # the fence refused it until it moved

        # The old primary is fenced, its own subjects kept in its metadata; the promoted streams
        # take them; the mirror consumers on hub are gone.
        hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
        for stream in streams:
            old = (await hub.stream_info(stream))["config"]
            assert old["subjects"] == [f"_JSC_FENCED.{stream}"]
            assert json.loads(old["metadata"]["jsc.fenced_subjects"]) == [f"{stream}.>"]
            assert old["metadata"]["jsc.fenced_by"] == started["id"]
            new = (await dr.stream_info(stream))["config"]
            assert new["subjects"] == [f"{stream}.>"] and "mirror" not in new
            assert new["duplicate_window"] == 120 * 10**9
            assert not [
                c["name"]
                for c in await hub.consumer_list(stream)
                if c["name"].startswith("jsc_mirror_")
            ]

        # The active side, on both clusters, and the pair's row.
        for nc in (hub_nc, dr_nc):
            kv = await nc.jetstream().key_value(BUCKET)
            side = json.loads((await kv.get(pair.id)).value)
            assert side["active_cluster_id"] == dr_cluster["id"] and side["active_domain"] == "dr"
            assert side["streams"] == streams and side["epoch"] == 1
        async with db_sessions() as db:
            row = await db.get(DrPair, uuid.UUID(pair.id))
            assert str(row.active_cluster_id) == dr_cluster["id"]
            assert row.last_failover["operation_id"] == started["id"]
            assert row.last_failover["ok"] is True and row.last_failover["data_loss_messages"] == 0
            states = set(await db.scalars(select(Mirror.state).where(Mirror.pair_id == row.id)))
            assert states == {"promoted"}

        # Announced through the organization's webhook, signed like every event.
        assert result["announced"] == {hook["id"]: "delivered"}
        [got] = receiver.received
        assert got.headers["x-jsc-event"] == "dr.failover"
        assert verify(
            hook["secret"],
            got.headers["x-jsc-timestamp"],
            got.body,
            got.headers["x-jsc-signature"],
            max_age_s=300,
        )
        told = json.loads(got.body)
        assert told["event"] == "dr.failover" and told["pair_id"] == pair.id
        assert told["active_cluster_id"] == dr_cluster["id"] and told["streams"] == streams
        assert told["operation_id"] == started["id"] and "failed over to" in told["text"]

        for step in ("measure", "fence", "catch_up", "promote", "switch", "verify"):
            wait_for_audit(api, admin_headers, action=f"failover.{step}", resource_id=started["id"])

        # A second failover of the same pair is refused: it is active on dr already.
        again = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"]},
            expect=409,
        )
        assert "active on the target already" in again["detail"]
    finally:
        await drop_streams(hub_nc, streams)
        await drop_streams(dr_nc, streams)


async def test_a_target_that_is_no_mirror_is_refused_before_anything(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc
):
    """Pairless: the streams on the primary and no mirror of one of them on the target: 409,
    nothing fenced."""
    mirrored, lonely = unique("REFA"), unique("REFB")
    hub = JetStreamApi(hub_nc, "hub")
    try:
        await hub.stream_create({"name": lonely, "subjects": [f"{lonely}.>"]})
        refused = start_failover(
            api,
            admin_headers,
            {
                "primary_cluster_id": hub_cluster["id"],
                "streams": [lonely],
                "target_cluster_id": dr_cluster["id"],
            },
            expect=409,
        )
        assert f"No stream on the target mirrors '{lonely}'" in refused["detail"]
        dr = JetStreamApi(dr_nc, "dr")
        await hub.stream_create({"name": mirrored, "subjects": [f"{mirrored}.>"]})
        await dr.stream_create(
            {
                "name": mirrored,
                "mirror": {
                    "name": mirrored,
                    "filter_subject": f"{mirrored}.a",
                    "external": {"api": "$JS.hub.API", "deliver": ""},
                },
            }
        )
        refused = start_failover(
            api,
            admin_headers,
            {
                "primary_cluster_id": hub_cluster["id"],
                "streams": [mirrored],
                "target_cluster_id": dr_cluster["id"],
            },
            expect=409,
        )
        assert "copies part of the stream" in refused["detail"] and refused["reasons"]
        assert (await hub.stream_info(mirrored))["config"]["subjects"] == [f"{mirrored}.>"]
    finally:
        await drop_streams(hub_nc, [mirrored, lonely])
        await drop_streams(dr_nc, [mirrored, lonely])

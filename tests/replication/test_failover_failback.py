"""Fail-back: a planned failover with ``reverse`` makes the old primary a mirror of the new one,
its old data kept aside (never deleted silently), and swaps the pair's roles; failing back is then
the same operation the other way. Every message written on either side is on the final primary
exactly once."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import select

from core.db.models import DrPair, Mirror
from core.jetstream.api import JetStreamApi
from core.replication import active_side
from tests.fixtures import unique
from tests.replication.failover_setup import (
    drop_streams,
    make_pair,
    msg_ids,
    read_all,
    start_failover,
    steps_of,
    wait_mirrored,
    wait_operation,
)


async def publish(nc, stream: str, prefix: str, count: int) -> None:
    js = nc.jetstream()
    for i in range(count):
        await js.publish(
            f"{stream}.orders", f"{prefix}{i}".encode(), headers={"Nats-Msg-Id": f"{prefix}-{i}"}
        )


async def test_reverse_then_fail_back(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    stream = unique("BACK")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], [stream]
    )
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    try:
        await publish(hub_nc, stream, "a", 30)
        await wait_mirrored(dr_nc, stream, 30)

        # hub -> dr, reversed: hub keeps its data aside and mirrors dr.
        first = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "reverse": True},
        )
        op = await wait_operation(api, admin_headers, first["id"])
        assert op["status"] == "completed", op
        assert steps_of(op)["reverse"] == "done"
        kept = f"{stream}_pre_failover_{first['id'].replace('-', '')[:8]}"
        kept_info = await hub.stream_info(kept)
        assert kept_info["state"]["messages"] == 30
        assert kept_info["config"]["subjects"] == [f"_JSC_KEPT.{kept}"]
        assert msg_ids(await read_all(hub_nc, kept)) == [f"a-{i}" for i in range(30)]
        mirror = (await hub.stream_info(stream))["config"]["mirror"]
        assert mirror["name"] == stream and mirror["external"]["api"] == "$JS.dr.API"
        async with db_sessions() as db:
            row = await db.get(DrPair, uuid.UUID(pair.id))
            assert (
                str(row.primary_cluster_id),
                str(row.standby_cluster_id),
                str(row.active_cluster_id),
            ) == (dr_cluster["id"], hub_cluster["id"], dr_cluster["id"])
            back = await db.scalar(
                select(Mirror).where(
                    Mirror.target_cluster_id == uuid.UUID(hub_cluster["id"]),
                    Mirror.target_stream == stream,
                )
            )
            assert back.state == "active" and str(back.source_cluster_id) == dr_cluster["id"]
            assert back.pair_id == row.id

        await publish(dr_nc, stream, "b", 20)  # written on dr, mirrored back to hub
        last = (await dr.stream_info(stream))["state"]["last_seq"]
        await wait_mirrored(hub_nc, stream, last)

        # dr -> hub, reversed: the same operation the other way.
        second = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": hub_cluster["id"], "reverse": True},
        )
        op = await wait_operation(api, admin_headers, second["id"])
        assert op["status"] == "completed", op
        assert op["result"]["data_loss_messages"] == 0
        final = msg_ids(await read_all(hub_nc, stream))
        assert Counter(final) == Counter(
            [f"a-{i}" for i in range(30)] + [f"b-{i}" for i in range(20)]
        )
        kept_on_dr = f"{stream}_pre_failover_{second['id'].replace('-', '')[:8]}"
        assert (await dr.stream_info(kept_on_dr))["state"]["messages"] >= 50
        assert (await dr.stream_info(stream))["config"]["mirror"]["external"][
            "api"
        ] == "$JS.hub.API"
        assert (await hub.stream_info(kept))["state"]["messages"] == 30  # still kept
        async with db_sessions() as db:
            row = await db.get(DrPair, uuid.UUID(pair.id))
            assert (str(row.primary_cluster_id), str(row.active_cluster_id)) == (
                hub_cluster["id"],
                hub_cluster["id"],
            )
        for side in (hub, dr):
            value = await active_side.read(side, pair.id)
            assert value.active_cluster_id == hub_cluster["id"] and value.epoch == 2
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])

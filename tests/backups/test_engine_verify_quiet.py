"""Verifying a backup never delivers its messages on the target cluster: a hub stream with a push
consumer (deliver group included) and a pull consumer, backed up (a full and an incremental) into
the dr cluster's object store while a standby application on dr listens on the push consumer's
deliver subject. The verification restores the consumers (counted, state as backed up) yet the
listener receives nothing, during or after it; a verification-style restore shows the push
consumer redirected to a private subject; a real restore keeps the consumer's configuration
exactly, and then the listener does receive (which proves it would have seen a leak)."""

from __future__ import annotations

import uuid

from core.backups.chain import resolve_chain
from core.backups.restore import restore_chain
from core.backups.steps import VerifyInput
from core.backups.targets import open_target
from tests.backups.conftest import delete_quietly, fill, make_stream, stream_name
from tests.backups.test_engine_restore import _backup, _fixed
from tests.waiting import wait_until_async

PUSH_FIELDS = (
    "durable_name",
    "ack_policy",
    "deliver_policy",
    "filter_subject",
    "max_deliver",
    "ack_wait",
    "max_ack_pending",
    "description",
)


async def _consumers_made(hub_nc, hub_js, name: str, deliver: str) -> None:
    """The push consumer ``pusher`` (delivered 100, acked up to 40) and the pull consumer
    ``puller`` (25 acked)."""
    await hub_js.consumer_create(
        name,
        {
            "durable_name": "pusher",
            "ack_policy": "explicit",
            "deliver_subject": deliver,
            "deliver_group": "standby",
            "max_deliver": 5,
            "description": "feeds the standby",
        },
    )
    await hub_js.consumer_create(name, {"durable_name": "puller", "ack_policy": "explicit"})
    got = []

    async def on_msg(msg):
        got.append(msg)
        if len(got) <= 40:
            await msg.ack()

    sub = await hub_nc.subscribe(deliver, queue="standby", cb=on_msg)

    async def delivered_and_acked():
        info = await hub_js.consumer_info(name, "pusher")
        return len(got) >= 100 and info["ack_floor"]["stream_seq"] == 40

    await wait_until_async(delivered_and_acked, "the push consumer delivered 100, acked 40")
    await sub.unsubscribe()
    pull = await hub_nc.jetstream().pull_subscribe_bind("puller", name)
    for msg in (await pull.fetch(25, timeout=10))[:25]:
        await msg.ack_sync()


async def test_verification_restores_push_consumers_without_delivering_on_the_target(
    data_activities,
    db_sessions,
    admin_org_id,
    hub_cluster,
    dr_cluster,
    hub_nc,
    hub_js,
    dr_nc,
    dr_js,
):
    name = stream_name()
    deliver = f"deliver.{name.lower()}"
    bucket = f"jsc-test-{uuid.uuid4().hex[:6]}"
    target = {"type": "object_store", "cluster_id": dr_cluster["id"], "bucket": bucket}
    quiet_copy, real_copy = stream_name("QUIET"), stream_name("REAL")
    received: list = []

    async def standby(msg):
        received.append(msg.reply)  # $JS.ACK.<stream>.<consumer>...: who delivered it

    # the standby application on dr, listening before anything is backed up or verified
    listeners = [
        await dr_nc.subscribe(deliver, cb=standby),
        await dr_nc.subscribe(deliver, queue="standby", cb=standby),
    ]
    await dr_nc.flush()
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 100)
        await _consumers_made(hub_nc, hub_js, name, deliver)
        full_id, full_item, full = await _backup(
            data_activities, db_sessions, admin_org_id, hub_cluster["id"], target, name
        )
        assert full.consumers == 2
        await fill(hub_nc, name.lower(), 50, start=100)
        inc_id, _, inc = await _backup(
            data_activities,
            db_sessions,
            admin_org_id,
            hub_cluster["id"],
            target,
            name,
            "incremental",
            full_item,
        )
        assert (inc.kind, inc.first_seq, inc.last_seq) == ("incremental", 101, 150)

        for backup_id in (full_id, inc_id):
            verdict = await data_activities.backup_verify(
                VerifyInput(
                    operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=backup_id
                )
            )
            details = verdict.details["streams"][name]
            assert verdict.status == "verified", verdict.details
            assert details["restored"]["consumers"] == 2 and not details.get("problems")
            await dr_nc.flush()  # whatever dr delivered to this connection has arrived
            assert received == [], f"the verification of {backup_id} delivered on dr"
        assert details["chain"] == [full_id, inc_id]
        assert not [
            s for s in await dr_js.stream_list() if s["config"]["name"].startswith("JSC_VERIFY_")
        ]

        async with db_sessions() as db:
            links = await resolve_chain(db, admin_org_id, inc_id, name)
        store = await open_target(target, admin_org_id, jetstream=_fixed(dr_js))
        source = await hub_js.consumer_info(name, "pusher")
        try:
            await restore_chain(dr_js, store, links, quiet_copy, subjects=[], quiet_consumers=True)
            quiet = await dr_js.consumer_info(quiet_copy, "pusher")
            assert quiet["config"]["deliver_subject"].startswith("_JSC_VERIFY.")
            assert quiet["config"]["deliver_subject"].endswith(".pusher")
            assert "deliver_group" not in quiet["config"]
            assert {k: quiet["config"].get(k) for k in PUSH_FIELDS} == {
                k: source["config"].get(k) for k in PUSH_FIELDS
            }
            assert quiet["ack_floor"]["stream_seq"] == 40
            assert quiet["delivered"]["stream_seq"] == 100
            puller = await dr_js.consumer_info(quiet_copy, "puller")
            assert puller["ack_floor"]["consumer_seq"] == 25
            assert "deliver_subject" not in puller["config"]
            await dr_nc.flush()
            assert received == []
            await delete_quietly(dr_js, quiet_copy)

            # a real restore: the consumer exactly as backed up, delivering to the standby
            await restore_chain(dr_js, store, links, real_copy, subjects=[])
            real = await dr_js.consumer_info(real_copy, "pusher")
            assert real["config"]["deliver_subject"] == deliver
            assert real["config"]["deliver_group"] == "standby"
            assert {k: real["config"].get(k) for k in PUSH_FIELDS} == {
                k: source["config"].get(k) for k in PUSH_FIELDS
            }
            assert real["ack_floor"]["stream_seq"] == 40

            async def delivered():
                return received

            await wait_until_async(delivered, "the really restored push consumer delivering")
            assert all(f".{real_copy}.pusher." in reply for reply in received), received[:3]
        finally:
            await store.close()
    finally:
        for listener in listeners:
            await listener.unsubscribe()
        await delete_quietly(hub_js, name)
        await delete_quietly(dr_js, quiet_copy, real_copy, f"OBJ_{bucket}")

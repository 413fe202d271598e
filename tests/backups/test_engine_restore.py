"""The engine end to end on the real stack, through its activities called directly over real
backup rows: a full backup of a hub stream into the dr cluster's object store restores under
another name with the same messages (sequences and gaps, subjects, raw headers, payloads,
timestamps), state and consumers (configuration and ack floors); a chain of a full and two
incrementals with deletions in between restores to its newest point with exact sequences, to a
middle point and to a point in time; a damaged chunk fails the verification, naming the chunk,
and is refused by a restore that then leaves nothing behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from core.backups.reader import time_ns
from core.backups.steps import ItemInput, RestoreInput, VerifyInput
from core.backups.targets import open_target
from tests.backups.conftest import (
    delete_quietly,
    exact,
    fill,
    make_backup,
    make_stream,
    stream_name,
)

CONSUMER_FIELDS = (
    "durable_name",
    "ack_policy",
    "filter_subject",
    "max_deliver",
    "description",
    "ack_wait",
    "deliver_policy",
    "max_ack_pending",
)


async def _backup(acts, db_sessions, org_id, cluster_id, target, stream, kind="full", base=None):
    backup_id, items = await make_backup(
        db_sessions, org_id, cluster_id, target, {stream: kind}, {stream: base} if base else None
    )
    result = await acts.backup_item(
        ItemInput(
            operation_id=str(uuid.uuid4()),
            org_id=str(org_id),
            backup_id=backup_id,
            item_id=items[stream],
        )
    )
    return backup_id, items[stream], result


async def _restore(acts, org_id, backup_id, stream, cluster_id, name, **extra):
    return await acts.backup_restore(
        RestoreInput(
            operation_id=str(uuid.uuid4()),
            org_id=str(org_id),
            backup_id=backup_id,
            stream=stream,
            cluster_id=str(cluster_id),
            stream_name=name,
            subjects=[],
            **extra,
        )
    )


async def test_full_backup_to_dr_object_store_restores_exactly(
    data_activities, db_sessions, admin_org_id, hub_cluster, dr_cluster, hub_nc, hub_js, dr_js
):
    name, copy = stream_name(), stream_name("COPY")
    await make_stream(hub_js, name)
    await fill(hub_nc, name.lower(), 600, size=700)
    await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": 17})  # a gap
    await hub_js.consumer_create(
        name,
        {
            "durable_name": "worker",
            "ack_policy": "explicit",
            "filter_subject": f"{name.lower()}.1",
            "max_deliver": 5,
            "description": "acks some",
        },
    )
    await hub_js.consumer_create(
        name, {"durable_name": "idle", "ack_policy": "explicit", "deliver_policy": "last"}
    )
    sub = await hub_nc.jetstream().pull_subscribe_bind("worker", name)
    for msg in (await sub.fetch(40, timeout=10))[:25]:
        await msg.ack_sync()
    bucket = f"jsc-test-{uuid.uuid4().hex[:6]}"
    target = {"type": "object_store", "cluster_id": dr_cluster["id"], "bucket": bucket}
    try:
        backup_id, item_id, item = await _backup(
            data_activities, db_sessions, admin_org_id, hub_cluster["id"], target, name
        )
        assert (item.kind, item.messages, item.first_seq, item.last_seq, item.consumers) == (
            "full",
            599,
            1,
            600,
            2,
        )
        assert item.chunks >= 1 and item.stored_bytes > 0
        stored = await (await open_target(target, admin_org_id, jetstream=_fixed(dr_js))).keys("")
        assert stored == [
            f"{admin_org_id}/{backup_id}/{name}/1/{n:08d}" for n in range(item.chunks)
        ]

        verdict = await data_activities.backup_verify(
            VerifyInput(
                operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=backup_id
            )
        )
        assert verdict.status == "verified", verdict.details
        assert verdict.details["cluster_id"] == dr_cluster["id"]
        assert verdict.details["streams"][name]["compared"]["messages"] == 599
        assert not [
            s for s in await dr_js.stream_list() if s["config"]["name"].startswith("JSC_VERIFY_")
        ]

        restored = await _restore(
            data_activities, admin_org_id, backup_id, name, hub_cluster["id"], copy
        )
        assert (restored.messages, restored.first_seq, restored.last_seq) == (599, 1, 600)
        assert restored.consumers == ["idle", "worker"] and restored.chain == [backup_id]
        assert await exact(hub_js, copy, 600) == await exact(hub_js, name, 600)
        src, dst = (
            (await hub_js.stream_info(name))["state"],
            (await hub_js.stream_info(copy))["state"],
        )
        for field in ("messages", "bytes", "first_seq", "last_seq", "num_deleted", "first_ts"):
            assert src[field] == dst[field], field
        for consumer in ("worker", "idle"):
            a = await hub_js.consumer_info(name, consumer)
            b = await hub_js.consumer_info(copy, consumer)
            assert {k: a["config"].get(k) for k in CONSUMER_FIELDS} == {
                k: b["config"].get(k) for k in CONSUMER_FIELDS
            }
            assert a["ack_floor"]["stream_seq"] == b["ack_floor"]["stream_seq"]
            assert a["ack_floor"]["consumer_seq"] == b["ack_floor"]["consumer_seq"]
        worker = await hub_js.consumer_info(copy, "worker")
        assert worker["ack_floor"]["consumer_seq"] == 25
        config = (await hub_js.stream_info(copy))["config"]
        assert config["metadata"]["jsc.restore.backup"] == backup_id
        assert config["subjects"] == [copy]  # [] given: the server's default
    finally:
        await delete_quietly(hub_js, name, copy)
        await delete_quietly(dr_js, f"OBJ_{bucket}")


def _at(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _ns(when: datetime) -> int:
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def _fixed(js):
    async def get(_cluster_id):
        return js

    return get


async def test_incremental_chain_restores_newest_middle_and_point_in_time(
    data_activities, db_sessions, admin_org_id, hub_cluster, hub_nc, hub_js
):
    name = stream_name()
    subject = name.lower()
    target = {"type": "directory", "directory": f"chain-{uuid.uuid4().hex[:6]}"}
    restored_names = []
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, subject, 300)
        full_id, full_item, full = await _backup(
            data_activities, db_sessions, admin_org_id, hub_cluster["id"], target, name
        )
        expected = await exact(hub_js, name, full.last_seq)

        for seq in (5, 150, 299):  # deleted after the full: the chain still holds them
            await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": seq})
        await fill(hub_nc, subject, 200, start=300)
        await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": 320})  # a gap in the increment
        inc1_id, inc1_item, inc1 = await _backup(
            data_activities,
            db_sessions,
            admin_org_id,
            hub_cluster["id"],
            target,
            name,
            "incremental",
            full_item,
        )
        assert (inc1.kind, inc1.first_seq, inc1.last_seq, inc1.messages) == (
            "incremental",
            301,
            500,
            199,
        )
        expected.update(await exact(hub_js, name, 500))
        middle = dict(expected)
        cut_time = max(m[3] for m in expected.values())

        await fill(hub_nc, subject, 100, start=500)
        await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": 550})
        await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": 600})  # the last one
        inc2_id, _, inc2 = await _backup(
            data_activities,
            db_sessions,
            admin_org_id,
            hub_cluster["id"],
            target,
            name,
            "incremental",
            inc1_item,
        )
        assert (inc2.first_seq, inc2.last_seq, inc2.messages) == (501, 600, 98)
        expected.update({s: m for s, m in (await exact(hub_js, name, 600)).items() if s > 500})

        verdict = await data_activities.backup_verify(
            VerifyInput(operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=inc2_id)
        )
        assert verdict.status == "verified", verdict.details
        assert verdict.details["streams"][name]["chain"] == [full_id, inc1_id, inc2_id]

        newest = stream_name("NEWEST")
        restored_names.append(newest)
        result = await _restore(
            data_activities, admin_org_id, inc2_id, name, hub_cluster["id"], newest
        )
        assert (result.first_seq, result.last_seq, result.chain) == (
            1,
            600,
            [full_id, inc1_id, inc2_id],
        )
        got = await exact(hub_js, newest, 600)
        assert sorted(got) == sorted(expected) and got == expected
        assert 320 not in got and 550 not in got and 5 in got

        mid = stream_name("MIDDLE")
        restored_names.append(mid)
        result = await _restore(
            data_activities, admin_org_id, inc1_id, name, hub_cluster["id"], mid
        )
        assert result.last_seq == 500 and await exact(hub_js, mid, 600) == middle

        at = stream_name("AT")
        restored_names.append(at)
        until = _at(time_ns(cut_time) // 1000 + 1)  # the next microsecond (datetime's unit)
        result = await _restore(
            data_activities, admin_org_id, inc2_id, name, hub_cluster["id"], at, until=until
        )
        got = await exact(hub_js, at, 600)
        assert got == {s: m for s, m in expected.items() if time_ns(m[3]) < _ns(until)}
        assert max(got) == 500 and len(got) >= 400

        early = _at(time_ns(expected[10][3]) // 1000)
        with pytest.raises(ApplicationError, match="cannot be cut") as refused:
            await _restore(
                data_activities,
                admin_org_id,
                inc2_id,
                name,
                hub_cluster["id"],
                stream_name("EARLY"),
                until=early,
            )
        assert refused.value.non_retryable
    finally:
        await delete_quietly(hub_js, name, *restored_names)


async def test_damaged_chunk_fails_verification_and_is_never_restored(
    data_activities, db_sessions, admin_org_id, hub_cluster, dr_cluster, hub_nc, hub_js, dr_js
):
    name, copy = stream_name(), stream_name("COPY")
    bucket = f"jsc-test-{uuid.uuid4().hex[:6]}"
    target = {"type": "object_store", "cluster_id": dr_cluster["id"], "bucket": bucket}
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 200)
        backup_id, _, item = await _backup(
            data_activities, db_sessions, admin_org_id, hub_cluster["id"], target, name
        )
        store = await open_target(target, admin_org_id, jetstream=_fixed(dr_js))
        key = f"{admin_org_id}/{backup_id}/{name}/1/00000000"
        good = await store.get(key)
        await store.put(key, good[:-100] + bytes(100))  # the target overwritten behind our back

        verdict = await data_activities.backup_verify(
            VerifyInput(
                operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=backup_id
            )
        )
        assert verdict.status == "failed"
        details = verdict.details["streams"][name]
        assert details["chunk"] == key and "damaged" in details["reason"]
        assert details["expected_sha256"] != details["found_sha256"]
        assert verdict.details["failed"] == [name]
        assert not [
            s for s in await dr_js.stream_list() if s["config"]["name"].startswith("JSC_VERIFY_")
        ]

        with pytest.raises(ApplicationError, match="damaged") as refused:
            await _restore(data_activities, admin_org_id, backup_id, name, hub_cluster["id"], copy)
        assert refused.value.type == "ChunkCorrupted" and refused.value.non_retryable
        assert copy not in [s["config"]["name"] for s in await hub_js.stream_list()]
    finally:
        await delete_quietly(hub_js, name, copy)
        await delete_quietly(dr_js, f"OBJ_{bucket}")

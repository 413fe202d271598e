"""A backup stopped mid-way (the activity cancelled right after its first chunk was recorded, as
a killed worker would leave it) carries on when run again: an incremental item keeps its stored
chunks and continues after the last one's sequence (its progress does not start from zero, its
checksum still covers every message); a full item takes the snapshot again as a new attempt and
the earlier attempt's chunks go, rows and data. A restore that finds the stream an earlier
attempt of its own operation left deletes it and restores again; it never touches a stream that
is not its own."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from core.backups.steps import ItemInput, RestoreInput, VerifyInput
from core.backups.targets import open_target
from core.db.models import BackupChunk, BackupItem
from tests.backups.conftest import delete_quietly, fill, make_backup, make_stream, stream_name


async def _chunks(db_sessions, item_id: str) -> list[tuple[int, int, str, int]]:
    async with db_sessions() as db:
        rows = (
            await db.scalars(
                select(BackupChunk)
                .where(BackupChunk.item_id == uuid.UUID(item_id))
                .order_by(BackupChunk.attempt, BackupChunk.n)
            )
        ).all()
        return [(r.attempt, r.n, r.sha256, r.last_seq) for r in rows]


async def _interrupted(activity, data) -> list[dict]:
    """Run ``activity`` and cancel it at its first heartbeat after a chunk was stored."""
    env, beats = ActivityEnvironment(), []

    def on_heartbeat(details):
        beats.append(details)
        if details.get("done", 0) > 0:
            env.cancel()

    env.on_heartbeat = on_heartbeat
    with pytest.raises(asyncio.CancelledError):
        await env.run(activity, data)
    return beats


async def _completed(activity, data):
    env, beats = ActivityEnvironment(), []
    env.on_heartbeat = beats.append
    return await env.run(activity, data), beats


def _item_input(org_id, backup_id, item_id, total=0):
    return ItemInput(
        operation_id=str(uuid.uuid4()),
        org_id=str(org_id),
        backup_id=backup_id,
        item_id=item_id,
        total=total,
    )


async def test_incremental_backup_resumes_after_its_stored_chunks(
    data_activities, db_sessions, admin_org_id, hub_cluster, hub_nc, hub_js
):
    name = stream_name()
    target = {"type": "directory", "directory": f"resume-{uuid.uuid4().hex[:6]}"}
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 10)
        full_id, full_items = await make_backup(
            db_sessions, admin_org_id, hub_cluster["id"], target, {name: "full"}
        )
        await data_activities.backup_item(_item_input(admin_org_id, full_id, full_items[name]))
        await fill(hub_nc, name.lower(), 30_000, size=1000, start=10, header_every=7)
        inc_id, inc_items = await make_backup(
            db_sessions,
            admin_org_id,
            hub_cluster["id"],
            target,
            {name: "incremental"},
            {name: full_items[name]},
            kind="incremental",
        )
        item_id = inc_items[name]
        data = _item_input(admin_org_id, inc_id, item_id, total=31_000_000)

        await _interrupted(data_activities.backup_item, data)
        first = await _chunks(db_sessions, item_id)
        assert first and all(a == 1 for a, *_ in first)
        async with db_sessions() as db:
            row = await db.get(BackupItem, uuid.UUID(item_id))
            assert row.status == "running" and row.last_seq == 30_010  # the end fixed first

        result, beats = await _completed(data_activities.backup_item, data)
        assert (result.messages, result.first_seq, result.last_seq) == (30_000, 11, 30_010)
        after = await _chunks(db_sessions, item_id)
        assert after[: len(first)] == first  # kept, not copied again
        assert len(after) == result.chunks > len(first)
        assert [n for _, n, *_ in after] == list(range(len(after)))
        assert after[-1][3] == 30_010
        # progress carries on from what was stored: a whole chunk at once, then up to the end
        positive = [b["done"] for b in beats if b["done"]]
        assert positive[0] >= 8_000_000 and positive == sorted(positive)
        assert positive[-1] == result.source_bytes

        verdict = await data_activities.backup_verify(
            VerifyInput(operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=inc_id)
        )
        assert verdict.status == "verified", verdict.details
    finally:
        await delete_quietly(hub_js, name)


async def test_full_backup_starts_a_new_attempt_and_drops_the_old_one(
    data_activities, db_sessions, admin_org_id, hub_cluster, hub_nc, hub_js
):
    name = stream_name()
    target = {"type": "directory", "directory": f"resume-{uuid.uuid4().hex[:6]}"}
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 30_000, size=1000, header_every=0)
        backup_id, items = await make_backup(
            db_sessions, admin_org_id, hub_cluster["id"], target, {name: "full"}
        )
        data = _item_input(admin_org_id, backup_id, items[name])
        await _interrupted(data_activities.backup_item, data)
        assert {a for a, *_ in await _chunks(db_sessions, items[name])} == {1}

        result, _ = await _completed(data_activities.backup_item, data)
        assert result.messages == 30_000 and result.chunks >= 3
        rows = await _chunks(db_sessions, items[name])
        assert {a for a, *_ in rows} == {2} and len(rows) == result.chunks
        store = await open_target(target, admin_org_id, backups_root=data_activities.backups_root)
        keys = await store.keys(f"{admin_org_id}/{backup_id}/")
        assert keys and all(f"/{name}/2/" in k for k in keys)

        again, _ = await _completed(data_activities.backup_item, data)  # done: never redone
        assert again == result and await _chunks(db_sessions, items[name]) == rows
        verdict = await data_activities.backup_verify(
            VerifyInput(
                operation_id=str(uuid.uuid4()), org_id=str(admin_org_id), backup_id=backup_id
            )
        )
        assert verdict.status == "verified", verdict.details
    finally:
        await delete_quietly(hub_js, name)


async def test_restore_retry_replaces_only_its_own_half_restored_stream(
    data_activities, db_sessions, admin_org_id, hub_cluster, hub_nc, hub_js
):
    name, copy = stream_name(), stream_name("COPY")
    target = {"type": "directory", "directory": f"retry-{uuid.uuid4().hex[:6]}"}
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 500)
        backup_id, items = await make_backup(
            db_sessions, admin_org_id, hub_cluster["id"], target, {name: "full"}
        )
        await data_activities.backup_item(_item_input(admin_org_id, backup_id, items[name]))
        operation = str(uuid.uuid4())
        # what a worker killed mid-restore leaves: the stream, marked as this operation's
        await hub_js.stream_create(
            {"name": copy, "subjects": [copy], "metadata": {"jsc.restore.operation": operation}}
        )
        data = RestoreInput(
            operation_id=operation,
            org_id=str(admin_org_id),
            backup_id=backup_id,
            stream=name,
            cluster_id=hub_cluster["id"],
            stream_name=copy,
            subjects=[],
        )
        result = await data_activities.backup_restore(data)
        assert (result.messages, result.last_seq) == (500, 500)

        other = data.model_copy(update={"operation_id": str(uuid.uuid4())})
        with pytest.raises(ApplicationError, match="exists") as refused:
            await data_activities.backup_restore(other)
        assert refused.value.non_retryable
        assert (await hub_js.stream_info(copy))["state"]["messages"] == 500
    finally:
        await delete_quietly(hub_js, name, copy)

"""A worker SIGKILLed in the middle of a backup, and in the middle of a restore, is restarted and
the operation carries on and finishes: the backup completes and verifies, the restore holds
every message of the source. The stream is large enough (incompressible 1 KiB payloads, several
stored chunks) that the kill lands after the first chunk was stored (a chunk row exists) and
before the last, and during the restore once it is planned (streaming the chain into the server)."""

from __future__ import annotations

import os
import uuid
from signal import SIGKILL

import pytest
from sqlalchemy import func, select

from core.db.models import BackupChunk, BackupItem
from tests.backups.api_helpers import Streams, backup_org, wait_until, wait_until_async

MESSAGES = 40_000  # ~40 MiB of incompressible payloads: many stored chunks


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


async def big_stream(hub_nc, streams: Streams) -> str:
    name = await streams.make("bkfault")
    for i in range(MESSAGES):
        await hub_nc.publish(f"{name}.s{i % 3}", os.urandom(1024))
        if i % 2000 == 1999:
            await hub_nc.flush()
    await hub_nc.flush()
    js = hub_nc.jetstream()
    await wait_until_async(lambda: _count(js, name), f"{MESSAGES} messages in {name}", timeout=120)
    return name


async def _count(js, name: str) -> bool:
    return (await js.stream_info(name)).state.messages == MESSAGES


async def chunks_of(db_sessions, backup_id: str) -> int:
    async with db_sessions() as db:
        return await db.scalar(
            select(func.count())
            .select_from(BackupChunk)
            .join(BackupItem, BackupItem.id == BackupChunk.item_id)
            .where(BackupItem.backup_id == uuid.UUID(backup_id))
        )


def kill_worker(stack) -> None:
    stack.stop_service("worker", SIGKILL)
    stack.start_service("worker")


async def test_a_worker_killed_mid_backup_and_mid_restore_resumes(
    api, stack, hub_nc, streams, db_sessions
):
    org = backup_org(api, stack)
    stream = await big_stream(hub_nc, streams)

    started = org.backup([stream])
    assert started.status_code == 202, started.text
    backup_id = started.json()["backup_id"]
    await wait_until_async(lambda: chunks_of(db_sessions, backup_id), "a stored chunk", every=0.05)
    assert org.read_backup(backup_id)["status"] == "running"  # killed mid-way, not after
    kill_worker(stack)
    op = org.wait_operation(started.json()["id"], timeout=600)
    assert op["status"] == "completed", op
    backup = org.read_backup(backup_id)
    assert backup["status"] == "completed" and backup["message_count"] == MESSAGES
    assert backup["streams"][0]["last_seq"] == MESSAGES
    assert backup["verification"]["status"] == "verified", backup["verification"]
    async with db_sessions() as db:  # a snapshot cannot be continued: it was taken again
        attempt = await db.scalar(
            select(BackupItem.attempt).where(BackupItem.backup_id == uuid.UUID(backup_id))
        )
    assert attempt >= 2, attempt

    restored = streams.track(f"{stream}_back")
    begun = org.restore(backup_id, restored, to={"subjects": []})
    assert begun.status_code == 202, begun.text
    # the restore is planned (its total known): the chain is being streamed into the server
    now = wait_until(
        lambda: (
            (op := org.operation(begun.json()["id"]))["status"] != "pending"
            and (op["progress"].get("total") or 0) > 0
            and op
        ),
        "the restore to be under way",
        every=0.02,
    )
    assert now["status"] == "running", now
    kill_worker(stack)
    op = org.wait_operation(begun.json()["id"], timeout=600)
    assert op["status"] == "completed", op
    info = await hub_nc.jetstream().stream_info(restored)
    assert (info.state.messages, info.state.first_seq, info.state.last_seq) == (
        MESSAGES,
        1,
        MESSAGES,
    )
    source = await hub_nc.jetstream().stream_info(stream)
    assert info.state.bytes == source.state.bytes

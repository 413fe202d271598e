"""A corrupted chunk is found, reported and never restored silently: one chunk object of a
backup is overwritten in the dr object store; verifying the backup again reports it (the
backup's ``verification`` is ``failed`` with details), and a restore of it is refused (409)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from core.db.models import BackupChunk, BackupItem
from tests.backups.api_helpers import Streams, backup_org


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


async def test_a_corrupted_chunk_fails_verification_and_the_restore_is_refused(
    api, stack, hub_nc, dr_nc, streams, db_sessions
):
    org = backup_org(api, stack)
    stream = await streams.make(count=200)
    _, backup = org.backup_done([stream])
    assert backup["verification"]["status"] == "verified", backup["verification"]

    async with db_sessions() as db:
        keys = list(
            await db.scalars(
                select(BackupChunk.key)
                .join(BackupItem, BackupItem.id == BackupChunk.item_id)
                .where(
                    BackupItem.backup_id == uuid.UUID(backup["id"]),
                    BackupChunk.attempt == BackupItem.attempt,
                )
                .order_by(BackupChunk.n)
            )
        )
    assert keys and all(k.startswith(f"{org.admin.org_id}/{backup['id']}/") for k in keys)
    store = await dr_nc.jetstream().object_store("jsc-backups")
    await store.put(keys[0], b"not what was stored")

    verify = api.post(f"/api/v1/backups/{backup['id']}/verify", headers=org.headers)
    assert verify.status_code == 202, verify.text
    op = org.wait_operation(verify.json()["id"])
    assert op["status"] == "completed" and op["type"] == "backup_verify", op
    checked = org.read_backup(backup["id"])
    verification = checked["verification"]
    assert verification["status"] == "failed", verification
    assert verification["checked_at"] and verification["details"], verification
    assert checked["status"] == "completed"  # the backup stands; its verification says why

    refused = org.restore(backup["id"], streams.track(f"{stream}_back"), to={"subjects": []})
    assert refused.status_code == 409, refused.text
    assert "verify it again or choose another backup" in refused.json()["detail"]
    info = await hub_nc.jetstream().stream_info(stream)
    assert info.state.messages == 200

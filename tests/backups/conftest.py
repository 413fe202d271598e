"""Shared helpers of the backup tests: JetStream APIs on the stack's two servers, streams made and
filled with raw headers (repeated names kept), exact reads of a stream (``STREAM.MSG.GET``:
subject, raw headers, payload, timestamp with its nanoseconds), the engine's activities over the
stack's PostgreSQL, and backup rows made as the service would."""

from __future__ import annotations

import base64
import os
import uuid

import pytest

from activities.backup_data import BackupDataActivities
from core.db.models import Backup, BackupItem
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool
from core.security import Cipher
from tests.waiting import wait_until_async


def stream_name(prefix: str = "BK") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def hub_js(hub_nc) -> JetStreamApi:
    return JetStreamApi(hub_nc, timeout=30)


@pytest.fixture(scope="session")
def dr_js(dr_nc) -> JetStreamApi:
    return JetStreamApi(dr_nc, timeout=30)


async def hpub(nc, subject: str, payload: bytes, header: bytes | None = None) -> None:
    """Publish with these exact header bytes (nats-py's dict would merge repeated names)."""
    if header:
        await nc._send_command(
            f"HPUB {subject} {len(header)} {len(header) + len(payload)}\r\n".encode()
            + header
            + payload
            + b"\r\n"
        )
    else:
        await nc.publish(subject, payload)


async def fill(
    nc, subject: str, count: int, size: int = 256, start: int = 0, header_every: int = 3
) -> None:
    """``count`` messages of ``size`` random bytes on ``<subject>.<n>``; every
    ``header_every``-th with repeated header names. Returns once the stream stored them all."""
    js = JetStreamApi(nc, timeout=30)
    [stream] = await js.stream_list(f"{subject}.0")
    before = int(stream["state"]["last_seq"])
    for i in range(start, start + count):
        header = (
            f"NATS/1.0\r\nX-N: {i}\r\nX-N: again\r\nX-Odd:  spaced \r\n\r\n".encode()
            if header_every and i % header_every == 0
            else None
        )
        await hpub(nc, f"{subject}.{i % 4}", os.urandom(size), header)
    await nc.flush()

    async def stored():
        info = await js.stream_info(stream["config"]["name"])
        return int(info["state"]["last_seq"]) >= before + count

    await wait_until_async(stored, f"{count} messages stored on {subject}")


async def make_stream(js: JetStreamApi, name: str, **config) -> dict:
    return await js.stream_create(
        {
            "name": name,
            "subjects": [f"{name.lower()}.>"],
            "storage": "file",
            "num_replicas": 1,
            **config,
        }
    )


async def exact(js: JetStreamApi, stream: str, last_seq: int) -> dict[int, tuple]:
    """seq -> (subject, raw headers, payload, time) of every message up to ``last_seq``."""
    found: dict[int, tuple] = {}
    seq = 1
    while seq <= last_seq:
        try:
            reply = await js.request(f"STREAM.MSG.GET.{stream}", {"seq": seq, "next_by_subj": ">"})
        except JetStreamError as exc:
            if exc.code == 404:
                break
            raise
        m = reply["message"]
        if m["seq"] > last_seq:
            break
        found[m["seq"]] = (
            m["subject"],
            base64.b64decode(m.get("hdrs") or ""),
            base64.b64decode(m.get("data") or ""),
            m["time"],
        )
        seq = m["seq"] + 1
    return found


async def delete_quietly(js: JetStreamApi, *streams: str) -> None:
    for name in streams:
        try:
            await js.stream_delete(name)
        except Exception:
            pass


@pytest.fixture(scope="session")
async def data_activities(stack, db_sessions):
    pool = ClusterPool(request_timeout=30)
    yield BackupDataActivities(
        db_sessions,
        Cipher(stack.settings.encryption_key.get_secret_value()),
        pool,
        None,
        backups_root=stack.settings.backups_root,
    )
    await pool.close()


async def make_backup(
    db_sessions,
    org_id,
    cluster_id,
    target: dict,
    streams: dict[str, str],
    bases: dict[str, str] | None = None,
    kind: str = "full",
) -> tuple[str, dict]:
    """A running backup of ``streams`` ({stream: item kind}) with its items, as the service
    prepares one; (backup id, {stream: item id})."""
    async with db_sessions() as db, db.begin():
        backup = Backup(
            org_id=org_id,
            cluster_id=uuid.UUID(str(cluster_id)),
            kind=kind,
            reason="manual",
            target=target,
            status="running",
            stream_count=len(streams),
            verification={"status": "pending"},
        )
        db.add(backup)
        await db.flush()
        items = {}
        for stream, item_kind in streams.items():
            item = BackupItem(
                backup_id=backup.id,
                stream=stream,
                kind=item_kind,
                base_item_id=uuid.UUID(bases[stream]) if bases and stream in bases else None,
            )
            db.add(item)
            await db.flush()
            items[stream] = str(item.id)
    return str(backup.id), items

"""Benchmark: back up, verify and restore a stream of 1 KB messages (1 GB by default) through the
backup engine's activities, beside a plain nats-py object-store put and get of the same number of
bytes, in the same run.

1. a file stream on the hub filled with ``--mb`` MB of 1 KB messages (random payloads);
2. plain nats-py: ``object_store.put`` of that many bytes into a bucket on the dr cluster, then
   ``get`` into a ``BytesIO`` (the reference; nats-py's ``get`` without ``writeinto`` grows a
   bytes object chunk by chunk, quadratic: about 2 MB/s for 200 MB), and the same with the
   console's own object-store client (``core.jetstream.objects``);
3. ``backup_item``: the server's snapshot of the stream into the dr cluster's object store
   (``jsc-backups``), then ``backup_verify`` (restored into a temporary stream on dr, checksums
   read on both sides), then ``backup_restore`` into a new stream on the hub.

It prints MB/s of each (MB of the stream's stored bytes, 10^6) and the ratios backup/put and
restore/get (target ≥ 0.7).

    .venv/bin/python bench/backup.py [--mb 1000]

It starts its own stack (free ports, a temporary data dir) and never runs in the test suite. The
activities run in this process over the stack's PostgreSQL, as the worker would run them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import nats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.backup_data import BackupDataActivities  # noqa: E402
from core.backups.steps import ItemInput, RestoreInput, VerifyInput  # noqa: E402
from core.db.base import make_engine, make_sessionmaker  # noqa: E402
from core.db.models import Backup, BackupItem  # noqa: E402
from core.jetstream.api import JetStreamApi  # noqa: E402
from core.jetstream.pool import ClusterPool  # noqa: E402
from core.security import Cipher  # noqa: E402
from stack.launcher import Stack  # noqa: E402

PASSWORD = "bench-Pass-1234"
STREAM, COPY = "BENCH_BACKUP", "BENCH_RESTORED"


async def fill(nc, mb: int) -> dict:
    js = JetStreamApi(nc, timeout=60)
    await js.stream_create(
        {
            "name": STREAM,
            "subjects": ["bench.backup.>"],
            "storage": "file",
            "num_replicas": 1,
            "max_msg_size": -1,
        }
    )
    count = mb * 1000
    for i in range(count):
        await nc.publish(f"bench.backup.{i % 16}", os.urandom(1000))
        if i % 20_000 == 0:
            await nc.flush()
    await nc.flush()
    while True:
        info = await js.stream_info(STREAM)
        if info["state"]["messages"] >= count:
            return info
        await asyncio.sleep(0.2)


async def reference(dr_nc, size: int) -> tuple[float, float]:
    """Seconds of a plain nats-py object-store put and get of ``size`` bytes on dr."""
    js = dr_nc.jetstream()
    store = await js.create_object_store("bench-reference")
    data = os.urandom(1024 * 1024) * (size // (1024 * 1024) + 1)
    data = data[:size]
    started = time.perf_counter()
    await store.put("blob", data)
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    # into a file-like: nats-py's own bytes result grows by concatenation (quadratic, ~2 MB/s)
    sink = io.BytesIO()
    await store.get("blob", writeinto=sink)
    get_s = time.perf_counter() - started
    assert sink.tell() == size
    await js.delete_object_store("bench-reference")
    return put_s, get_s


async def console_reference(dr_nc, size: int) -> tuple[float, float]:
    """The same with the console's own object-store client (core.jetstream.objects)."""
    from core.jetstream.objects import ObjectStore, ObjectStoreConfig, create_store

    js = JetStreamApi(dr_nc, timeout=60)
    await create_store(js, ObjectStoreConfig(bucket="bench-console"))
    store = await ObjectStore.open(js, "bench-console")
    block = os.urandom(1024 * 1024)

    async def source():
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)

    started = time.perf_counter()
    info, _ = await store.put("blob", source(), chunk_size=256 * 1024)
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    got = 0
    async for piece in store.read(info):
        got += len(piece)
    get_s = time.perf_counter() - started
    assert got == size
    await js.stream_delete("OBJ_bench-console")
    return put_s, get_s


async def main(args) -> None:
    # the pool in this process judges the local clusters' URLs as the stack's processes do
    os.environ.setdefault("JSC_ALLOWED_CLUSTER_NETWORKS", "127.0.0.0/8,::1/128")
    data_dir = Path(tempfile.mkdtemp(prefix="jsc-bench-"))
    stack = Stack(
        data_dir,
        ui=False,
        demo=False,
        auto_ports=True,
        env_overrides={"JSC_ADMIN_PASSWORD": PASSWORD, "JSC_ACCESS_TOKEN_TTL_S": "86400"},
    )
    stack.start()
    engine = make_engine(stack.env["JSC_DATABASE_URL"])
    pool = ClusterPool(request_timeout=30)
    try:
        hub_nc = await nats.connect(stack.env["JSC_HUB_URL"], pending_size=256 * 1024 * 1024)
        dr_nc = await nats.connect(stack.env["JSC_DR_URL"])
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
            login = await api.post(
                "/api/v1/auth/login", json={"email": stack.admin_email, "password": PASSWORD}
            )
            login.raise_for_status()
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            org_id = (await api.get("/api/v1/auth/me", headers=admin)).json()["organization"]["id"]
            ids = {}
            for side in ("hub", "dr"):
                made = await api.post(
                    "/api/v1/clusters",
                    headers=admin,
                    json={
                        "name": side,
                        "environment": "development",
                        "server_urls": [stack.env[f"JSC_{side.upper()}_URL"]],
                        "jetstream_domain": side,
                    },
                )
                made.raise_for_status()
                ids[side] = made.json()["id"]

        started = time.perf_counter()
        info = await fill(hub_nc, args.mb)
        size = int(info["state"]["bytes"])
        mb = size / 1e6
        print(
            f"stream: {info['state']['messages']:,} messages, {mb:,.0f} MB stored "
            f"(filled in {time.perf_counter() - started:.1f} s)"
        )

        put_s, get_s = await reference(dr_nc, size)
        print(f"nats-py object store (dr): put {mb / put_s:,.0f} MB/s, get {mb / get_s:,.0f} MB/s")
        cput_s, cget_s = await console_reference(dr_nc, size)
        print(
            f"console object store (dr): put {mb / cput_s:,.0f} MB/s, get {mb / cget_s:,.0f} MB/s"
        )

        sessions = make_sessionmaker(engine)
        acts = BackupDataActivities(
            sessions, Cipher(stack.settings.encryption_key.get_secret_value()), pool
        )
        async with sessions() as db, db.begin():
            backup = Backup(
                org_id=uuid.UUID(org_id),
                cluster_id=uuid.UUID(ids["hub"]),
                kind="full",
                reason="manual",
                status="running",
                stream_count=1,
                target={"type": "object_store", "cluster_id": ids["dr"], "bucket": "jsc-backups"},
            )
            db.add(backup)
            await db.flush()
            item = BackupItem(backup_id=backup.id, stream=STREAM, kind="full")
            db.add(item)
            await db.flush()
            backup_id, item_id = str(backup.id), str(item.id)
        op = str(uuid.uuid4())

        started = time.perf_counter()
        result = await acts.backup_item(
            ItemInput(operation_id=op, org_id=org_id, backup_id=backup_id, item_id=item_id)
        )
        backup_s = time.perf_counter() - started
        print(
            f"backup:  {mb / backup_s:,.0f} MB/s ({backup_s:.1f} s; {result.chunks} chunks, "
            f"{result.stored_bytes / 1e6:,.0f} MB stored)"
        )

        started = time.perf_counter()
        verdict = await acts.backup_verify(
            VerifyInput(operation_id=op, org_id=org_id, backup_id=backup_id)
        )
        verify_s = time.perf_counter() - started
        print(f"verify:  {mb / verify_s:,.0f} MB/s ({verify_s:.1f} s; {verdict.status})")

        started = time.perf_counter()
        restored = await acts.backup_restore(
            RestoreInput(
                operation_id=op,
                org_id=org_id,
                backup_id=backup_id,
                stream=STREAM,
                cluster_id=ids["hub"],
                stream_name=COPY,
                subjects=[],
            )
        )
        restore_s = time.perf_counter() - started
        print(
            f"restore: {mb / restore_s:,.0f} MB/s ({restore_s:.1f} s; "
            f"{restored.messages:,} messages)"
        )
        print(
            f"ratios:  backup/put {put_s / backup_s:.2f}, restore/get {get_s / restore_s:.2f} "
            "(nats-py; target ≥ 0.7); against the console's client: backup/put "
            f"{cput_s / backup_s:.2f}, restore/get {cget_s / restore_s:.2f}"
        )
        await hub_nc.close()
        await dr_nc.close()
    finally:
        await pool.close()
        await engine.dispose()
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1000, help="MB of 1 KB messages (default 1000)")
    asyncio.run(main(parser.parse_args()))

"""The backups' data path as Temporal activities: copy one stream of a backup to its target
(``backup_item``), verify a backup by restoring it into a temporary stream (``backup_verify``),
restore a chain into a stream (``backup_restore``), and remove backups' data from their targets
(``backup_delete_data``). Inputs and results: ``core.backups.steps``.

Each survives a worker killed mid-way, when Temporal runs it again:

- ``backup_item`` writes a chunk's row only once the target holds the chunk, so the rows are
  what is stored. An incremental item carries on after the last stored chunk's ``last_seq`` (the
  checksum is fed the stored chunks again first), towards the same last sequence as the first
  attempt (recorded before copying). A server snapshot cannot be continued: a full item's
  ``attempt`` is bumped, the snapshot taken again into keys of the new attempt, and the earlier
  attempts' chunks are deleted. An item already done is never copied again.
- ``backup_restore`` marks the stream it creates (metadata ``jsc.restore.operation``); a retry
  deletes a stream with its own operation's mark (a half-restored one) and restores again, and
  refuses any other existing stream (never one that was there before: when replacing, the
  service deletes the old stream after backing it up, before this runs).
- ``backup_verify`` always removes its temporary stream, and records its verdict on the backup.

Progress heartbeats ``{"done", "total"}`` (bytes over the whole operation: ``done_before`` plus
this step's) every ``HEARTBEAT_S`` seconds and after every chunk: the workflows' heartbeat
timeout must be well above it (30 s).

Refusals no retry can fix are non-retryable ``ApplicationError`` s (type ``NotFound``,
``ClusterNotFound``, ``ChunkMissing``, ``ChunkCorrupted``, ``Refused``); anything else (a cluster
unreachable, the server aborting a snapshot) is raised for Temporal to retry. With Redis, the
attempts failing in a row for the same step are counted and, after ``MAX_FAILED_ATTEMPTS``,
the step fails for good with the last error (type ``BackupFailed``).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.attempts import counted, refused
from activities.backup_progress import Progress, heartbeat
from core.backups.chain import ChainBroken, ChainLink, resolve_chain
from core.backups.checksum import MessageChecksum
from core.backups.incremental import incremental_chunks, replay_chunk
from core.backups.keys import attempt_prefix, backup_prefix, chunk_key
from core.backups.restore import RestoreFailed, RestoreRefused, restore_chain
from core.backups.snapshot import Snapshot
from core.backups.steps import (
    DeleteDataInput,
    ItemInput,
    ItemResult,
    RestoreInput,
    RestoreResult,
    Verification,
    VerifyInput,
)
from core.backups.targets import (
    BackupTarget,
    ChunkCorrupted,
    ChunkMissing,
    TargetRefused,
    open_target,
    target_cluster_id,
)
from core.backups.verify import source_checksum, verify_stream
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import Backup, BackupChunk, BackupItem
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool
from core.security import Cipher

RESTORE_MARK = "jsc.restore.operation"
RESTORED_FROM = "jsc.restore.backup"
T = TypeVar("T")
REFUSALS = {
    ChunkMissing: None,
    ChunkCorrupted: None,
    ChainBroken: "Refused",
    RestoreRefused: "Refused",
}


def _now() -> datetime:
    return datetime.now(UTC)


class BackupDataActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        redis: Redis | None = None,
        backups_root: Path | None = None,
    ):
        self.sessions, self.cipher, self.pool, self.redis = sessions, cipher, pool, redis
        self.backups_root = backups_root

    # --- plumbing -------------------------------------------------------------------------------
    async def _js(self, org_id: str, cluster_id: str) -> JetStreamApi:
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(org_id), uuid.UUID(str(cluster_id)))
            except ClusterNotFound:
                raise refused(
                    f"the cluster {cluster_id} is no longer registered", "ClusterNotFound"
                ) from None
        js = await self.pool.jetstream(endpoint(self.cipher, cluster))
        # large chunks and slow disks: the data path waits longer than the API does
        return JetStreamApi(js.nc, js.domain, timeout=max(js.timeout, 30.0))

    async def _target(self, org_id: str, target: dict[str, Any]) -> BackupTarget:
        try:
            return await open_target(
                target,
                org_id,
                jetstream=lambda cid: self._js(org_id, cid),
                backups_root=self.backups_root or _settings_root(),
            )
        except TargetRefused as exc:
            raise refused(str(exc)) from exc

    async def _backup(self, org_id: str, backup_id: str) -> Backup:
        async with self.sessions() as db:
            backup = await db.get(Backup, uuid.UUID(backup_id))
        if backup is None or str(backup.org_id) != org_id:
            raise refused(f"backup {backup_id} does not exist", "NotFound")
        return backup

    async def _counted(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call``; its own failures count towards the step's budget (with Redis), a
        refusal ends it at once (``activities.attempts``)."""
        return await counted(
            self.redis,
            f"jsc:backup:failures:{key}",
            call,
            refusals=REFUSALS,
            failed_type="BackupFailed",
        )

    # --- backup_item ----------------------------------------------------------------------------
    @activity.defn(name="backup_item")
    async def backup_item(self, data: ItemInput) -> ItemResult:
        """Copy one stream of a backup (its ``BackupItem``) to the backup's target."""

        async def run() -> ItemResult:
            try:
                return await self._backup_item(data)
            except ApplicationError as exc:
                if exc.non_retryable:
                    await self._mark_item(data.item_id, "failed")
                raise

        return await self._counted(f"{data.operation_id}:item:{data.item_id}", run)

    async def _mark_item(self, item_id: str, status: str) -> None:
        async with self.sessions() as db, db.begin():
            item = await db.get(BackupItem, uuid.UUID(item_id))
            if item is not None and item.status != "done":
                item.status = status

    async def _backup_item(self, data: ItemInput) -> ItemResult:
        backup = await self._backup(data.org_id, data.backup_id)
        async with self.sessions() as db, db.begin():
            item = await db.get(BackupItem, uuid.UUID(data.item_id))
            if item is None or item.backup_id != backup.id:
                raise refused(f"backup {data.backup_id} has no item {data.item_id}", "NotFound")
            if item.status == "done":
                return _item_result(item, await _count_chunks(db, item))
            item.status = "running"
            item.started_at = item.started_at or _now()
        source = await self._js(data.org_id, str(backup.cluster_id))
        target = await self._target(data.org_id, backup.target)
        try:
            if item.kind == "full":
                return await self._full(data, item, source, target)
            return await self._incremental(data, item, source, target)
        except JetStreamError as exc:
            if exc.not_found:
                raise refused(
                    f"the stream '{item.stream}' does not exist on the source cluster", "NotFound"
                ) from exc
            raise
        finally:
            await target.close()

    async def _full(
        self, data: ItemInput, item: BackupItem, source: JetStreamApi, target: BackupTarget
    ) -> ItemResult:
        """A new snapshot (attempt + 1); the earlier attempts' chunks are deleted first."""
        async with self.sessions() as db, db.begin():
            row = await _item_row(db, item.id, lock=True)
            attempt = row.attempt = (row.attempt or 0) + 1
            earlier = sorted(
                set(
                    (
                        await db.scalars(
                            select(BackupChunk.attempt).where(
                                BackupChunk.item_id == item.id, BackupChunk.attempt < attempt
                            )
                        )
                    ).all()
                )
            )
        for old in range(1, attempt):
            await target.delete_prefix(
                attempt_prefix(data.org_id, data.backup_id, item.stream, old)
            )
        if earlier:
            async with self.sessions() as db, db.begin():
                await db.execute(
                    delete(BackupChunk).where(
                        BackupChunk.item_id == item.id, BackupChunk.attempt < attempt
                    )
                )
        consumers = sorted(c["name"] for c in await source.consumer_list(item.stream))
        progress = Progress(data.done_before, data.total)
        stored = n = 0
        async with progress:
            async with Snapshot(source, item.stream) as snap:
                async for chunk in snap.chunks():
                    key = chunk_key(data.org_id, data.backup_id, item.stream, attempt, n)
                    sha = await target.put(key, chunk)
                    await self._add_chunk(item.id, attempt, n, key, len(chunk), sha, 0)
                    n += 1
                    stored += len(chunk)
                    progress.set(min(stored, int(snap.state.get("bytes", stored))))
        state = dict(snap.state)
        async with self.sessions() as db, db.begin():
            row = await _item_row(db, item.id)
            row.first_seq = int(state.get("first_seq", 0))
            row.last_seq = int(state.get("last_seq", 0))
            row.messages = int(state.get("messages", 0))
            row.source_bytes = int(state.get("bytes", 0))
            row.stored_bytes = stored
            row.config, row.state, row.consumers = snap.config, state, consumers
            row.checksum = None  # read from the source by the verification that follows
            row.status, row.completed_at = "done", _now()
            progress.set(row.source_bytes)
            return _item_result(row, n)

    async def _add_chunk(
        self, item_id: uuid.UUID, attempt: int, n: int, key: str, size: int, sha: str, last_seq: int
    ) -> None:
        """The chunk's row, once the target holds it (``sha``: as the target computed it)."""
        async with self.sessions() as db, db.begin():
            await db.merge(
                BackupChunk(
                    item_id=item_id,
                    attempt=attempt,
                    n=n,
                    key=key,
                    size=size,
                    sha256=sha,
                    last_seq=last_seq,
                )
            )

    async def _incremental(
        self, data: ItemInput, item: BackupItem, source: JetStreamApi, target: BackupTarget
    ) -> ItemResult:
        """The messages after the base item's last sequence, carrying on after stored chunks."""
        async with self.sessions() as db, db.begin():
            row = await _item_row(db, item.id, lock=True)
            base = await db.get(BackupItem, row.base_item_id) if row.base_item_id else None
            if base is None or base.status != "done":
                raise refused(
                    f"the incremental backup of stream '{row.stream}' has no finished "
                    "backup to build on",
                    "NotFound",
                )
            after = int(base.last_seq)
            if not row.attempt:
                row.attempt = 1
            if not row.last_seq:  # the first attempt fixes where this item ends
                info = await source.stream_info(row.stream)
                upto = int(info["state"]["last_seq"])
                if upto < after:
                    raise refused(
                        f"stream '{row.stream}' ends at sequence {upto}, before its previous "
                        f"backup's last sequence {after}: it was recreated; take a full backup"
                    )
                row.last_seq = upto
                row.first_seq = after + 1
                row.config, row.state = info["config"], info["state"]
                row.consumers = sorted(c["name"] for c in await source.consumer_list(row.stream))
            attempt, upto = row.attempt, int(row.last_seq)
            retention = (row.config or {}).get("retention")
            chunk_rows = (
                await db.scalars(
                    select(BackupChunk)
                    .where(BackupChunk.item_id == row.id, BackupChunk.attempt == attempt)
                    .order_by(BackupChunk.n)
                )
            ).all()
            stored_rows = [(c.n, c.key, c.sha256, int(c.last_seq), int(c.size)) for c in chunk_rows]
        checksum = MessageChecksum()
        progress = Progress(data.done_before, data.total)
        messages = raw_total = stored = 0
        resume_after, n = after, 0
        async with progress:
            # what earlier attempts stored: fed to the checksum again (a damaged chunk and the
            # ones after it are copied again)
            for cn, key, sha, last_seq, size in stored_rows:
                kept: bytes | None
                try:
                    kept = await target.get(key)
                except (ChunkMissing, ChunkCorrupted):
                    kept = None
                if kept is None or await asyncio.to_thread(_sha256, kept) != sha:
                    async with self.sessions() as db, db.begin():
                        await db.execute(
                            delete(BackupChunk).where(
                                BackupChunk.item_id == item.id,
                                BackupChunk.attempt == attempt,
                                BackupChunk.n >= cn,
                            )
                        )
                    break
                count, raw = replay_chunk(kept, checksum)
                messages, raw_total, stored = messages + count, raw_total + raw, stored + size
                resume_after, n = last_seq, cn + 1
                progress.set(raw_total)
            async for chunk in incremental_chunks(
                source, item.stream, resume_after, upto, checksum, retention=retention
            ):
                key = chunk_key(data.org_id, data.backup_id, item.stream, attempt, n)
                sha = await target.put(key, chunk.data)
                await self._add_chunk(
                    item.id, attempt, n, key, len(chunk.data), sha, chunk.last_seq
                )
                n += 1
                messages += chunk.messages
                raw_total += chunk.raw_bytes
                stored += len(chunk.data)
                progress.set(raw_total)
        found = checksum.result()
        async with self.sessions() as db, db.begin():
            row = await _item_row(db, item.id)
            row.messages = messages
            row.first_seq = found.first_seq or after + 1
            row.source_bytes, row.stored_bytes = raw_total, stored
            row.checksum = found.sha256
            row.state = {
                **(row.state or {}),
                "checksum": {
                    "first_seq": after + 1,
                    "last_seq": upto,
                    "messages": found.messages,
                    "sha256": found.sha256,
                },
            }
            row.status, row.completed_at = "done", _now()
            return _item_result(row, n)

    # --- backup_verify --------------------------------------------------------------------------
    @activity.defn(name="backup_verify")
    async def backup_verify(self, data: VerifyInput) -> Verification:
        """Restore each stream of the backup into a temporary stream, compare, record the verdict
        as the backup's ``verification``."""
        return await self._counted(
            f"{data.operation_id}:verify:{data.backup_id}", lambda: self._verify(data)
        )

    async def _verify(self, data: VerifyInput) -> Verification:
        backup = await self._backup(data.org_id, data.backup_id)
        async with self.sessions() as db:
            items = (
                await db.scalars(
                    select(BackupItem)
                    .where(BackupItem.backup_id == backup.id)
                    .order_by(BackupItem.stream)
                )
            ).all()
            chains: dict[str, list[ChainLink] | str] = {}
            for item in items:
                if item.status != "done":
                    chains[item.stream] = f"the backup of stream '{item.stream}' did not finish"
                    continue
                try:
                    chains[item.stream] = await resolve_chain(
                        db, data.org_id, data.backup_id, item.stream
                    )
                except ChainBroken as exc:
                    chains[item.stream] = str(exc)
        where = target_cluster_id(backup.target) or str(backup.cluster_id)
        streams: dict[str, Any] = {}
        total = sum(
            link.stored_bytes
            for links in chains.values()
            if isinstance(links, list)
            for link in links
        )
        progress = Progress(0, total)
        done_streams = 0
        target = await self._target(data.org_id, backup.target)
        try:
            async with progress:
                verify_js = await self._js(data.org_id, where)
                for stream, links in chains.items():
                    if isinstance(links, str):
                        streams[stream] = {"status": "failed", "reason": links}
                        continue
                    if links[-1].kind == "full" and not links[-1].checksum:
                        await self._record_source_checksum(data.org_id, backup, links[-1])

                    def moved(n: int, base: int = done_streams) -> None:
                        progress.set(base + n)

                    streams[stream] = await verify_stream(target, links, verify_js, progress=moved)
                    done_streams += sum(link.stored_bytes for link in links)
        finally:
            await target.close()
        failed = sorted(s for s, d in streams.items() if d.get("status") != "verified")
        verification = Verification(
            status="failed" if failed or not streams else "verified",
            checked_at=_now(),
            details={
                "cluster_id": where,
                "streams": streams,
                **({"failed": failed} if failed else {}),
                **({} if streams else {"reason": "the backup holds no stream"}),
            },
        )
        async with self.sessions() as db, db.begin():
            row = await db.get(Backup, backup.id)
            if row is not None:
                row.verification = verification.model_dump(mode="json")
        return verification

    async def _record_source_checksum(self, org_id: str, backup: Backup, link: ChainLink) -> None:
        source = await self._js(org_id, str(backup.cluster_id))
        found = await source_checksum(source, link)
        link.state = {**link.state, "checksum": found}
        link.checksum = found.get("sha256")
        async with self.sessions() as db, db.begin():
            row = await _item_row(db, uuid.UUID(link.item_id))
            row.state = {**(row.state or {}), "checksum": found}
            row.checksum = found.get("sha256")

    # --- backup_restore -------------------------------------------------------------------------
    @activity.defn(name="backup_restore")
    async def backup_restore(self, data: RestoreInput) -> RestoreResult:
        """Restore ``data.stream`` of the chain ending at ``data.backup_id`` into
        ``data.stream_name`` on ``data.cluster_id``."""
        return await self._counted(f"{data.operation_id}:restore", lambda: self._restore(data))

    async def _restore(self, data: RestoreInput) -> RestoreResult:
        backup = await self._backup(data.org_id, data.backup_id)
        async with self.sessions() as db:
            links = await resolve_chain(db, data.org_id, data.backup_id, data.stream)
        js = await self._js(data.org_id, data.cluster_id)
        await self._clear_own_attempt(js, data)
        target = await self._target(data.org_id, backup.target)
        total = sum(link.stored_bytes for link in links)
        progress = Progress(data.done_before, data.total or data.done_before + total)
        subjects = data.subjects
        links[-1].config = _marked(links[-1].config, data.operation_id, data.backup_id)
        try:
            async with progress:
                info = await restore_chain(
                    js,
                    target,
                    links,
                    data.stream_name,
                    subjects=subjects,
                    until=data.until,
                    progress=progress.set,
                )
        except RestoreFailed as exc:
            raise refused(str(exc)) from exc
        finally:
            await target.close()
        state = info.get("state") or {}
        consumers = sorted(c["name"] for c in await js.consumer_list(data.stream_name))
        return RestoreResult(
            cluster_id=data.cluster_id,
            stream_name=data.stream_name,
            messages=int(state.get("messages", 0)),
            first_seq=int(state.get("first_seq", 0)),
            last_seq=int(state.get("last_seq", 0)),
            consumers=consumers,
            restored_bytes=total,
            chain=[link.backup_id for link in links],
            set_aside_backup_id=data.set_aside_backup_id,
        )

    async def _clear_own_attempt(self, js: JetStreamApi, data: RestoreInput) -> None:
        """Delete the stream an earlier attempt of this restore made; refuse any other."""
        try:
            info = await js.stream_info(data.stream_name)
        except JetStreamError as exc:
            if exc.not_found:
                return
            raise
        mark = (info["config"].get("metadata") or {}).get(RESTORE_MARK)
        if mark != data.operation_id:
            raise refused(
                f"the stream '{data.stream_name}' exists; set to.replace=true to "
                "restore over it: its data is backed up first",
                "Exists",
            )
        await js.stream_delete(data.stream_name)

    # --- backup_delete_data ---------------------------------------------------------------------
    @activity.defn(name="backup_delete_data")
    async def backup_delete_data(self, data: DeleteDataInput) -> int:
        """Remove the data of ``data.backup_ids`` (chunks and manifest) from their targets; the
        number of objects or files removed. Rows stay (the service removes them)."""

        async def run() -> int:
            removed = 0
            for backup_id in data.backup_ids:
                async with self.sessions() as db:
                    backup = await db.get(Backup, uuid.UUID(backup_id))
                if backup is None or str(backup.org_id) != data.org_id:
                    continue
                target = await self._target(data.org_id, backup.target)
                try:
                    removed += await target.delete_prefix(backup_prefix(data.org_id, backup_id))
                finally:
                    await target.close()
                heartbeat({"done": removed})
            return removed

        return await self._counted(f"delete:{','.join(sorted(data.backup_ids))[:200]}", run)


def _marked(config: dict[str, Any], operation_id: str, backup_id: str) -> dict[str, Any]:
    metadata = dict(config.get("metadata") or {})
    metadata[RESTORE_MARK] = operation_id
    metadata[RESTORED_FROM] = backup_id
    return {**config, "metadata": metadata}


async def _count_chunks(db: AsyncSession, item: BackupItem) -> int:
    return len(
        (
            await db.scalars(
                select(BackupChunk.n).where(
                    BackupChunk.item_id == item.id, BackupChunk.attempt == item.attempt
                )
            )
        ).all()
    )


async def _item_row(db: AsyncSession, item_id: uuid.UUID, lock: bool = False) -> BackupItem:
    """The item's row, which the activity read before (locked for update when ``lock``); its
    disappearance meanwhile is an error like any other (retried, and counted)."""
    row = await db.get(BackupItem, item_id, with_for_update=True if lock else None)
    if row is None:
        raise LookupError(f"the backup item {item_id} no longer exists")
    return row


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _item_result(item: BackupItem, chunks: int) -> ItemResult:
    return ItemResult(
        item_id=str(item.id),
        stream=item.stream,
        kind=item.kind,
        messages=int(item.messages or 0),
        first_seq=int(item.first_seq or 0),
        last_seq=int(item.last_seq or 0),
        source_bytes=int(item.source_bytes or 0),
        stored_bytes=int(item.stored_bytes or 0),
        chunks=chunks,
        consumers=len(item.consumers or []),
    )


def _settings_root() -> Path:
    from core.settings import get_settings

    return get_settings().backups_root

"""Export activities: write one chunk of an export to the export store, or remove an export's
chunks (a cancelled or failed one).

- ``export_messages_chunk`` and ``export_discard`` run on the worker.
- ``export_audit_chunk`` runs in the API process (task queue ``<task_queue>-analytics``, served by
  ``api.analytics_worker``): only it may open chdb.

Every one is idempotent: a chunk is written under its key, replacing what an earlier attempt left
(the same bytes), and removing chunks already removed removes nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.exports.chunks import ChunkBody, audit_chunk, message_chunk
from core.exports.models import ChunkWritten, ExportChunk, ExportDiscard, MessageExport
from core.exports.store import chunk_key, export_prefix, export_store
from core.jetstream.api import JetStreamError
from core.jetstream.messages import StreamReader
from core.jetstream.pool import ClusterPool
from core.security import Cipher

if TYPE_CHECKING:
    from core.analytics.store import AnalyticsStore


async def _store(
    backups_root: Path, chunk: ExportChunk, body: ChunkBody, **cursor: Any
) -> ChunkWritten:
    context = chunk.job.context
    data = body.data()
    digest = await export_store(backups_root, context.org_id).put(
        chunk_key(context.operation_id, chunk.n), data
    )
    return ChunkWritten(
        n=chunk.n,
        records=body.records,
        bytes=len(data),
        sha256=digest,
        exhausted=body.exhausted,
        **cursor,
    )


class ExportActivities:
    """Served by the worker."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        backups_root: Path,
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool
        self.backups_root = backups_root

    @activity.defn(name="export_messages_chunk")
    async def export_messages_chunk(self, chunk: ExportChunk) -> ChunkWritten:
        export: MessageExport = chunk.job.request  # type: ignore[assignment]
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(
                    db, uuid.UUID(chunk.job.context.org_id), export.cluster_id
                )
            except ClusterNotFound as exc:
                raise ApplicationError(
                    f"cluster {export.cluster_id} is no longer registered",
                    type="ClusterNotFound",
                    non_retryable=True,
                ) from exc
        js = await self.pool.jetstream(endpoint(self.cipher, cluster))
        try:
            reader, _ = await StreamReader.open(js, export.stream)
            body, next_seq = await message_chunk(reader, chunk, activity.heartbeat)
        except JetStreamError as exc:
            if exc.not_found:
                raise ApplicationError(
                    f"the stream '{export.stream}' no longer exists",
                    type="NotFound",
                    non_retryable=True,
                ) from exc
            raise
        return await _store(self.backups_root, chunk, body, next_seq=next_seq)

    @activity.defn(name="export_discard")
    async def export_discard(self, discard: ExportDiscard) -> int:
        return await export_store(self.backups_root, discard.org_id).delete_prefix(
            export_prefix(discard.operation_id)
        )


class AuditExportActivities:
    """Served by the API process (``api.analytics_worker``)."""

    def __init__(self, analytics: AnalyticsStore, backups_root: Path):
        self.analytics, self.backups_root = analytics, backups_root

    @activity.defn(name="export_audit_chunk")
    async def export_audit_chunk(self, chunk: ExportChunk) -> ChunkWritten:
        def query(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
            return self.analytics.query(sql, params)

        body, after = await asyncio.to_thread(audit_chunk, query, chunk.job.context.org_id, chunk)
        return await _store(self.backups_root, chunk, body, after=after)

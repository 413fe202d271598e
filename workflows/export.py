"""ExportWorkflow: a large export of a stream's messages or of the audit log, written chunk by
chunk to the export store (``core.exports.store``) and downloaded from
``GET /api/v1/operations/{id}/download`` once completed.

Its one input is an ``ExportJob`` (the operation's context and the request). Each chunk is an
idempotent activity (``export_messages_chunk`` on the worker, ``export_audit_chunk`` on the API's
analytics queue); between chunks the workflow honours pause, resume and cancel (signals) and keeps
the operation's row current. A cancelled or failed export's chunks are removed. The result lists
the chunks' SHA-256, which the download checks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.exports.models import (
        ChunkWritten,
        ExportChunk,
        ExportDiscard,
        ExportJob,
        ExportRequest,
    )
    from core.operations import Progress
    from workflows.alerts import ANALYTICS_SUFFIX
    from workflows.operation_base import OperationWorkflowBase

NON_RETRYABLE = ["NotFound", "ClusterNotFound", "TargetRefused"]
CHUNK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)
DISCARD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)


@workflow.defn(name="ExportWorkflow")
class ExportWorkflow(OperationWorkflowBase):
    @workflow.run
    async def run(self, job: ExportJob) -> dict[str, Any]:
        self.context = job.context
        export = job.request
        self.progress = Progress(
            done=0, total=export.estimated, unit="messages" if export.kind == "messages" else "rows"
        )
        chunks: list[str] = []
        size = 0
        try:
            await self.set_status("running")
            chunk = ExportChunk(
                job=job, n=0, next_seq=export.first_seq if export.kind == "messages" else None
            )
            while True:
                await self.between_chunks()
                if self.stop_requested:
                    await self.discard(job)
                    return await self.finish(
                        "cancelled", self.summary(export, chunks, size, stopped=True)
                    )
                started = workflow.now()
                written: ChunkWritten = await self.write(chunk)
                chunks.append(written.sha256)
                size += written.bytes
                elapsed = (workflow.now() - started).total_seconds()
                self.advance(written.records, elapsed, self.progress.done + written.records)
                if written.exhausted:
                    break
                chunk = chunk.model_copy(
                    update={
                        "n": written.n + 1,
                        "next_seq": written.next_seq,
                        "after": written.after,
                    }
                )
                self.record_in_background()
            self.progress.total = self.progress.done
            return await self.finish("completed", self.summary(export, chunks, size))
        except asyncio.CancelledError:  # cancelled through Temporal
            await asyncio.shield(self.discard(job))
            await self.finish(
                "cancelled", self.summary(export, chunks, size, stopped=True), shielded=True
            )
            raise
        except ActivityError as err:
            message = str(err.cause.message if isinstance(err.cause, ApplicationError) else err)
            await self.discard(job)
            await self.finish(
                "failed", self.summary(export, chunks, size, stopped=True), error=message
            )
            raise ApplicationError(message, non_retryable=True) from err

    async def write(self, chunk: ExportChunk) -> ChunkWritten:
        written: ChunkWritten
        if chunk.job.request.kind == "audit":
            written = await workflow.execute_activity(
                "export_audit_chunk",
                chunk,
                result_type=ChunkWritten,
                task_queue=workflow.info().task_queue + ANALYTICS_SUFFIX,
                schedule_to_close_timeout=timedelta(hours=1),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=CHUNK_RETRY,
            )
        else:
            written = await workflow.execute_activity(
                "export_messages_chunk",
                chunk,
                result_type=ChunkWritten,
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(seconds=60),
                retry_policy=CHUNK_RETRY,
            )
        return written

    async def discard(self, job: ExportJob) -> None:
        await workflow.execute_activity(
            "export_discard",
            ExportDiscard(org_id=job.context.org_id, operation_id=job.context.operation_id),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DISCARD_RETRY,
        )

    def summary(
        self, export: ExportRequest, chunks: list[str], size: int, stopped: bool = False
    ) -> dict[str, Any]:
        done = {"records": self.progress.done, "bytes": size, "format": export.format}
        if stopped:
            return {**done, "stopped_early": True}
        return {**done, "chunks": chunks, "filename": export.filename()}

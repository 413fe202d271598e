"""BackupWorkflow: back up the streams of a backup (its rows exist: the API or a schedule's tick
made them), then verify it.

1. ``backup_prepare`` finds each incremental item's base (or makes the item full) and estimates
   the bytes to copy (progress is in bytes).
2. ``backup_item`` per stream, one after the other: the data path (``activities.backup_data``)
   checkpoints every stored chunk, so a retried attempt (a worker died) carries on; retried
   without limit, with a heartbeat timeout that notices a dead worker.
3. ``backup_finish`` sets the backup's status, sizes and duration and writes its manifest.
4. ``backup_verify`` restores it into a temporary stream and compares; the result is stored
   with the backup (``backup_record_verification``). A failed verification does not fail the
   backup: it is recorded.

With ``verify_only`` (an operation of type ``backup_verify``) only step 4 runs. Pause and resume
act between streams; cancel stops there and the backup ends ``failed`` ("cancelled").
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.backups.jobs import (
        BackupRef,
        FinishBackup,
        FinishedBackup,
        PreparedBackup,
        RecordVerification,
    )
    from core.backups.steps import ItemInput, ItemResult, Verification, VerifyInput
    from core.operations import OperationContext, Progress
    from workflows.inputs import BackupInput, from_args
    from workflows.operation_base import OperationWorkflowBase

NON_RETRYABLE = [
    "Refused",
    "NotFound",
    "ClusterNotFound",
    "BackupFailed",
    "VerifyFailed",
    "RestoreFailed",
]
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
STEP_TIMEOUT = timedelta(minutes=2)
DATA_TIMEOUT = timedelta(hours=12)
# A dead worker is noticed after this long without a heartbeat (the data path beats every chunk).
DATA_HEARTBEAT = timedelta(seconds=30)


def message_of(err: BaseException) -> str:
    if isinstance(err, ActivityError) and isinstance(err.cause, ApplicationError):
        return err.cause.message
    return str(err)


async def run_item(
    context: OperationContext, backup_id: str, item_id: str, done_before: int, total: int
) -> ItemResult:
    result: ItemResult = await workflow.execute_activity(
        "backup_item",
        ItemInput(
            operation_id=context.operation_id,
            org_id=context.org_id,
            backup_id=backup_id,
            item_id=item_id,
            done_before=done_before,
            total=total,
        ),
        result_type=ItemResult,
        start_to_close_timeout=DATA_TIMEOUT,
        heartbeat_timeout=DATA_HEARTBEAT,
        retry_policy=STEP_RETRY,
    )
    return result


async def finish_backup(
    context: OperationContext, backup_id: str, error: str | None
) -> FinishedBackup:
    finished: FinishedBackup = await workflow.execute_activity(
        "backup_finish",
        FinishBackup(
            operation_id=context.operation_id,
            org_id=context.org_id,
            backup_id=backup_id,
            error=error,
        ),
        result_type=FinishedBackup,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STEP_RETRY,
    )
    return finished


async def verify_backup(context: OperationContext, backup_id: str) -> Verification:
    """Verify and store the result; an error of the verification itself is its result."""
    await _record_verification(context, backup_id, Verification(status="pending"))
    verification: Verification
    try:
        verification = await workflow.execute_activity(
            "backup_verify",
            VerifyInput(
                operation_id=context.operation_id, org_id=context.org_id, backup_id=backup_id
            ),
            result_type=Verification,
            start_to_close_timeout=DATA_TIMEOUT,
            heartbeat_timeout=DATA_HEARTBEAT,
            retry_policy=STEP_RETRY,
        )
    except ActivityError as err:
        verification = Verification(
            status="failed", checked_at=workflow.now(), details={"error": message_of(err)}
        )
    await _record_verification(context, backup_id, verification)
    return verification


async def _record_verification(
    context: OperationContext, backup_id: str, verification: Verification
) -> None:
    await workflow.execute_activity(
        "backup_record_verification",
        RecordVerification(org_id=context.org_id, backup_id=backup_id, verification=verification),
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=STEP_RETRY,
    )


@workflow.defn(name="BackupWorkflow")
class BackupWorkflow(OperationWorkflowBase):
    def __init__(self) -> None:
        super().__init__()
        self.progress = Progress(unit="bytes")

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``BackupInput``; a run a release started has ``[context, job]``."""
        data = from_args(BackupInput, args, ("context", "job"))
        self.context = context = data.context
        job = data.job
        try:
            await self.set_status("running")
            if job.verify_only:
                verification = await verify_backup(context, job.backup_id)
                return await self.finish(
                    "completed",
                    {
                        "backup_id": job.backup_id,
                        "verification": verification.model_dump(mode="json"),
                    },
                )
            return await self.back_up(context, job.backup_id)
        except asyncio.CancelledError:
            await self.finish("cancelled", {"backup_id": job.backup_id}, shielded=True)
            raise
        except ActivityError as err:
            message = message_of(err)
            await self.finish("failed", {"backup_id": job.backup_id}, error=message)
            raise ApplicationError(message, non_retryable=True) from err

    async def back_up(self, context: OperationContext, backup_id: str) -> dict[str, Any]:
        ref = BackupRef(
            operation_id=context.operation_id, org_id=context.org_id, backup_id=backup_id
        )
        prepared: PreparedBackup = await workflow.execute_activity(
            "backup_prepare",
            ref,
            result_type=PreparedBackup,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        self.progress = Progress(done=0, total=prepared.total, unit="bytes")
        results: list[ItemResult] = []
        error: str | None = None
        for planned in prepared.items:
            await self.between_chunks()
            if self.stop_requested:
                error = "cancelled before every stream was backed up"
                break
            if planned.done and planned.result is not None:
                results.append(planned.result)
                continue
            started = workflow.now()
            try:
                result = await run_item(
                    context,
                    backup_id,
                    planned.item_id,
                    self.progress.done,
                    self.progress.total or 0,
                )
            except ActivityError as err:
                error = f"stream '{planned.stream}': {message_of(err)}"
                break
            results.append(result)
            done = self.progress.done + result.source_bytes
            total = max(self.progress.total or 0, done)
            self.progress = Progress(done=self.progress.done, total=total, unit="bytes")
            self.advance(result.source_bytes, (workflow.now() - started).total_seconds(), done)
            self.record_in_background()
        finished = await finish_backup(context, backup_id, error)
        summary = {
            "backup_id": backup_id,
            "kind": finished.kind,
            "streams": [r.model_dump(mode="json") for r in results],
            "size_bytes": finished.size_bytes,
            "duration_s": finished.duration_s,
        }
        if finished.status != "completed":
            status = "cancelled" if self.stop_requested else "failed"
            return await self.finish(status, {**summary, "verification": None}, error=error)
        verification = await verify_backup(context, backup_id)
        return await self.finish(
            "completed", {**summary, "verification": verification.model_dump(mode="json")}
        )

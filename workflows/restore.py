"""RestoreWorkflow: restore a stream of a backup (the chain ending at it) into a new stream, or
over an existing one.

1. ``restore_prepare`` checks the request again (an approval may come hours after it: the
   backup is completed and not failed, its chain has its chunks, the name is free unless
   ``replace``) and, over an existing stream, creates the rows of the set-aside backup (a full
   backup of it, reason ``pre_restore``, at the restored backup's target).
2. Over an existing stream: the set-aside backup is taken (``backup_item``), finished and
   verified; only once it is completed and verified is the existing stream deleted
   (``restore_remove_stream``, which checks that again). A set-aside that fails stops the restore
   with nothing changed.
3. ``backup_restore`` streams the chain into the server's restore (the data path; retried without
   limit, resumable).

Started by the API (``POST /api/v1/operations/restore``) with a ``RestoreJob``, or by an approved
change request with the change's ``config`` (a plain dict): both are validated here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from core.backups.jobs import RemoveStreamInput, RestoreJob, RestorePlan, RestorePrepareInput
    from core.backups.steps import RestoreInput, RestoreResult
    from core.operations import OperationContext, Progress
    from workflows.backup import (
        DATA_HEARTBEAT,
        DATA_TIMEOUT,
        STEP_RETRY,
        STEP_TIMEOUT,
        finish_backup,
        message_of,
        run_item,
        verify_backup,
    )
    from workflows.inputs import RestoreWorkflowInput, from_args
    from workflows.operation_base import OperationWorkflowBase


class SetAsideFailed(Exception):
    """The existing stream could not be backed up: nothing was changed."""


@workflow.defn(name="RestoreWorkflow")
class RestoreWorkflow(OperationWorkflowBase):
    def __init__(self) -> None:
        super().__init__()
        self.progress = Progress(unit="bytes")

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``RestoreWorkflowInput``; a run a release started has ``[context, job]``."""
        data = from_args(RestoreWorkflowInput, args, ("context", "job"))
        self.context = context = data.context
        try:
            job = RestoreJob.model_validate(data.job)
        except ValidationError as exc:
            return await self.finish("failed", {}, error=f"The restore is not valid: {exc}")
        set_aside: str | None = None
        try:
            await self.set_status("running")
            plan: RestorePlan = await workflow.execute_activity(
                "restore_prepare",
                RestorePrepareInput(
                    operation_id=context.operation_id, org_id=context.org_id, job=job
                ),
                result_type=RestorePlan,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
            self.progress = Progress(done=0, total=plan.total, unit="bytes")
            if plan.set_aside_backup_id:
                set_aside = plan.set_aside_backup_id
                await self.set_aside(context, plan, job)
            result: RestoreResult = await workflow.execute_activity(
                "backup_restore",
                RestoreInput(
                    operation_id=context.operation_id,
                    org_id=context.org_id,
                    backup_id=plan.backup_id,
                    stream=plan.stream,
                    cluster_id=job.cluster_id,
                    stream_name=job.stream_name,
                    subjects=job.subjects,
                    until=job.until,
                    replace=job.replace,
                    set_aside_backup_id=set_aside,
                    done_before=self.progress.done,
                    total=self.progress.total or 0,
                ),
                result_type=RestoreResult,
                start_to_close_timeout=DATA_TIMEOUT,
                heartbeat_timeout=DATA_HEARTBEAT,
                retry_policy=STEP_RETRY,
            )
            done = max(self.progress.done + result.restored_bytes, self.progress.total or 0)
            self.progress = Progress(done=done, total=done, unit="bytes", eta_s=0)
            return await self.finish(
                "completed", {**result.model_dump(mode="json"), "set_aside_backup_id": set_aside}
            )
        except asyncio.CancelledError:
            await self.finish("cancelled", {"set_aside_backup_id": set_aside}, shielded=True)
            raise
        except (ActivityError, SetAsideFailed) as err:
            message = message_of(err)
            if set_aside and not isinstance(err, SetAsideFailed):
                message += (
                    f" (the stream's former data is kept in the backup {set_aside}: "
                    "restore it from there if needed)"
                )
            await self.finish("failed", {"set_aside_backup_id": set_aside}, error=message)
            raise ApplicationError(message, non_retryable=True) from err

    async def set_aside(
        self, context: OperationContext, plan: RestorePlan, job: RestoreJob
    ) -> None:
        """Back up the existing stream, verify that backup, then (only then) delete the
        stream."""
        backup_id, item_id = plan.set_aside_backup_id, plan.set_aside_item_id
        assert backup_id is not None and item_id is not None  # the plan sets both, or neither
        error = None
        try:
            await run_item(context, backup_id, item_id, 0, 0)
        except ActivityError as err:
            error = message_of(err)
        finished = await finish_backup(context, backup_id, error)
        if finished.status != "completed":
            raise SetAsideFailed(
                f"The stream '{job.stream_name}' could not be backed up before "
                f"the restore ({error or finished.status}); nothing was changed."
            )
        verification = await verify_backup(context, backup_id)
        if verification.status != "verified":
            raise SetAsideFailed(
                f"The backup {backup_id} of the stream '{job.stream_name}' "
                "taken before the restore failed its verification; nothing "
                "was changed."
            )
        await workflow.execute_activity(
            "restore_remove_stream",
            RemoveStreamInput(
                operation_id=context.operation_id,
                org_id=context.org_id,
                cluster_id=job.cluster_id,
                stream_name=job.stream_name,
                set_aside_backup_id=backup_id,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )

"""ScheduledBackupWorkflow: one run of a backup schedule, started by its Temporal schedule (or by
``POST /api/v1/backup-schedules/{id}/run``).

1. ``backup_schedule_tick`` creates the run's operation (type ``backup``) and backup rows (the
   schedule's streams as they are now), once per run whatever retries happen;
2. ``BackupWorkflow`` backs them up and verifies them, as a child (the operation's workflow);
3. retention: ``backup_retention_plan`` says which of the schedule's backups expired,
   ``backup_delete_data`` removes their data at their targets, ``backup_retention_apply`` their
   rows (audited ``backup.expired``) and records the run as the schedule's ``last_run``.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from core.backups.jobs import (
        BackupJob,
        RetentionApply,
        RetentionInput,
        RetentionResult,
        ScheduledRun,
        Ticked,
        TickInput,
    )
    from core.backups.steps import DeleteDataInput
    from core.operations import OperationContext
    from workflows.backup import DATA_TIMEOUT, STEP_RETRY, STEP_TIMEOUT, message_of
    from workflows.inputs import BackupInput


@workflow.defn(name="ScheduledBackupWorkflow")
class ScheduledBackupWorkflow:
    @workflow.run
    async def run(self, run: ScheduledRun) -> dict[str, Any]:
        run = ScheduledRun.model_validate(run)
        info = workflow.info()
        ticked: Ticked = await workflow.execute_activity(
            "backup_schedule_tick",
            TickInput(run=run, workflow_id=info.workflow_id),
            result_type=Ticked,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        outcome: dict[str, Any] = {
            "operation_id": ticked.operation_id,
            "backup_id": ticked.backup_id,
        }
        if ticked.skipped:
            outcome["skipped"] = ticked.skipped
        else:
            context = OperationContext(
                operation_id=ticked.operation_id, org_id=run.org_id, type="backup"
            )
            try:
                result = await workflow.execute_child_workflow(
                    "BackupWorkflow",
                    BackupInput(context=context, job=BackupJob(backup_id=ticked.backup_id)),
                    id=ticked.workflow_id,
                    task_queue=info.task_queue,
                )
                outcome["status"] = "completed"
                outcome["verification"] = (result or {}).get("verification")
            except ChildWorkflowError as err:
                outcome["status"] = "failed"
                outcome["error"] = message_of(err.cause) if err.cause else str(err)
        plan: RetentionResult = await workflow.execute_activity(
            "backup_retention_plan",
            RetentionInput(org_id=run.org_id, schedule_id=run.schedule_id),
            result_type=RetentionResult,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        if plan.expired:
            await workflow.execute_activity(
                "backup_delete_data",
                DeleteDataInput(org_id=run.org_id, backup_ids=plan.expired),
                start_to_close_timeout=DATA_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
        await workflow.execute_activity(
            "backup_retention_apply",
            RetentionApply(
                org_id=run.org_id,
                schedule_id=run.schedule_id,
                expired=plan.expired,
                last_run={**outcome, "kind": run.kind, "at": workflow.now().isoformat()},
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        return {**outcome, "expired": plan.expired}

"""GitOps syncs: ``GitOpsSyncWorkflow`` (a push, "Sync now", a drift revert) and
``GitOpsApplyWorkflow`` (an approved sync's plan, started by ``ApprovalWorkflow``).

The sync workflow (id ``gitops-sync-<sync_id>``, operation type ``gitops_sync``): one activity
fetches the commit, loads and validates it, plans each environment against its cluster and judges
the plan (``gitops_prepare``). A broken tree, no changes, or a rejection end it there (the sync's
row says why). A plan that needs approval opens ONE change request for the commit
(``gitops_open_request``) and the workflow ends, the sync ``waiting_approval``: on approval the
approval workflow starts ``GitOpsApplyWorkflow`` with ``{sync_id, repo_id, commit}``, which applies
the STORED plan; a rejection closes the sync as rejected (``core.gitsync.rows.close_rejected``).
Otherwise the plan is applied at once.

Applying (both workflows): environment by environment, one ``gitops_apply`` activity each, which
records every resource's result as it goes; a cluster that stays unreachable fails the rest of its
environment, not the others. Progress is counted in resources. Cancel stops before the next
environment (what was not applied is skipped); pause waits between environments. Then
``gitops_finish`` sets the status from the results (succeeded, partially_applied, failed).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.gitsync.models import (Applied, ApplyEnvironment, GitSyncInput, OpenedRequest,
                                     Prepared, SyncEnd)
    from core.operations import OperationContext, Progress
    from workflows.operation_base import RECORD_RETRY, OperationWorkflowBase

PREPARE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2,
                            maximum_interval=timedelta(seconds=30), maximum_attempts=5,
                            non_retryable_error_types=["NotFound", "Refused"])
APPLY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2,
                          maximum_interval=timedelta(seconds=30), maximum_attempts=8,
                          non_retryable_error_types=["ClusterNotFound", "NotFound"])


def _message(err: ActivityError) -> str:
    cause = err.cause
    return str(cause.message if isinstance(cause, ApplicationError) else err)


class _ApplyingSync(OperationWorkflowBase):
    """What both workflows share: apply a sync's stored plan and close it."""

    def __init__(self) -> None:
        super().__init__()
        self.sync_id = ""
        self.sync_status = "pending"

    @workflow.query
    def view(self) -> dict:
        return {**super().view(), "sync_id": self.sync_id, "sync_status": self.sync_status}

    async def apply_plan(self, prepared: Prepared) -> str:
        self.sync_status = "applying"
        self.progress = Progress(done=0, total=prepared.total, unit="resources")
        await self.record()
        env_errors: dict[str, str] = {}
        cancelled = False
        for environment in prepared.environments:
            await self.between_chunks()
            if self.stop_requested:
                cancelled = True
                break
            try:
                applied: Applied = await workflow.execute_activity(
                    "gitops_apply", ApplyEnvironment(
                        sync_id=self.sync_id, environment=environment,
                        done_before=self.progress.done, total=prepared.total),
                    result_type=Applied, start_to_close_timeout=timedelta(minutes=30),
                    heartbeat_timeout=timedelta(minutes=2), retry_policy=APPLY_RETRY)
                self.progress.done += applied.done
            except ActivityError as err:
                env_errors[environment] = _message(err)
            self.record_in_background()
        return await self.close_sync(SyncEnd(sync_id=self.sync_id, env_errors=env_errors,
                                             cancelled=cancelled))

    async def close_sync(self, end: SyncEnd) -> str:
        self.sync_status = await workflow.execute_activity(
            "gitops_finish", end, result_type=str, start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RECORD_RETRY)
        return self.sync_status

    async def end(self, error: str | None = None, **result) -> dict:
        status = "failed" if self.sync_status == "failed" else "completed"
        return await self.finish(status, {"sync_id": self.sync_id,
                                          "sync_status": self.sync_status, **result},
                                 error=error)


@workflow.defn(name="GitOpsSyncWorkflow")
class GitOpsSyncWorkflow(_ApplyingSync):
    @workflow.init
    def __init__(self, context: OperationContext, data: GitSyncInput) -> None:
        super().__init__()
        self.context, self.sync_id = context, data.sync_id

    @workflow.run
    async def run(self, context: OperationContext, data: GitSyncInput) -> dict:
        await self.set_status("running")
        try:
            prepared: Prepared = await workflow.execute_activity(
                "gitops_prepare", data, result_type=Prepared,
                start_to_close_timeout=timedelta(minutes=10), retry_policy=PREPARE_RETRY)
        except ActivityError as err:
            message = _message(err)
            await self.close_sync(SyncEnd(sync_id=self.sync_id, error=message))
            return await self.end(error=message)
        self.sync_status = {"apply": "applying", "approval": "running"}.get(
            prepared.verdict, prepared.verdict)
        if prepared.verdict in ("failed", "no_changes", "rejected"):
            return await self.end(error=prepared.error if prepared.verdict == "failed" else None,
                                  commit=prepared.commit)
        if prepared.verdict == "approval":
            opened: OpenedRequest = await workflow.execute_activity(
                "gitops_open_request", self.sync_id, result_type=OpenedRequest,
                start_to_close_timeout=timedelta(minutes=1), retry_policy=RECORD_RETRY)
            self.sync_status = "waiting_approval"
            return await self.end(commit=prepared.commit, request_id=opened.request_id,
                                  approval_operation_id=opened.operation_id)
        await self.apply_plan(prepared)
        return await self.end(commit=prepared.commit)


@workflow.defn(name="GitOpsApplyWorkflow")
class GitOpsApplyWorkflow(_ApplyingSync):
    @workflow.init
    def __init__(self, context: OperationContext, config: dict) -> None:
        super().__init__()
        self.context, self.sync_id = context, str(config.get("sync_id", ""))

    @workflow.run
    async def run(self, context: OperationContext, config: dict) -> dict:
        await self.set_status("running")
        try:
            prepared: Prepared = await workflow.execute_activity(
                "gitops_begin_apply", config, result_type=Prepared,
                start_to_close_timeout=timedelta(minutes=1), retry_policy=PREPARE_RETRY)
        except ActivityError as err:
            return await self.finish("failed", {"sync_id": self.sync_id}, error=_message(err))
        if prepared.verdict != "apply":
            self.sync_status = "unchanged"
            return await self.finish("completed", {"sync_id": self.sync_id,
                                                   "note": prepared.error})
        await self.apply_plan(prepared)
        return await self.end(commit=prepared.commit)

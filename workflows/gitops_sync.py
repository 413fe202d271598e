"""GitOps sync: a commit of a repository made true on its environments' clusters.

``GitOpsSyncWorkflow`` (a push, "Sync now", a drift revert):
1. ``gitops_plan``: fetch the commit, load and validate the tree (a broken file fails the sync
   before anything is applied), plan every environment, judge every change by policy.
2. Auto-approved and nothing destructive: ``gitops_apply`` applies the plan in dependency order,
   recording each resource's result.
3. Otherwise ``gitops_open_request`` opens ONE change request for the whole commit, and its
   ``ApprovalWorkflow`` is started (it outlives this workflow). Once approved, that workflow starts
   ``GitOpsApplyWorkflow``, which applies the stored plan — exactly what was approved.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from core.operations import Progress
    from gitops.jobs import Applied, OpenedRequest, Planned, SyncFailure, SyncRef
    from workflows.inputs import ApprovalInput, GitOpsApplyInput, GitOpsSyncInput, from_args
    from workflows.operation_base import OperationWorkflowBase

STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=["NotFound"],
)
PLAN_TIMEOUT = timedelta(minutes=5)
APPLY_TIMEOUT = timedelta(minutes=30)
APPLY_HEARTBEAT = timedelta(seconds=30)  # a killed worker's apply is retried this soon
# Before this marker a step that gave up failed the operation but left the sync's row as it was
# (running, applying); since, the row is closed too (``gitops_fail``).
CLOSE_ROW_PATCH = "gitops-sync-closes-its-row-on-failure"


def _message(err: ActivityError) -> str:
    cause = err.cause
    return str(cause.message if isinstance(cause, ApplicationError) else cause or err)


async def close_row(ref: SyncRef, message: str) -> None:
    """The sync's row says it failed (or partly applied), as the operation does."""
    if workflow.patched(CLOSE_ROW_PATCH):
        await workflow.execute_activity(
            "gitops_fail",
            SyncFailure(ref=ref, error=message),
            result_type=str,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=STEP_RETRY,
        )


async def apply_sync(ref: SyncRef) -> Applied:
    applied: Applied = await workflow.execute_activity(
        "gitops_apply",
        ref,
        result_type=Applied,
        start_to_close_timeout=APPLY_TIMEOUT,
        heartbeat_timeout=APPLY_HEARTBEAT,
        retry_policy=STEP_RETRY,
    )
    return applied


class _SyncBase(OperationWorkflowBase):
    async def finish_applied(
        self, applied: Applied, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        total = applied.applied + applied.failed + applied.skipped
        self.progress = Progress(done=applied.applied, total=total, unit="resources", eta_s=0)
        result = {
            "sync_status": applied.status,
            "applied": applied.applied,
            "failed": applied.failed,
            "skipped": applied.skipped,
            **(extra or {}),
        }
        if applied.status == "succeeded":
            return await self.finish("completed", result)
        return await self.finish("failed", result, error=applied.error)


@workflow.defn(name="GitOpsSyncWorkflow")
class GitOpsSyncWorkflow(_SyncBase):
    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``GitOpsSyncInput``; a run a release started has ``[context, data]``."""
        started = from_args(GitOpsSyncInput, args, ("context", "data"))
        self.context = context = started.context
        data = started.data
        ref = SyncRef(
            org_id=context.org_id,
            sync_id=data.sync_id,
            only=data.only,
            user_email=context.user_email,
        )
        try:
            await self.set_status("running")
            planned: Planned = await workflow.execute_activity(
                "gitops_plan",
                ref,
                result_type=Planned,
                start_to_close_timeout=PLAN_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
            if planned.outcome == "apply":
                return await self.finish_applied(await apply_sync(ref), {"plan": planned.summary})
            if planned.outcome == "approval":
                opened: OpenedRequest = await workflow.execute_activity(
                    "gitops_open_request",
                    ref,
                    result_type=OpenedRequest,
                    start_to_close_timeout=PLAN_TIMEOUT,
                    retry_policy=STEP_RETRY,
                )
                await workflow.start_child_workflow(
                    "ApprovalWorkflow",
                    ApprovalInput(context=opened.context, ticket=opened.ticket),
                    id=opened.workflow_id,
                    task_queue=workflow.info().task_queue,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
                return await self.finish(
                    "completed",
                    {
                        "sync_status": "waiting_approval",
                        "request_id": opened.request_id,
                        "plan": planned.summary,
                    },
                )
            result = {"sync_status": planned.outcome, "plan": planned.summary}
            if planned.outcome in ("failed", "rejected"):
                return await self.finish("failed", result, error=planned.error)
            return await self.finish("completed", result)
        except asyncio.CancelledError:
            await self.finish("cancelled", {}, shielded=True)
            raise
        except ActivityError as err:
            message = _message(err)
            await close_row(ref, message)
            await self.finish("failed", {"sync_status": "failed"}, error=message)
            raise ApplicationError(message, non_retryable=True) from err


@workflow.defn(name="GitOpsApplyWorkflow")
class GitOpsApplyWorkflow(_SyncBase):
    """Started by an approved change request with its ``config`` ({sync_id, repo_id, commit})."""

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``GitOpsApplyInput``; a run a release started has ``[context, config]``."""
        started = from_args(GitOpsApplyInput, args, ("context", "config"))
        self.context = context = started.context
        config = started.config
        ref = SyncRef(org_id=context.org_id, sync_id=str(config["sync_id"]))
        try:
            await self.set_status("running")
            return await self.finish_applied(await apply_sync(ref))
        except ActivityError as err:
            message = _message(err)
            await close_row(ref, message)
            await self.finish("failed", {"sync_status": "failed"}, error=message)
            raise ApplicationError(message, non_retryable=True) from err

"""GitOpsDriftWorkflow: one drift scan of a repository (its schedule's, or a person's).

``gitops_drift_scan`` compares git (the last synced commit) with every environment's cluster and
records the drift. When the repository's policy is ``revert`` and items are open,
``gitops_drift_revert`` opens a sync of those items, and its ``GitOpsSyncWorkflow`` is started
(outliving this one): the revert goes through the change gate like any sync, so production waits
for an approval.

Started with one ``DriftInput``, two ways:
- without a context by the repository's Temporal schedule (``gitops-drift-<repo id>``): a
  routine check, not an operation of its own (the repository's ``last_scan`` says how it went);
- with the operation's context by ``POST .../drift/scan``: an operation (type ``gitops_drift``)
  the person follows like any other, completed with the scan's outcome, or failed with the
  reason the scan could not look (a broken tree, an unreachable remote or cluster).

Released versions were started with ``[DriftScan]`` (schedules made then still do) or
``[OperationContext, DriftScan]``: both are still read (``workflows.inputs``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from gitops.jobs import DriftFound, DriftInput, DriftScan, RevertStart
    from workflows.inputs import GitOpsSyncInput, from_args
    from workflows.operation_base import OperationWorkflowBase

SCAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)
SCAN_TIMEOUT = timedelta(minutes=10)


@workflow.defn(name="GitOpsDriftWorkflow")
class GitOpsDriftWorkflow(OperationWorkflowBase):
    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        data = from_args(DriftInput, args, ("scan",), ("context", "scan"))
        scan = data.scan
        if data.context is not None:
            self.context = data.context
            await self.set_status("running")
        try:
            result = await self._scan(scan)
        except ActivityError as err:
            if self.context is None:
                raise
            cause = err.cause
            message = str(cause.message if isinstance(cause, ApplicationError) else cause or err)
            return await self.finish("failed", {}, error=f"The scan could not finish: {message}")
        if self.context is None:
            return result
        if result.get("error"):
            return await self.finish("failed", result, error=result["error"])
        return await self.finish("completed", result)

    async def _scan(self, scan: DriftScan) -> dict[str, Any]:
        found: DriftFound = await workflow.execute_activity(
            "gitops_drift_scan",
            scan,
            result_type=DriftFound,
            start_to_close_timeout=SCAN_TIMEOUT,
            retry_policy=SCAN_RETRY,
        )
        result = found.model_dump()
        if found.revert:
            start: RevertStart = await workflow.execute_activity(
                "gitops_drift_revert",
                args=[scan, found.revert],
                result_type=RevertStart,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=SCAN_RETRY,
            )
            await workflow.start_child_workflow(
                "GitOpsSyncWorkflow",
                GitOpsSyncInput(context=start.context, data=start.data),
                id=start.workflow_id,
                task_queue=workflow.info().task_queue,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
            result["revert_sync_id"] = start.sync_id
        return result

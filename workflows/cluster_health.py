"""ClusterHealthWorkflow: probe a cluster through an activity and record its status."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.types import ClusterProbeInput, ClusterProbeResult


@workflow.defn(name="ClusterHealthWorkflow")
class ClusterHealthWorkflow:
    def __init__(self) -> None:
        self._status = "pending"

    @workflow.run
    async def run(self, data: ClusterProbeInput) -> ClusterProbeResult:
        self._status = "running"
        result = await workflow.execute_activity(
            "probe_cluster", data, result_type=ClusterProbeResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
        )
        self._status = "completed"
        return result

    @workflow.query
    def status(self) -> str:
        return self._status

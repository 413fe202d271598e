"""Deliberately changed copies of workflows, to show that the replayer catches nondeterminism."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.types import ClusterProbeInput, ClusterProbeResult


@workflow.defn(name="ClusterHealthWorkflow")
class ChangedClusterHealthWorkflow:
    """It schedules another activity than the recorded history did."""

    @workflow.run
    async def run(self, data: ClusterProbeInput) -> ClusterProbeResult:
        return await workflow.execute_activity(
            "another_activity",
            data,
            result_type=ClusterProbeResult,
            start_to_close_timeout=timedelta(seconds=30),
        )

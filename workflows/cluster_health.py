"""ClusterHealthWorkflow: probe a cluster through an activity and record its status.
ClusterHealthSweepWorkflow: the same for every registered cluster, started by the Temporal schedule
``jsc-cluster-health`` (``core.cluster_health_schedule``), so a cluster's status in lists is
current without anyone opening its page."""

from __future__ import annotations

import asyncio
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
        result: ClusterProbeResult = await workflow.execute_activity(
            "probe_cluster",
            data,
            result_type=ClusterProbeResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
        )
        self._status = "completed"
        return result

    @workflow.query
    def status(self) -> str:
        return self._status


PROBE_BATCH = 10  # clusters probed at once by a sweep


@workflow.defn(name="ClusterHealthSweepWorkflow")
class ClusterHealthSweepWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        clusters = await workflow.execute_activity(
            "clusters_to_probe",
            result_type=list[ClusterProbeInput],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
        )
        counts: dict[str, int] = {}
        for start in range(0, len(clusters), PROBE_BATCH):
            results = await asyncio.gather(
                *(
                    workflow.execute_activity(
                        "probe_cluster",
                        cluster,
                        result_type=ClusterProbeResult,
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=RetryPolicy(
                            maximum_attempts=2, initial_interval=timedelta(seconds=1)
                        ),
                    )
                    for cluster in clusters[start : start + PROBE_BATCH]
                )
            )
            for result in results:
                counts[result.status] = counts.get(result.status, 0) + 1
        return counts

"""The cluster health schedule: one Temporal schedule, ``jsc-cluster-health``, starting
``ClusterHealthSweepWorkflow`` (every registered cluster probed, its status recorded) every
``JSC_CLUSTER_HEALTH_INTERVAL_S``; a sweep still running when the next is due: the next is skipped.
Every API process makes it match its settings at start, as the alert schedule."""

from __future__ import annotations

from temporalio.client import Client, Schedule

from core import temporal_schedules

SCHEDULE_ID = "jsc-cluster-health"
WORKFLOW = "ClusterHealthSweepWorkflow"


def schedule(task_queue: str, interval_s: float) -> Schedule:
    return temporal_schedules.every(
        WORKFLOW, schedule_id=SCHEDULE_ID, task_queue=task_queue, interval_s=interval_s
    )


async def ensure(client: Client, task_queue: str, interval_s: float) -> None:
    await temporal_schedules.upsert(client, SCHEDULE_ID, schedule(task_queue, interval_s))

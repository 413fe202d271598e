"""The drift schedule of a repository: one Temporal schedule, ``gitops-drift-<repo id>``, starting
``GitOpsDriftWorkflow`` with a ``DriftInput`` (a scan, no context) every ``interval_seconds``
(overlapping runs skipped; a routine check is not an operation, unlike a scan a person asks for).
Created or updated with the repository, deleted with it. A schedule made before ``DriftInput``
starts it with the bare ``DriftScan`` until the repository is updated: the workflow reads both."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from core import temporal_schedules
from gitops.jobs import DriftInput, DriftScan

WORKFLOW = "GitOpsDriftWorkflow"


def schedule_id(repo_id: Any) -> str:
    return f"gitops-drift-{repo_id}"


def _schedule(repo, task_queue: str) -> Schedule:
    scan = DriftScan(repo_id=str(repo.id), org_id=str(repo.org_id))
    start = DriftInput(scan=scan).model_dump(mode="json")
    action = ScheduleActionStartWorkflow(
        WORKFLOW, args=[start], id=schedule_id(repo.id), task_queue=task_queue
    )
    spec = ScheduleSpec(
        intervals=[ScheduleIntervalSpec(every=timedelta(seconds=repo.interval_seconds))]
    )
    return Schedule(
        action=action, spec=spec, policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)
    )


async def ensure(client: Client, repo, task_queue: str) -> None:
    """Create the repository's schedule, or make it match the repository."""
    await temporal_schedules.upsert(client, schedule_id(repo.id), _schedule(repo, task_queue))


async def remove(client: Client, repo_id: Any) -> None:
    await temporal_schedules.remove(client, schedule_id(repo_id))

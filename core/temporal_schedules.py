"""Temporal schedules kept in step with rows: create one, or replace what an existing one does
(``upsert``); delete one that may already be gone (``remove``); a workflow started every N
seconds, skipped while the previous run is still going (``every``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode


async def upsert(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)


async def remove(client: Client, schedule_id: str) -> None:
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


def every(
    workflow: str,
    *,
    schedule_id: str,
    task_queue: str,
    interval_s: float,
    args: list[Any] | None = None,
    execution_timeout: timedelta = timedelta(minutes=10),
) -> Schedule:
    """``workflow`` started every ``interval_s`` (run id ``schedule_id``); a run still going when
    the next is due: the next is skipped."""
    action = ScheduleActionStartWorkflow(
        workflow,
        args=args or [],
        id=schedule_id,
        task_queue=task_queue,
        execution_timeout=execution_timeout,
    )
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=interval_s))])
    return Schedule(
        action=action, spec=spec, policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP)
    )

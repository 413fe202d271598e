"""Temporal schedules kept in step with rows: create one, or replace what an existing one does
(``upsert``); delete one that may already be gone (``remove``)."""

from __future__ import annotations

from temporalio.client import (Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate,
                               ScheduleUpdateInput)
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

"""The Temporal schedules of a backup schedule: one per cadence, ``backup-schedule-<id>-full``
and ``backup-schedule-<id>-incremental``, each starting ``ScheduledBackupWorkflow`` with a
``ScheduledRun`` (``cron``: a cron expression in UTC; ``every``: an interval such as ``1h``).
A disabled schedule's Temporal schedules are paused. Overlapping runs are skipped.

``sync`` makes Temporal match a row (create, update, delete what is not wanted any more);
``next_runs`` reads the next times from the schedules' descriptions.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from core import temporal_schedules
from core.backups.jobs import ScheduledRun
from core.db.models import BackupSchedule

WORKFLOW = "ScheduledBackupWorkflow"
KINDS = ("full", "incremental")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_EVERY = timedelta(minutes=1)


class ScheduleRefused(ValueError):
    """Temporal refused the cadence (an invalid cron expression): a sentence for the caller."""


def schedule_id(row_id: Any, kind: str) -> str:
    return f"backup-schedule-{row_id}-{kind}"


def run_workflow_id(row_id: Any, operation_id: Any) -> str:
    """The ``ScheduledBackupWorkflow`` of a run a person asked for (``POST .../run``)."""
    return f"backup-schedule-{row_id}-run-{operation_id}"


def every(value: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([smhd])", value)
    if not match:
        raise ScheduleRefused(f'"{value}" is not an interval such as "30m", "1h" or "7d"')
    interval = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if interval < MIN_EVERY:
        raise ScheduleRefused(f'"{value}" is too often: at most one backup a minute')
    return interval


def spec_of(cadence: dict[str, Any]) -> ScheduleSpec:
    if cadence.get("cron"):
        return ScheduleSpec(cron_expressions=[cadence["cron"]])
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every(cadence["every"]))])


def check_cadence(cadence: dict[str, Any]) -> None:
    """Refuse what Temporal would refuse, before anything is stored (a cron expression has five
    fields; Temporal parses it)."""
    if cadence.get("cron"):
        fields = cadence["cron"].split()
        if not cadence["cron"].startswith("@") and len(fields) not in (5, 6, 7):
            raise ScheduleRefused(
                f'"{cadence["cron"]}" is not a cron expression (five fields, '
                'e.g. "0 2 * * *": minute hour day month weekday, in UTC)'
            )
    else:
        every(cadence["every"])


def _schedule(row: BackupSchedule, kind: str, cadence: dict[str, Any], task_queue: str) -> Schedule:
    run = ScheduledRun(schedule_id=str(row.id), org_id=str(row.org_id), kind=kind)
    action = ScheduleActionStartWorkflow(
        WORKFLOW,
        args=[run.model_dump(mode="json")],
        id=schedule_id(row.id, kind),
        task_queue=task_queue,
    )
    return Schedule(
        action=action,
        spec=spec_of(cadence),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=not row.enabled, note=None if row.enabled else "disabled"),
    )


def _refusal(exc: RPCError) -> ScheduleRefused | RPCError:
    if exc.status == RPCStatusCode.INVALID_ARGUMENT:
        return ScheduleRefused(f"Temporal refused the schedule: {exc.message}")
    return exc


async def sync(client: Client, row: BackupSchedule, task_queue: str) -> None:
    """Create or update the row's Temporal schedules (one per cadence it has), delete the one of
    a cadence it no longer has."""
    wanted = {"full": row.full, "incremental": row.incremental}
    for kind in KINDS:
        sid = schedule_id(row.id, kind)
        cadence = wanted[kind]
        if not cadence:
            await _delete(client, sid)
            continue
        schedule = _schedule(row, kind, cadence, task_queue)
        try:
            await temporal_schedules.upsert(client, sid, schedule)
        except RPCError as exc:
            raise _refusal(exc) from exc


async def _delete(client: Client, sid: str) -> None:
    await temporal_schedules.remove(client, sid)


async def delete(client: Client, row_id: Any) -> None:
    for kind in KINDS:
        await _delete(client, schedule_id(row_id, kind))


async def describe(client: Client, row_id: Any, kind: str) -> ScheduleDescription | None:
    """The Temporal description of one cadence's schedule, or None."""
    try:
        return await client.get_schedule_handle(schedule_id(row_id, kind)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def next_runs(client: Client, row: BackupSchedule, count: int = 5) -> list[datetime]:
    """The next times any of the row's schedules runs (none while disabled), soonest first."""
    if not row.enabled:
        return []
    times: list[datetime] = []
    for kind in KINDS:
        if (description := await describe(client, row.id, kind)) is not None:
            times += list(description.info.next_action_times)
    return sorted(times)[:count]

"""The alert evaluation schedule: one Temporal schedule, ``jsc-alerts-evaluate``, starting
``AlertEvaluationWorkflow`` over every enabled rule every ``JSC_ALERT_INTERVAL_S`` (an
evaluation still running when the next is due: the next is skipped). Every API process makes it
match its settings at start."""

from __future__ import annotations

from temporalio.client import Client, Schedule

from core import temporal_schedules
from core.alerts.events import EvaluationInput

SCHEDULE_ID = "jsc-alerts-evaluate"
WORKFLOW = "AlertEvaluationWorkflow"


def schedule(task_queue: str, interval_s: float) -> Schedule:
    return temporal_schedules.every(
        WORKFLOW,
        schedule_id=SCHEDULE_ID,
        task_queue=task_queue,
        interval_s=interval_s,
        args=[EvaluationInput().model_dump(mode="json")],
    )


async def ensure(client: Client, task_queue: str, interval_s: float) -> None:
    await temporal_schedules.upsert(client, SCHEDULE_ID, schedule(task_queue, interval_s))

"""Delivering the outbox (``core.outbox``) from the API: audit events to the internal event stream,
workflow starts to Temporal, and the background drainer every API replica runs.

A workflow is started by its id with Temporal's id policies: a start already running or already
finished counts as done, so a start owed twice (the request and the drainer, or two replicas)
starts one workflow, and a crash between the commit and the start leaves no orphan: the drainer
starts it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.services import Services
from core import outbox
from core.outbox import OutboxEntry

log = logging.getLogger(__name__)
DRAIN_EVERY_S = 1.0
DRAIN_AFTER_S = 3.0  # younger entries are being delivered by their own request


def owe_audit(db: AsyncSession, event_id: uuid.UUID, event: dict[str, Any]) -> OutboxEntry:
    return outbox.add(db, "audit", event_id, event)


def owe_start(
    db: AsyncSession, workflow: str, workflow_id: str, args: list[Any], task_queue: str
) -> OutboxEntry:
    """Owe the start of ``workflow`` (its registered name) under ``workflow_id``; the entry's id
    is derived from the workflow id, so it is owed once."""
    return outbox.owe_workflow_start(db, workflow, workflow_id, args, task_queue)


def deliverers(services: Services) -> dict[str, outbox.Deliver]:
    async def audit(entry: OutboxEntry) -> None:
        await services.events.publish("audit", str(entry.id), entry.payload)

    async def start(entry: OutboxEntry) -> None:
        p = entry.payload
        try:
            await services.temporal.start_workflow(
                p["workflow"],
                args=p["args"],
                id=p["workflow_id"],
                task_queue=p["task_queue"],
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                rpc_timeout=timedelta(seconds=5),
            )
        except WorkflowAlreadyStartedError:  # it ran and finished: nothing owed
            pass

    return {"audit": audit, "workflow": start}


async def deliver_now(services: Services, entry: OutboxEntry) -> bool:
    return await outbox.deliver_now(services.sessions, entry, deliverers(services)[entry.kind])


async def run_drainer(services: Services) -> None:
    """Deliver what requests could not, for as long as the process lives."""
    owed = deliverers(services)
    while True:
        try:
            await outbox.drain(services.sessions, owed, older_than_s=DRAIN_AFTER_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database is down: try again
            log.warning("outbox drain failed: %s", exc)
        await asyncio.sleep(DRAIN_EVERY_S)

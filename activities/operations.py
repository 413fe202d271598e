"""Keeping an operation's PostgreSQL row current, and auditing how it started and ended.

An audit event goes to the internal event stream at once; while that stream cannot take it (hub,
which holds it, down: a disaster-recovery failover must go on then), it is owed to the outbox
(``core.outbox``), which the API's drainer delivers once the stream is back. The event's id is
stable, so however many attempts owe or send it, it is stored once.

Every record is also pushed live (``core.live``: ``jsc.live.{org}.operations.{id}``, which the
real-time endpoints serve as ``operation`` events), best effort: a live publish that fails is
logged and never fails the activity (the row is the truth; the next record pushes again). Its
message id is the activity's (workflow run, activity id), the same on every attempt, so a retried
record is pushed once."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.audit import AuditEvent
from core.events import EventPublisher, EventsUnavailable
from core.live import subjects as live_subjects
from core.live.publisher import LivePublisher
from core.operations import OperationUpdate, apply_update
from core.outbox import OutboxEntry

log = logging.getLogger(__name__)
LIVE_TIMEOUT_S = 2.0  # a live push never holds a record up for longer


class OperationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventPublisher):
        self.sessions, self.events = sessions, events
        self.live = LivePublisher(events.nc, timeout=LIVE_TIMEOUT_S)

    @activity.defn(name="record_operation")
    async def record_operation(self, change: OperationUpdate) -> None:
        async with self.sessions() as db:
            await apply_update(db, change)
        await self.push_live(change, activity.info())
        if change.audit_action:
            event = audit_event_of(change, activity.info())
            body = event.model_dump(mode="json")
            try:
                await self.events.publish("audit", str(event.id), body)
            except EventsUnavailable:
                async with self.sessions() as db, db.begin():
                    await db.execute(
                        insert(OutboxEntry)
                        .values(
                            id=event.id,
                            kind="audit",
                            payload=body,
                            attempts=0,
                        )
                        .on_conflict_do_nothing(index_elements=["id"])
                    )

    async def push_live(self, change: OperationUpdate, info: activity.Info) -> None:
        ctx = change.context
        if not self.events.nc.is_connected:
            log.warning(
                "operation %s: not pushed live (the internal stream is not connected)",
                ctx.operation_id,
            )
            return
        try:
            await self.live.publish(
                live_subjects.operation(ctx.org_id, ctx.operation_id),
                live_body(change, info),
                f"op:{info.workflow_run_id}:{info.activity_id}",
            )
        except Exception as exc:  # best effort: the row is written, the next record pushes again
            log.warning("operation %s: live push failed: %r", ctx.operation_id, exc)


def live_body(change: OperationUpdate, info: activity.Info) -> dict[str, Any]:
    """What clients of ``operations:{id}`` get: the operation's status and progress as recorded."""
    ctx = change.context
    scheduled = info.scheduled_time or datetime.now(UTC)
    return {
        "operation_id": ctx.operation_id,
        "type": ctx.type,
        "status": change.status,
        "progress": change.progress.model_dump() if change.progress else None,
        "result": change.result,
        "error": change.error,
        "timestamp": scheduled.isoformat(),
    }


def audit_event_of(change: OperationUpdate, info: activity.Info) -> AuditEvent:
    """The audit event of an operation's record, the same on every attempt: its id is stable per
    (operation, action) and its time is when the workflow scheduled the record (not when an
    attempt ran), so ClickHouse keeps one row however late a retry comes (the table's key holds
    the time)."""
    ctx, action = change.context, change.audit_action
    if action is None:
        raise ValueError("an operation record without an audit action has no audit event")
    key = action + (f":{change.audit_key}" if change.audit_key else "")
    return AuditEvent(
        id=uuid.uuid5(uuid.UUID(ctx.operation_id), key),
        timestamp=info.scheduled_time,
        org_id=uuid.UUID(ctx.org_id),
        user_id=uuid.UUID(ctx.user_id) if ctx.user_id else None,
        user_email=ctx.user_email,
        action=change.audit_action,
        resource_type="operation",
        resource_id=ctx.operation_id,
        resource_name=ctx.type,
        status="failure" if change.status == "failed" else "success",
        error_message=change.error,
        changes={
            "status": change.status,
            "result": change.result,
            "progress": change.progress.model_dump() if change.progress else None,
            **(change.audit_details or {}),
        },
    )

"""Keeping an operation's PostgreSQL row current, and auditing how it started and ended.

An audit event goes to the internal event stream at once; while that stream cannot take it (hub,
which holds it, down: a disaster-recovery failover must go on then), it is owed to the outbox
(``core.outbox``), which the API's drainer delivers once the stream is back. The event's id is
stable, so however many attempts owe or send it, it is stored once."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from core.audit import AuditEvent
from core.events import EventPublisher, EventsUnavailable
from core.operations import OperationUpdate, apply_update
from core.outbox import OutboxEntry


class OperationActivities:
    def __init__(self, sessions: async_sessionmaker, events: EventPublisher):
        self.sessions, self.events = sessions, events

    @activity.defn(name="record_operation")
    async def record_operation(self, change: OperationUpdate) -> None:
        async with self.sessions() as db:
            await apply_update(db, change)
        if change.audit_action:
            event = audit_event_of(change, activity.info())
            body = event.model_dump(mode="json")
            try:
                await self.events.publish("audit", str(event.id), body)
            except EventsUnavailable:
                async with self.sessions() as db, db.begin():
                    await db.execute(insert(OutboxEntry).values(
                        id=event.id, kind="audit", payload=body, attempts=0,
                    ).on_conflict_do_nothing(index_elements=["id"]))


def audit_event_of(change: OperationUpdate, info: activity.Info) -> AuditEvent:
    """The audit event of an operation's record, the same on every attempt: its id is stable per
    (operation, action) and its time is when the workflow scheduled the record (not when an
    attempt ran), so ClickHouse keeps one row however late a retry comes (the table's key holds
    the time)."""
    ctx = change.context
    key = change.audit_action + (f":{change.audit_key}" if change.audit_key else "")
    return AuditEvent(
        id=uuid.uuid5(uuid.UUID(ctx.operation_id), key), timestamp=info.scheduled_time,
        org_id=uuid.UUID(ctx.org_id),
        user_id=uuid.UUID(ctx.user_id) if ctx.user_id else None, user_email=ctx.user_email,
        action=change.audit_action, resource_type="operation", resource_id=ctx.operation_id,
        resource_name=ctx.type, status="failure" if change.status == "failed" else "success",
        error_message=change.error,
        changes={"status": change.status, "result": change.result,
                 "progress": change.progress.model_dump() if change.progress else None,
                 **(change.audit_details or {})},
    )

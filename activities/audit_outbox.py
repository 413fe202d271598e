"""Audit events an activity writes together with its own rows: owed to the outbox in the
activity's transaction, then published once it commits (or by the API's drainer, if the event
stream cannot take them now). An event's id is stable, so it is stored once however often owed."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.audit import AuditEvent
from core.events import EventPublisher


async def owe_audit(db: AsyncSession, events: list[AuditEvent]) -> list[outbox.OutboxEntry]:
    """Owe the events in ``db``'s transaction (delivered by ``deliver_audit`` after it commits)."""
    entries = []
    for event in events:
        body = event.model_dump(mode="json")
        await db.execute(
            insert(outbox.OutboxEntry)
            .values(
                id=event.id,
                kind="audit",
                payload=body,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        entries.append(outbox.OutboxEntry(id=event.id, kind="audit", payload=body))
    return entries


async def deliver_audit(
    sessions: async_sessionmaker[AsyncSession],
    events: EventPublisher,
    entries: list[outbox.OutboxEntry],
) -> None:
    async def publish(entry: outbox.OutboxEntry) -> None:
        await events.publish("audit", str(entry.id), entry.payload)

    for entry in entries:
        await outbox.deliver_now(sessions, entry, publish)

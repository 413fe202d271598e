"""The transactional outbox: what must follow a database change (its audit event, the start of its
workflow) is written in the same PostgreSQL transaction as the change, then delivered.

The request that made the change delivers its entries at once (``deliver_now``); whatever is left
(the event stream or Temporal was down, the process died between the commit and the delivery) is
delivered by ``drain``, which any number of API replicas run: ``FOR UPDATE SKIP LOCKED`` shares the
rows out, and every delivery is idempotent by the entry's id (``Nats-Msg-Id`` for an event, the
workflow id for a start), so an entry delivered twice is stored or started once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base

log = logging.getLogger(__name__)
Deliver = Callable[["OutboxEntry"], Awaitable[None]]


class OutboxEntry(Base):
    """One delivery owed: ``kind`` says to whom (``audit``: the event stream; ``workflow``: a
    Temporal start), ``payload`` what. Deleted once delivered."""

    __tablename__ = "outbox"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


def add(db: AsyncSession, kind: str, entry_id: uuid.UUID, payload: dict[str, Any]) -> OutboxEntry:
    """Owe a delivery, in the caller's transaction (the caller commits)."""
    entry = OutboxEntry(id=entry_id, kind=kind, payload=payload, attempts=0)
    db.add(entry)
    return entry


def owe_workflow_start(
    db: AsyncSession, workflow: str, workflow_id: str, args: list[Any], task_queue: str
) -> OutboxEntry:
    """Owe the start of ``workflow`` (its registered name) under ``workflow_id``, with ``args``
    (pydantic models are dumped as JSON); the entry's id is derived from the workflow id, so it
    is owed once."""
    payload = {
        "workflow": workflow,
        "workflow_id": workflow_id,
        "task_queue": task_queue,
        "args": [a.model_dump(mode="json") if hasattr(a, "model_dump") else a for a in args],
    }
    return add(db, "workflow", uuid.uuid5(uuid.NAMESPACE_URL, f"start:{workflow_id}"), payload)


async def deliver_now(
    sessions: async_sessionmaker[AsyncSession], entry: OutboxEntry, deliver: Deliver
) -> bool:
    """Deliver one committed entry and remove it; a failure leaves it to ``drain``."""
    try:
        await deliver(entry)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the drainer retries
        log.warning(
            "outbox %s %s not delivered yet (%s); the drainer will retry", entry.kind, entry.id, exc
        )
        return False
    async with sessions() as db, db.begin():
        await db.execute(delete(OutboxEntry).where(OutboxEntry.id == entry.id))
    return True


async def drain(
    sessions: async_sessionmaker[AsyncSession],
    deliverers: dict[str, Deliver],
    *,
    older_than_s: float,
    batch: int = 100,
) -> int:
    """Deliver entries older than ``older_than_s`` (younger ones are their request's to deliver);
    answer how many went."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
    sent = 0
    async with sessions() as db, db.begin():
        rows = list(
            await db.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.created_at <= cutoff)
                .order_by(OutboxEntry.created_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for entry in rows:
            deliver = deliverers.get(entry.kind)
            try:
                if deliver is None:
                    raise LookupError(f"no deliverer for outbox kind '{entry.kind}'")
                await deliver(entry)
            except Exception as exc:  # noqa: BLE001 - kept, with why, for the next round
                await db.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id == entry.id)
                    .values(attempts=OutboxEntry.attempts + 1, last_error=str(exc)[:2000])
                )
                continue
            await db.execute(delete(OutboxEntry).where(OutboxEntry.id == entry.id))
            sent += 1
    return sent

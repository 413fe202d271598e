"""Audit events of GitOps syncs, through the transactional outbox: an event is owed in the same
transaction as the row it records (a resource's result, a change request, a sync's end) and
delivered to the internal event stream right after the commit, or by the API's outbox drainer
when the stream cannot take it. Its id is stable (derived from the sync and what happened), so
however many attempts owe or deliver it, it is stored once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.audit import AuditEvent
from core.db.gitops_models import GitRepository, GitSync
from core.events import EventPublisher
from core.gitsync.rows import requester_email
from core.operations import user_uuid
from core.outbox import OutboxEntry


def sync_audit(repo: GitRepository, sync: GitSync, *, action: str, resource_type: str,
               resource_id: str, resource_name: str, changes: dict[str, Any],
               cluster_id: uuid.UUID | None = None, user: tuple[str, str] | None = None,
               failed: bool = False, error: str | None = None) -> AuditEvent:
    """An event whose actor is the sync (``gitops:<repo>``), unless ``user`` (id, e-mail) says
    who asked."""
    who, email = user or (None, requester_email(repo))
    return AuditEvent(
        id=uuid.uuid5(sync.id, f"{action}|{resource_id}"), org_id=repo.org_id,
        user_id=user_uuid(who), user_email=email, action=action, resource_type=resource_type,
        resource_id=resource_id, resource_name=resource_name, cluster_id=cluster_id,
        changes={"repo": repo.name, "commit": sync.commit, "sync_id": str(sync.id), **changes},
        status="failure" if failed else "success", error_message=error)


class AuditOutbox:
    def __init__(self, sessions: async_sessionmaker, events: EventPublisher):
        self.sessions, self.events = sessions, events

    def _body(self, event: AuditEvent) -> dict:
        return event.model_dump(mode="json")

    def owe(self, db: AsyncSession, event: AuditEvent):
        """Owe the event in ``db``'s transaction (once per id). Returns the statement's
        awaitable: ``await audits.owe(db, event)``."""
        return db.execute(insert(OutboxEntry).values(
            id=event.id, kind="audit", payload=self._body(event), attempts=0,
        ).on_conflict_do_nothing(index_elements=["id"]))

    async def deliver(self, event: AuditEvent) -> None:
        entry = OutboxEntry(id=event.id, kind="audit", payload=self._body(event), attempts=0)

        async def publish(e: OutboxEntry) -> None:
            await self.events.publish("audit", str(e.id), e.payload)

        await outbox.deliver_now(self.sessions, entry, publish)

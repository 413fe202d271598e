"""Removing backups: their data at the target (the engine's targets), then their rows (items and
chunks go with them). Used by ``DELETE /api/v1/backups/{id}`` and by retention."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Backup


async def delete_backups(db: AsyncSession, org_id: uuid.UUID, backup_ids: list[uuid.UUID]
                         ) -> list[uuid.UUID]:
    """Delete the rows (not committed); the ids that were there."""
    found = list(await db.scalars(select(Backup.id).where(Backup.org_id == org_id,
                                                          Backup.id.in_(backup_ids))))
    if found:
        await db.execute(delete(Backup).where(Backup.id.in_(found)))
    return found


async def delete_data(pool, cipher, settings, db: AsyncSession, org_id: uuid.UUID,
                      backups: list[Backup]) -> int:
    """Remove the backups' chunks and manifests at their targets; the number of objects
    removed. Raises when a target cannot be reached."""
    from core.backups import targets  # the engine's
    return await targets.delete_backups_data(pool, cipher, settings, db, org_id, backups)

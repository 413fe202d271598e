"""Removing backups: their data at the target (the engine's targets), then their rows (items and
chunks go with them). Used by ``DELETE /api/v1/backups/{id}`` and by retention."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backups.target_access import opened
from core.db.models import Backup


async def delete_backups(
    db: AsyncSession, org_id: uuid.UUID, backup_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Delete the rows (not committed); the ids that were there."""
    found = list(
        await db.scalars(
            select(Backup.id).where(Backup.org_id == org_id, Backup.id.in_(backup_ids))
        )
    )
    if found:
        await db.execute(delete(Backup).where(Backup.id.in_(found)))
    return found


async def delete_data(org_id: uuid.UUID | str, backups: list[Backup], **access: Any) -> int:
    """Remove the backups' chunks and manifests at their targets (``<org>/<backup>/``); the number
    of objects removed. Raises when a target cannot be reached. ``access``: ``sessions``,
    ``pool``, ``cipher``, ``settings`` (``core.backups.target_access``)."""
    removed = 0
    for backup in backups:
        async with opened(backup.target, org_id, **access) as target:
            removed += await target.delete_prefix(f"{org_id}/{backup.id}/")
    return removed

"""What a restore request means, checked before anything is changed (by the API, and again by
the workflow's first step, since an approval may come hours later):

- the backup is completed and its verification did not fail;
- the stream: the one named (it must be in the backup), or the backup's only one;
- the point: exactly that backup (its chain up to it), the ``latest`` backup continuing it, or
  the one that covers a ``time`` (messages after that time are left out);
- every backup of the chain is completed and has its chunks recorded;
- the subjects the restored stream takes do not overlap another stream of the cluster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backups.models import PointInTime, RestorePoint
from core.backups.rows import item_chain, items_of
from core.db.models import Backup, BackupChunk, BackupItem


class RestoreRefused(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def restorable(backup: Backup) -> None:
    if backup.status != "completed":
        raise RestoreRefused(
            409,
            f"The backup {backup.id} is {backup.status}, not completed: "
            "only a completed backup can be restored; choose another.",
            backup_status=backup.status,
        )
    verification = backup.verification or {}
    if verification.get("status") == "failed":
        raise RestoreRefused(
            409,
            f"The backup {backup.id} failed its verification "
            f"({_reason(verification)}); verify it again or choose another "
            "backup.",
            verification=verification,
        )


def _reason(verification: dict[str, Any]) -> str:
    details = verification.get("details") or {}
    return str(
        details.get("reason")
        or details.get("error")
        or details.get("message")
        or "see its verification details"
    )[:300]


async def choose_item(db: AsyncSession, backup: Backup, stream: str | None) -> BackupItem:
    items = (await items_of(db, [backup.id]))[backup.id]
    names = ", ".join(f"'{i.stream}'" for i in items) or "none"
    if stream is None:
        if len(items) != 1:
            raise RestoreRefused(
                422,
                f"The backup holds {len(items)} streams ({names}): name "
                "the one to restore in 'stream'.",
            )
        return items[0]
    for item in items:
        if item.stream == stream:
            return item
    raise RestoreRefused(422, f"The backup does not hold a stream '{stream}'; it holds {names}.")


async def descendants(db: AsyncSession, item: BackupItem) -> list[tuple[BackupItem, Backup]]:
    """The done items of completed backups that continue ``item``'s chain, oldest first."""
    out: list[tuple[BackupItem, Backup]] = []
    frontier = [item.id]
    while frontier:
        found = (
            await db.execute(
                select(BackupItem, Backup)
                .join(Backup, Backup.id == BackupItem.backup_id)
                .where(BackupItem.base_item_id.in_(frontier))
            )
        ).all()
        frontier = [i.id for i, _ in found]
        out += [
            (i, b)
            for i, b in found
            if i.status == "done"
            and b.status == "completed"
            and (b.verification or {}).get("status") != "failed"
        ]
    return sorted(out, key=lambda pair: pair[1].created_at)


async def point_end(
    db: AsyncSession, backup: Backup, item: BackupItem, point: RestorePoint
) -> tuple[Backup, BackupItem, datetime | None]:
    """The chain end the point means, and the time messages are cut at (None: all of them)."""
    if point == "backup":
        return backup, item, None
    line = [(item, backup)] + await descendants(db, item)
    if not isinstance(point, PointInTime):  # "latest"
        end_item, end = line[-1]
        return end, end_item, None
    time = point.time
    for candidate, owner in line:
        if owner.completed_at is not None and owner.completed_at >= time:
            return owner, candidate, time
    end_item, end = line[-1]
    return end, end_item, time


async def check_chain(db: AsyncSession, end_item: BackupItem) -> list[BackupItem]:
    """The chain's items, oldest first; refused when one is not done or has no stored chunk."""
    chain = await item_chain(db, end_item)
    if chain[0].kind != "full":
        raise RestoreRefused(
            409,
            f"The chain of the backup {end_item.backup_id} misses its full "
            "backup (it was deleted); choose another backup.",
        )
    for member in chain:
        owner = await db.get(Backup, member.backup_id)
        chunks = await db.scalar(
            select(func.count())
            .select_from(BackupChunk)
            .where(BackupChunk.item_id == member.id, BackupChunk.attempt == member.attempt)
        )
        if owner is None or owner.status != "completed" or member.status != "done" or not chunks:
            raise RestoreRefused(
                409,
                f"The backup {member.backup_id} of the chain has no stored "
                f"data for stream '{member.stream}' (a chunk is missing); "
                "choose another backup.",
                backup_id=str(member.backup_id),
            )
    return chain


def _tokens(subject: str) -> list[str]:
    return subject.split(".")


def subjects_overlap(a: str, b: str) -> bool:
    """Whether some subject matches both patterns (``*`` one token, ``>`` the rest)."""
    ta, tb = _tokens(a), _tokens(b)
    for i in range(max(len(ta), len(tb))):
        x = ta[i] if i < len(ta) else None
        y = tb[i] if i < len(tb) else None
        if x == ">" or y == ">":
            return x is not None and y is not None
        if x is None or y is None:
            return False
        if x != y and x != "*" and y != "*":
            return False
    return True


def overlapping(
    streams: list[dict[str, Any]], subjects: list[str], skip: str | None
) -> tuple[str, str] | None:
    """(stream, subject) of the first other stream whose subjects overlap ``subjects``."""
    for info in streams:
        config = info.get("config") or {}
        if config.get("name") == skip:
            continue
        for theirs in config.get("subjects") or []:
            if any(subjects_overlap(theirs, mine) for mine in subjects):
                return str(config.get("name")), theirs
    return None


def restored_subjects(item: BackupItem, subjects: list[str] | None, name: str) -> list[str]:
    """The subjects the restored stream takes: those asked for, else the backed-up stream's (a
    stream that had none takes its own name)."""
    if subjects is not None:
        return subjects or [name]
    return list((item.config or {}).get("subjects") or []) or [name]

"""A stream's chain in a backup: the full item it starts from, then each incremental item up to
the one of the backup asked for (``base_item_id`` links each to the one before), with the chunks
of each item's latest attempt. Read once from the database into plain values, so restores and
verifications work without a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Backup, BackupChunk, BackupItem

MAX_CHAIN = 10_000


class ChainBroken(Exception):
    """The chain cannot be followed (an item gone, not finished, or of another organization)."""


@dataclass(frozen=True)
class ChunkRef:
    n: int
    key: str
    size: int
    sha256: str
    last_seq: int


@dataclass
class ChainLink:
    item_id: str
    backup_id: str
    stream: str
    kind: str
    status: str
    attempt: int
    first_seq: int
    last_seq: int
    messages: int
    config: dict[str, Any]
    state: dict[str, Any]
    consumers: list[Any]
    checksum: str | None
    target: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime | None
    base_item_id: str | None
    chunks: list[ChunkRef] = field(default_factory=list)

    @property
    def stored_bytes(self) -> int:
        return sum(c.size for c in self.chunks)


async def item_of(
    db: AsyncSession, org_id: uuid.UUID | str, backup_id: uuid.UUID | str, stream: str
) -> BackupItem | None:
    return await db.scalar(
        select(BackupItem)
        .join(Backup, Backup.id == BackupItem.backup_id)
        .where(
            BackupItem.backup_id == uuid.UUID(str(backup_id)),
            BackupItem.stream == stream,
            Backup.org_id == uuid.UUID(str(org_id)),
        )
    )


async def link_of(db: AsyncSession, item: BackupItem, backup: Backup) -> ChainLink:
    chunks = (
        await db.scalars(
            select(BackupChunk)
            .where(BackupChunk.item_id == item.id, BackupChunk.attempt == item.attempt)
            .order_by(BackupChunk.n)
        )
    ).all()
    return ChainLink(
        item_id=str(item.id),
        backup_id=str(item.backup_id),
        stream=item.stream,
        kind=item.kind,
        status=item.status,
        attempt=item.attempt,
        first_seq=int(item.first_seq or 0),
        last_seq=int(item.last_seq or 0),
        messages=int(item.messages or 0),
        config=dict(item.config or {}),
        state=dict(item.state or {}),
        consumers=list(item.consumers or []),
        checksum=item.checksum,
        target=dict(backup.target),
        started_at=item.started_at,
        completed_at=item.completed_at,
        base_item_id=str(item.base_item_id) if item.base_item_id else None,
        chunks=[ChunkRef(c.n, c.key, int(c.size), c.sha256, int(c.last_seq or 0)) for c in chunks],
    )


async def resolve_chain(
    db: AsyncSession, org_id: uuid.UUID | str, backup_id: uuid.UUID | str, stream: str
) -> list[ChainLink]:
    """The links of ``stream`` up to ``backup_id``'s item, oldest (the full item) first."""
    item = await item_of(db, org_id, backup_id, stream)
    if item is None:
        raise ChainBroken(f"backup {backup_id} holds no stream '{stream}'")
    links: list[ChainLink] = []
    seen: set[Any] = set()
    while True:
        if item.id in seen or len(links) > MAX_CHAIN:
            raise ChainBroken(f"the chain of stream '{stream}' loops")
        seen.add(item.id)
        backup = await db.get(Backup, item.backup_id)
        if backup is None or str(backup.org_id) != str(org_id):
            raise ChainBroken(f"backup {item.backup_id} of the chain is gone")
        links.append(await link_of(db, item, backup))
        if item.kind == "full":
            break
        if item.base_item_id is None:
            raise ChainBroken(
                f"the incremental backup {item.backup_id} of stream '{stream}' has no base backup"
            )
        base = await db.get(BackupItem, item.base_item_id)
        if base is None:
            raise ChainBroken(
                f"the backup that backup {item.backup_id} of stream '{stream}' "
                "builds on was deleted"
            )
        item = base
    links.reverse()
    return links


def chain_backup_ids(links: list[ChainLink]) -> list[str]:
    return [link.backup_id for link in links]

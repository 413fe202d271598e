"""The database rows of backups: creating a backup with its items (one per stream), finding the
base of an incremental item, the chain a backup needs, the backups that depend on one, and the
``BackupOut`` shape every reader gets (the API, the manifest written beside the chunks)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backups.models import DirectoryTarget, ObjectStoreTarget, Target
from core.db.models import Backup, BackupItem

PENDING: dict[str, Any] = {"status": "pending", "checked_at": None, "details": {}}


class StreamOut(BaseModel):
    stream: str
    kind: str
    status: str
    first_seq: int
    last_seq: int
    messages: int
    source_bytes: int
    stored_bytes: int
    base_backup_id: uuid.UUID | None
    consumers: list[str]


class VerificationOut(BaseModel):
    status: str = "pending"
    checked_at: datetime | None = None
    details: dict[str, Any] = {}


class BackupOut(BaseModel):
    id: uuid.UUID
    cluster_id: uuid.UUID
    team_id: uuid.UUID | None
    schedule_id: uuid.UUID | None
    kind: str
    reason: str
    target: dict[str, Any]
    status: str
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    duration_s: float | None
    size_bytes: int
    source_bytes: int
    message_count: int
    stream_count: int
    streams: list[StreamOut]
    chain: list[uuid.UUID]
    verification: VerificationOut
    operation_id: uuid.UUID | None
    created_by: uuid.UUID | None
    created_at: datetime


def target_dict(target: Target) -> dict[str, Any]:
    """A target as stored on a backup: ``{"type": "object_store", "cluster_id", "bucket"}`` or
    ``{"type": "directory", "directory"}``."""
    if isinstance(target, ObjectStoreTarget):
        return {
            "type": "object_store",
            "cluster_id": str(target.cluster_id),
            "bucket": target.bucket,
        }
    assert isinstance(target, DirectoryTarget)
    return {"type": "directory", "directory": target.directory}


def same_target(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("type", "cluster_id", "bucket", "directory")
    return all(a.get(k) == b.get(k) for k in keys)


def create_backup(
    db: AsyncSession,
    *,
    org_id: uuid.UUID,
    cluster_id: uuid.UUID,
    streams: list[str],
    kind: str,
    target: dict[str, Any],
    reason: str = "manual",
    team_id: uuid.UUID | None = None,
    schedule_id: uuid.UUID | None = None,
    operation_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
    backup_id: uuid.UUID | None = None,
) -> Backup:
    """Add a running backup and one pending item per stream (an incremental item's base is found
    when the backup starts: ``resolve_bases``)."""
    backup = Backup(
        id=backup_id or uuid.uuid4(),
        org_id=org_id,
        cluster_id=cluster_id,
        team_id=team_id,
        schedule_id=schedule_id,
        kind=kind,
        reason=reason,
        target=target,
        status="running",
        verification=dict(PENDING),
        stream_count=len(streams),
        operation_id=operation_id,
        created_by=created_by,
        size_bytes=0,
        source_bytes=0,
        message_count=0,
    )
    db.add(backup)
    for stream in streams:
        db.add(
            BackupItem(
                id=uuid.uuid5(backup.id, stream),
                backup_id=backup.id,
                stream=stream,
                kind=kind,
                status="pending",
                attempt=0,
                config={},
                state={},
                consumers=[],
            )
        )
    return backup


async def load_backup(db: AsyncSession, org_id: uuid.UUID, backup_id: uuid.UUID) -> Backup | None:
    return await db.scalar(select(Backup).where(Backup.id == backup_id, Backup.org_id == org_id))


async def items_of(
    db: AsyncSession, backup_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[BackupItem]]:
    out: dict[uuid.UUID, list[BackupItem]] = {b: [] for b in backup_ids}
    if backup_ids:
        for item in await db.scalars(
            select(BackupItem)
            .where(BackupItem.backup_id.in_(backup_ids))
            .order_by(BackupItem.stream)
        ):
            out[item.backup_id].append(item)
    return out


async def find_base(db: AsyncSession, backup: Backup, stream: str) -> BackupItem | None:
    """The item an incremental item of ``stream`` continues: the newest done item of that stream,
    of the same cluster, in a completed backup at the same target, older than ``backup``."""
    found = await db.execute(
        select(BackupItem, Backup)
        .join(Backup, Backup.id == BackupItem.backup_id)
        .where(
            Backup.org_id == backup.org_id,
            Backup.cluster_id == backup.cluster_id,
            Backup.status == "completed",
            Backup.id != backup.id,
            Backup.created_at <= backup.created_at,
            BackupItem.stream == stream,
            BackupItem.status == "done",
        )
        .order_by(Backup.created_at.desc(), BackupItem.last_seq.desc())
    )
    for item, owner in found:
        if same_target(owner.target, backup.target):
            return item
    return None


async def resolve_bases(db: AsyncSession, backup: Backup) -> None:
    """Give every incremental item of ``backup`` its base, or make it full when its stream has
    no earlier backup at the same target. An item resolved once stays as it is."""
    for item in (await items_of(db, [backup.id]))[backup.id]:
        if item.kind != "incremental" or item.base_item_id is not None:
            continue
        base = await find_base(db, backup, item.stream)
        if base is None:
            item.kind = "full"
        else:
            item.base_item_id = base.id


async def item_chain(db: AsyncSession, item: BackupItem) -> list[BackupItem]:
    """The items ``item`` needs to be restored, oldest (a full item) first, ending with it."""
    chain = [item]
    seen = {item.id}
    while chain[0].base_item_id is not None:
        base = await db.get(BackupItem, chain[0].base_item_id)
        if base is None or base.id in seen:
            break
        seen.add(base.id)
        chain.insert(0, base)
    return chain


async def backup_chain(db: AsyncSession, backup: Backup) -> list[uuid.UUID]:
    """The backups ``backup`` needs (its items' chains, in creation order), ending with it."""
    needed: dict[uuid.UUID, datetime] = {}
    for item in (await items_of(db, [backup.id]))[backup.id]:
        for member in (await item_chain(db, item))[:-1]:
            owner = await db.get(Backup, member.backup_id)
            if owner is not None:
                needed[owner.id] = owner.created_at
    ordered = sorted(needed, key=lambda b: (needed[b], str(b)))
    return [b for b in ordered if b != backup.id] + [backup.id]


async def dependents(db: AsyncSession, backup: Backup) -> list[Backup]:
    """The backups whose chains need ``backup`` (directly or through others), oldest first."""
    frontier = [i.id for i in (await items_of(db, [backup.id]))[backup.id]]
    found: dict[uuid.UUID, Backup] = {}
    while frontier:
        children = list(
            await db.scalars(select(BackupItem).where(BackupItem.base_item_id.in_(frontier)))
        )
        frontier = [c.id for c in children]
        for child in children:
            if child.backup_id not in found and child.backup_id != backup.id:
                owner = await db.get(Backup, child.backup_id)
                if owner is not None:
                    found[owner.id] = owner
    return sorted(found.values(), key=lambda b: b.created_at)


def consumer_names(consumers: list[Any]) -> list[str]:
    names = []
    for c in consumers or []:
        if isinstance(c, str):
            names.append(c)
        elif isinstance(c, dict):
            name = (
                c.get("name")
                or (c.get("config") or {}).get("durable_name")
                or (c.get("config") or {}).get("name")
            )
            if name:
                names.append(name)
    return names


def duration_s(backup: Backup) -> float | None:
    if backup.started_at and backup.completed_at:
        return round((backup.completed_at - backup.started_at).total_seconds(), 3)
    return None


async def backup_out(db: AsyncSession, backup: Backup) -> BackupOut:
    items = (await items_of(db, [backup.id]))[backup.id]
    streams = []
    for item in items:
        base = await db.get(BackupItem, item.base_item_id) if item.base_item_id else None
        streams.append(
            StreamOut(
                stream=item.stream,
                kind=item.kind,
                status=item.status,
                first_seq=item.first_seq,
                last_seq=item.last_seq,
                messages=item.messages,
                source_bytes=item.source_bytes,
                stored_bytes=item.stored_bytes,
                base_backup_id=base.backup_id if base else None,
                consumers=consumer_names(item.consumers),
            )
        )
    verification = {**PENDING, **(backup.verification or {})}
    return BackupOut(
        id=backup.id,
        cluster_id=backup.cluster_id,
        team_id=backup.team_id,
        schedule_id=backup.schedule_id,
        kind=backup.kind,
        reason=backup.reason,
        target=backup.target,
        status=backup.status,
        error=backup.error,
        started_at=backup.started_at,
        completed_at=backup.completed_at,
        duration_s=duration_s(backup),
        size_bytes=backup.size_bytes,
        source_bytes=backup.source_bytes,
        message_count=backup.message_count,
        stream_count=backup.stream_count,
        streams=streams,
        chain=await backup_chain(db, backup),
        verification=VerificationOut.model_validate(verification),
        operation_id=backup.operation_id,
        created_by=backup.created_by,
        created_at=backup.created_at,
    )


async def list_backups(
    db: AsyncSession,
    org_id: uuid.UUID,
    *,
    cluster_id: uuid.UUID | None = None,
    stream: str | None = None,
    schedule_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Backup]:
    query = select(Backup).where(Backup.org_id == org_id)
    if cluster_id is not None:
        query = query.where(Backup.cluster_id == cluster_id)
    if schedule_id is not None:
        query = query.where(Backup.schedule_id == schedule_id)
    if stream is not None:
        query = query.where(
            Backup.id.in_(select(BackupItem.backup_id).where(BackupItem.stream == stream))
        )
    query = query.order_by(Backup.created_at.desc(), Backup.id).limit(limit).offset(offset)
    return list(await db.scalars(query))

"""What a failover writes in PostgreSQL: the pair's active side, its last failover or drill, the
mirror rows it promoted or made (``reverse``), and the pair's roles swapped. Every write is an
idempotent overwrite; the caller commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import DrPair, Mirror
from core.replication.mirrors import consumer_name, deliver_subject
from core.replication.models import MirrorRequest


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return uuid.UUID(str(value))


async def pair_of(
    db: AsyncSession, org_id: str | uuid.UUID, pair_id: str | uuid.UUID | None
) -> DrPair | None:
    if pair_id is None:
        return None
    return await db.scalar(
        select(DrPair).where(DrPair.id == _uuid(pair_id), DrPair.org_id == _uuid(org_id))
    )


async def mirrors_on(
    db: AsyncSession,
    org_id: str | uuid.UUID,
    target_cluster_id: str | uuid.UUID,
    streams: list[str],
) -> dict[str, Mirror]:
    """The console's mirror rows of these target streams, by target stream."""
    rows = await db.scalars(
        select(Mirror).where(
            Mirror.org_id == _uuid(org_id),
            Mirror.target_cluster_id == _uuid(target_cluster_id),
            Mirror.target_stream.in_(streams),
        )
    )
    return {r.target_stream: r for r in rows}


async def set_active(db: AsyncSession, org_id: str, pair_id: str | None, cluster_id: str) -> None:
    if pair_id:
        await db.execute(
            update(DrPair)
            .where(DrPair.id == _uuid(pair_id), DrPair.org_id == _uuid(org_id))
            .values(active_cluster_id=_uuid(cluster_id))
        )


async def mark_promoted(
    db: AsyncSession, org_id: str, target_cluster_id: str, mirror_streams: list[str]
) -> None:
    if mirror_streams:
        await db.execute(
            update(Mirror)
            .where(
                Mirror.org_id == _uuid(org_id),
                Mirror.target_cluster_id == _uuid(target_cluster_id),
                Mirror.target_stream.in_(mirror_streams),
            )
            .values(state="promoted")
        )


async def record_outcome(
    db: AsyncSession, org_id: str, pair_id: str | None, field: str, record: dict[str, Any]
) -> None:
    """``last_drill`` or ``last_failover`` of the pair."""
    assert field in ("last_drill", "last_failover")
    if pair_id:
        await db.execute(
            update(DrPair)
            .where(DrPair.id == _uuid(pair_id), DrPair.org_id == _uuid(org_id))
            .values(**{field: record})
        )


async def register_mirror(
    db: AsyncSession,
    org_id: str,
    request: MirrorRequest,
    mirror_id: uuid.UUID,
    pair_id: str | None,
    operation_id: str,
    created_by: str | None,
) -> None:
    """The reverse's new mirror, as an active row; an older row of the same target (the stream
    it replaced, whose data was kept aside) is removed."""
    await db.execute(
        delete(Mirror).where(
            Mirror.target_cluster_id == request.target_cluster_id,
            Mirror.target_stream == request.target_stream,
            Mirror.id != mirror_id,
        )
    )
    pair = await pair_of(db, org_id, pair_id)
    values = dict(
        org_id=_uuid(org_id),
        source_cluster_id=request.source_cluster_id,
        source_stream=request.source_stream,
        target_cluster_id=request.target_cluster_id,
        target_stream=request.target_stream,
        consumer_name=consumer_name(mirror_id),
        deliver_subject=deliver_subject(mirror_id),
        spec=request.model_dump(mode="json"),
        state="active",
        pair_id=pair.id if pair else None,
        operation_id=_uuid(operation_id),
        created_by=_uuid(created_by) if created_by else None,
    )
    await db.execute(
        insert(Mirror)
        .values(id=mirror_id, **values)
        .on_conflict_do_update(
            index_elements=["id"], set_={k: v for k, v in values.items() if k != "created_by"}
        )
    )


async def swap_roles(
    db: AsyncSession,
    org_id: str,
    pair_id: str | None,
    new_primary: str,
    new_standby: str,
    streams: list[dict[str, str]],
) -> None:
    """After a reverse: the target is the primary, the old primary its standby (once: a retry
    finds the roles swapped and leaves them)."""
    if pair_id:
        await db.execute(
            update(DrPair)
            .where(
                DrPair.id == _uuid(pair_id),
                DrPair.org_id == _uuid(org_id),
                DrPair.primary_cluster_id == _uuid(new_standby),
            )
            .values(
                primary_cluster_id=_uuid(new_primary),
                standby_cluster_id=_uuid(new_standby),
                active_cluster_id=_uuid(new_primary),
                streams=streams,
            )
        )

"""The console's rows of its mirrors (``mirrors`` table): registering a job's mirrors, claiming
their target names, and moving them between states. Shared by the API (which registers a mirror
as it starts its operation) and the workflow's activities (which register those of an approved
change, and keep states current); every write is idempotent.

A target name (cluster, stream) belongs to one row. A new mirror may take it over from an older
row whose operation has ended (its stream was removed or never made: the API and the preparing
step check the cluster first); while another mirror's operation is still live, it is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import DrPair, Mirror, Operation
from core.operations import FINISHED
from core.replication.mirrors import consumer_name, deliver_subject
from core.replication.models import MirrorJob


class TargetClaimed(Exception):
    """Another mirror, whose operation is still live, is being made under that name."""

    def __init__(self, stream: str, mirror_id: uuid.UUID, operation_id: uuid.UUID | None):
        super().__init__(
            f"the stream name '{stream}' is being used by mirror {mirror_id} "
            f"(operation {operation_id}), still in progress"
        )
        self.mirror_id, self.operation_id = mirror_id, operation_id


async def _others(
    db: AsyncSession, target_cluster_id: uuid.UUID, target_stream: str, mirror_id: uuid.UUID | None
) -> list[Any]:
    query = (
        select(Mirror.id, Operation.id, Operation.status)
        .outerjoin(Operation, Operation.id == Mirror.operation_id)
        .where(Mirror.target_cluster_id == target_cluster_id, Mirror.target_stream == target_stream)
    )
    if mirror_id is not None:
        query = query.where(Mirror.id != mirror_id)
    return list((await db.execute(query)).all())


async def live_claim(
    db: AsyncSession,
    target_cluster_id: uuid.UUID,
    target_stream: str,
    mirror_id: uuid.UUID | None = None,
) -> TargetClaimed | None:
    """The refusal to give when another mirror's live operation holds this target name."""
    for other, operation_id, status in await _others(
        db, target_cluster_id, target_stream, mirror_id
    ):
        if status is not None and status not in FINISHED:
            return TargetClaimed(target_stream, other, operation_id)
    return None


async def claim_target(
    db: AsyncSession, target_cluster_id: uuid.UUID, target_stream: str, mirror_id: uuid.UUID
) -> None:
    """Remove older rows of this target whose operations have ended; refuse if one is live."""
    if claimed := await live_claim(db, target_cluster_id, target_stream, mirror_id):
        raise claimed
    rows = await _others(db, target_cluster_id, target_stream, mirror_id)
    if rows:
        await db.execute(delete(Mirror).where(Mirror.id.in_([r[0] for r in rows])))


async def register_job(
    db: AsyncSession,
    org_id: uuid.UUID,
    job: MirrorJob,
    operation_id: uuid.UUID,
    created_by: uuid.UUID | None,
) -> None:
    """A row per mirror of the job (state ``creating``), its target name claimed; rows that exist
    already are kept as they are. The caller commits."""
    pair_id = uuid.UUID(job.pair_id) if job.pair_id else None
    if pair_id is not None and await db.get(DrPair, pair_id) is None:
        pair_id = None  # the pair was deleted meanwhile: the mirrors are made all the same
    for request, mirror_id in zip(job.mirrors, job.mirror_ids, strict=False):
        mid = uuid.UUID(mirror_id)
        await claim_target(db, request.target_cluster_id, request.target_stream, mid)
        await db.execute(
            insert(Mirror)
            .values(
                id=mid,
                org_id=org_id,
                source_cluster_id=request.source_cluster_id,
                source_stream=request.source_stream,
                target_cluster_id=request.target_cluster_id,
                target_stream=request.target_stream,
                consumer_name=consumer_name(mid),
                deliver_subject=deliver_subject(mid),
                spec=request.model_dump(mode="json"),
                state="creating",
                pair_id=pair_id,
                operation_id=operation_id,
                created_by=created_by,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )


async def set_state(
    db: AsyncSession,
    org_id: uuid.UUID,
    mirror_ids: Iterable[str | uuid.UUID],
    state: str,
    only_from: Iterable[str] = (),
) -> int:
    """Move rows to ``state`` (only those in ``only_from``, when given); how many moved."""
    ids = [uuid.UUID(str(i)) for i in mirror_ids]
    query = update(Mirror).where(Mirror.org_id == org_id, Mirror.id.in_(ids))
    if only := list(only_from):
        query = query.where(Mirror.state.in_(only))
    # an UPDATE's result is a CursorResult (SQLAlchemy's types say Result)
    moved = cast(
        "CursorResult[Any]",
        await db.execute(query.values(state=state).execution_options(synchronize_session=False)),
    )
    return moved.rowcount or 0


async def find_by_target(
    db: AsyncSession, org_id: uuid.UUID, target_cluster_id: uuid.UUID, target_stream: str
) -> Mirror | None:
    return await db.scalar(
        select(Mirror).where(
            Mirror.org_id == org_id,
            Mirror.target_cluster_id == target_cluster_id,
            Mirror.target_stream == target_stream,
        )
    )

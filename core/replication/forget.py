"""A console mirror's stream was deleted (through ``DELETE /api/v1/mirrors/{id}``, or as a plain
stream): its durable consumer on the source goes too, and its row says ``removed``. Without this
the consumer would keep every message of the source pending for a mirror that no longer exists."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.jetstream.pool import ClusterPool
from core.replication import rows as mirror_rows
from core.replication.lifecycle import remove_consumer
from core.security import Cipher


async def forget_mirror(
    db: AsyncSession,
    pool: ClusterPool,
    cipher: Cipher,
    org_id: uuid.UUID,
    cluster_id: uuid.UUID,
    stream: str,
) -> bool:
    """Whether ``stream`` on ``cluster_id`` was a console mirror now forgotten. Commits."""
    row = await mirror_rows.find_by_target(db, org_id, cluster_id, stream)
    if row is None or row.state in ("removed", "promoted"):
        return False
    try:
        source = await get_cluster(db, org_id, row.source_cluster_id)
    except ClusterNotFound:
        source = None
    if source is not None and row.consumer_name:
        await remove_consumer(
            await pool.jetstream(endpoint(cipher, source)), row.source_stream, row.consumer_name
        )
    await mirror_rows.set_state(db, org_id, [row.id], "removed")
    await db.commit()
    return True

"""Opening a backup's target from the service side (the API and the bookkeeping activities), with
the engine's ``core.backups.targets.open_target``: an object store on a cluster of the backup's
organization (through the connection pool), or a directory under the backup root."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clusters import get_cluster

if TYPE_CHECKING:
    from core.backups.targets import BackupTarget, JetStreamConnect
    from core.jetstream.api import JetStreamApi
    from core.jetstream.pool import ClusterPool
    from core.security import Cipher


def jetstream_of(
    sessions: async_sessionmaker[AsyncSession],
    pool: ClusterPool,
    cipher: Cipher,
    org_id: uuid.UUID | str,
) -> JetStreamConnect:
    from core.clusters import endpoint

    async def connect(cluster_id: str) -> JetStreamApi:
        async with sessions() as db:
            cluster = await get_cluster(db, uuid.UUID(str(org_id)), uuid.UUID(str(cluster_id)))
        return await pool.jetstream(endpoint(cipher, cluster))

    return connect


@asynccontextmanager
async def opened(
    target: dict[str, Any],
    org_id: uuid.UUID | str,
    *,
    sessions: async_sessionmaker[AsyncSession],
    pool: ClusterPool,
    cipher: Cipher,
    settings: Any,
    create: bool = True,
) -> AsyncIterator[BackupTarget]:
    from core.backups.targets import open_target  # the engine's

    store = await open_target(
        target,
        org_id,
        jetstream=jetstream_of(sessions, pool, cipher, org_id),
        backups_root=settings.backups_root,
        create=create,
    )
    try:
        yield store
    finally:
        await store.close()

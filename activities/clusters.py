"""Cluster activities: probe a registered cluster and record its status (an idempotent update)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.jetstream.pool import ClusterPool, server_info
from core.security import Cipher
from workflows.types import ClusterProbeInput, ClusterProbeResult


class ClusterActivities:
    def __init__(self, sessions: async_sessionmaker, cipher: Cipher, pool: ClusterPool):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool

    @activity.defn(name="probe_cluster")
    async def probe_cluster(self, data: ClusterProbeInput) -> ClusterProbeResult:
        now = datetime.now(timezone.utc)
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(data.org_id), uuid.UUID(data.cluster_id))
            except ClusterNotFound:
                return ClusterProbeResult(cluster_id=data.cluster_id, status="unreachable",
                                          error="cluster is no longer registered", checked_at=now)
            status, version, error = "healthy", None, None
            try:
                js = await self.pool.jetstream(endpoint(self.cipher, cluster))
                version = server_info(js.nc).get("version")
                await js.account_info()
            except Exception as exc:  # unreachable, or reachable without JetStream
                connected = bool(version)
                status, error = ("degraded" if connected else "unreachable"), str(exc)
            cluster.status, cluster.version = status, version or cluster.version
            await db.commit()
        return ClusterProbeResult(cluster_id=data.cluster_id, status=status, version=version,
                                  error=error, checked_at=now)

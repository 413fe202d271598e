"""Cluster activities: probe a registered cluster and record its status (an idempotent update)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import NatsCluster
from core.jetstream.pool import ClusterPool, server_info
from core.security import Cipher
from workflows.types import ClusterProbeInput, ClusterProbeResult

MAX_SWEPT = 5000  # clusters probed by one sweep


class ClusterActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher, pool: ClusterPool
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool

    @activity.defn(name="clusters_to_probe")
    async def clusters_to_probe(self) -> list[ClusterProbeInput]:
        """Every registered cluster of every organization (the sweep of ``jsc-cluster-health``)."""
        async with self.sessions() as db:
            rows = (
                await db.execute(
                    select(NatsCluster.org_id, NatsCluster.id)
                    .order_by(NatsCluster.created_at)
                    .limit(MAX_SWEPT)
                )
            ).all()
        return [ClusterProbeInput(org_id=str(org), cluster_id=str(cid)) for org, cid in rows]

    @activity.defn(name="probe_cluster")
    async def probe_cluster(self, data: ClusterProbeInput) -> ClusterProbeResult:
        now = datetime.now(UTC)
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(data.org_id), uuid.UUID(data.cluster_id))
            except ClusterNotFound:
                return ClusterProbeResult(
                    cluster_id=data.cluster_id,
                    status="unreachable",
                    error="cluster is no longer registered",
                    checked_at=now,
                )
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
        return ClusterProbeResult(
            cluster_id=data.cluster_id, status=status, version=version, error=error, checked_at=now
        )

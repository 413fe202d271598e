"""The replication map: every mirror and source between the organization's clusters, found on the
clusters (also those the console did not make), with lag in messages and seconds, catch-up rate and
status, and for each DR pair whether its RPO holds now (``core.replication.overview``).

All clusters are read at once, each within a few seconds: an unreachable cluster is shown as such
(with the last known figures of its edges) and never makes the answer slow."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query

from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, require
from core.replication.overview import build_map
from core.replication.topology import load_world
from core.replication.views import ReplicationMap

router = APIRouter(prefix="/api/v1/replication", tags=["replication"])


@router.get("", response_model=ReplicationMap)
async def replication_map(
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:read")),
    cluster_id: uuid.UUID | None = Query(
        default=None, description="only what replicates from or to this cluster"
    ),
) -> ReplicationMap:
    if cluster_id is not None:
        await load_cluster(db, principal, cluster_id)
    world = await load_world(db, principal.org_id)
    await db.close()  # the clusters are read next: no database connection held meanwhile
    return await build_map(world, svc.clusters, svc.cipher, svc.redis, cluster_id=cluster_id)

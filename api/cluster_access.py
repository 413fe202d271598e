"""Reaching a cluster of the caller's organization: the 404 for any other, and its JetStream API."""

from __future__ import annotations

import uuid

from api.deps import Db, Principal, Svc
from api.errors import ProblemError
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import NatsCluster
from core.jetstream.api import JetStreamApi


async def load_cluster(db: Db, principal: Principal, cluster_id: uuid.UUID) -> NatsCluster:
    try:
        return await get_cluster(db, principal.org_id, cluster_id)
    except ClusterNotFound as exc:
        raise ProblemError(404, f"No cluster with id {cluster_id} in your organization.") from exc


async def cluster_jetstream(
    db: Db, svc: Svc, principal: Principal, cluster_id: uuid.UUID
) -> tuple[NatsCluster, JetStreamApi]:
    cluster = await load_cluster(db, principal, cluster_id)
    return cluster, await svc.clusters.jetstream(endpoint(svc.cipher, cluster))

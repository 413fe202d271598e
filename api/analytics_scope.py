"""What of the metrics a caller may read: the organization's clusters its ``clusters:read``
covers (scope ``*`` or ``cluster:{id}``), and within them the streams its ``streams:read`` covers
(``team`` scopes: its teams' namespaces). Another organization's cluster is a 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select

from api.deps import Principal, _guarded, deny, stream_prefixes
from api.errors import ProblemError
from core.db.models import NatsCluster


@dataclass
class MetricsScope:
    clusters: dict[uuid.UUID, NatsCluster]
    prefixes: dict[uuid.UUID, list[str] | None]  # per cluster; None: every stream

    def prefixes_for(self, ids: list[uuid.UUID]) -> list[str] | None:
        """One prefix list for a query over ``ids`` (None: no limit)."""
        found = [self.prefixes[c] for c in ids]
        if all(p is None for p in found):
            return None
        return sorted({p for ps in found if ps is not None for p in ps})


async def metrics_scope(
    request: Request, principal: Principal, cluster_id: uuid.UUID | None = None
) -> MetricsScope:
    services = request.app.state.services
    async with services.sessions() as db:
        query = select(NatsCluster).where(NatsCluster.org_id == principal.org_id)
        if cluster_id is not None:
            query = query.where(NatsCluster.id == cluster_id)
        clusters = list((await db.scalars(query)).all())
    if cluster_id is not None and not clusters:
        raise ProblemError(404, f"No cluster with id {cluster_id} in your organization.")
    granted = principal.scopes("clusters:read")
    readable = {c.id: c for c in clusters if "*" in granted or f"cluster:{c.id}" in granted}
    if cluster_id is not None and not readable:
        await deny(
            request,
            principal,
            "clusters:read",
            f"Your role '{principal.role}' may not read the cluster {cluster_id}.",
        )
    prefixes = {
        cid: await stream_prefixes(request, principal, "streams:read", cid) for cid in readable
    }
    return MetricsScope(readable, prefixes)


def read_metrics():
    """Dependency: ``clusters:read`` in any scope (``metrics_scope`` narrows to what it covers)."""

    async def _check(
        request: Request, principal: Principal = _guarded("clusters:read", "team")
    ) -> Principal:
        if not principal.scopes("clusters:read"):
            await deny(
                request,
                principal,
                "clusters:read",
                f"Your role '{principal.role}' may not read the clusters' metrics.",
            )
        return principal

    _check.permission = "clusters:read"
    _check.scope = "team"
    return _check

"""Registered NATS clusters: CRUD (credentials write-only), health and server/account info.

Server URLs carry no credentials (422 on ``server_urls``: they go in ``credentials``) and point
only where the outbound policy allows (public addresses and ``JSC_ALLOWED_CLUSTER_NETWORKS``),
checked after DNS resolution when stored and again at every connection. A failed probe says only
that the cluster could not be reached; the detail is in the server log. A health probe records who
answered (``server_identity``, from the server's INFO); a change of URLs or credentials forgets it
until the server is reached again, so a registration is never judged as the server it used to
reach (``core.cluster_identity``)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.schemas import ClusterCreate, ClusterHealth, ClusterOut, ClusterUpdate
from core.cluster_identity import server_identity
from core.clusters import check_server_urls, credentials_type, endpoint, seal_connections, shown_url
from core.db.models import NatsCluster
from core.jetstream.api import JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterAddressRefused, ClusterUnreachable, server_info
from core.netpolicy import OutboundRefused

router = APIRouter(prefix="/api/v1/clusters", tags=["clusters"])
log = logging.getLogger(__name__)
STATUS_TTL_S = 30
UNREACHABLE = "could not connect to the cluster"
_INVALID = (
    "Invalid input, e.g. a server URL with credentials in it or to an address the "
    "platform does not allow (field `server_urls`)"
)


def to_out(svc: Svc, cluster: NatsCluster) -> ClusterOut:
    return ClusterOut(
        id=cluster.id,
        name=cluster.name,
        description=cluster.description,
        environment=cluster.environment,
        server_urls=[shown_url(c.server_url) for c in cluster.connections],
        jetstream_domain=cluster.jetstream_domain,
        monitoring_url=cluster.monitoring_url,
        credentials_type=credentials_type(svc.cipher, cluster),
        tls_enabled=any(c.tls_config for c in cluster.connections),
        status=cluster.status,
        version=cluster.version,
        created_at=cluster.created_at,
        updated_at=cluster.updated_at,
    )


def _public(body: dict) -> dict:
    """What an audit record may say of a cluster change: never credentials or TLS keys."""
    return {k: v for k, v in body.items() if k not in ("credentials", "tls")}


async def _allowed(svc: Svc, urls: list[str]) -> None:
    try:
        await check_server_urls(svc.settings.cluster_policy, urls)
    except OutboundRefused as exc:
        raise ProblemError(
            422,
            f"Invalid input: server_urls: {exc}",
            errors=[{"field": "server_urls", "message": str(exc)}],
        ) from exc


async def _commit_unique(db: Db, name: str) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409, f"A cluster named '{name}' already exists in your organization."
        ) from exc


@router.get("", response_model=dict[str, list[ClusterOut]])
async def list_clusters(db: Db, svc: Svc, principal: Principal = Depends(require("clusters:read"))):
    rows = await db.scalars(
        select(NatsCluster).where(NatsCluster.org_id == principal.org_id).order_by(NatsCluster.name)
    )
    return {"items": [to_out(svc, c) for c in rows]}


@router.post("", status_code=201, response_model=ClusterOut)
async def create_cluster(
    body: ClusterCreate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:create")),
) -> ClusterOut:
    await _allowed(svc, body.server_urls)
    cluster = NatsCluster(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        name=body.name,
        description=body.description,
        environment=body.environment,
        jetstream_domain=body.jetstream_domain,
        monitoring_url=body.monitoring_url,
    )
    seal_connections(
        svc.cipher,
        cluster,
        body.server_urls,
        body.credentials.model_dump(),
        body.tls.model_dump() if body.tls else None,
    )
    db.add(cluster)
    await _commit_unique(db, body.name)
    await db.refresh(cluster)
    await audit(
        request,
        principal,
        action="cluster.create",
        resource_type="cluster",
        resource_id=str(cluster.id),
        resource_name=cluster.name,
        cluster_id=cluster.id,
        changes={"after": _public(body.model_dump(mode="json"))},
    )
    return to_out(svc, cluster)


@router.get("/{cluster_id}", response_model=ClusterOut)
async def read_cluster(
    cluster_id: uuid.UUID,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:read")),
) -> ClusterOut:
    return to_out(svc, await load_cluster(db, principal, cluster_id))


@router.patch("/{cluster_id}", response_model=ClusterOut)
async def update_cluster(
    cluster_id: uuid.UUID,
    body: ClusterUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:update")),
):
    cluster = await load_cluster(db, principal, cluster_id)
    if body.server_urls:
        await _allowed(svc, body.server_urls)
    before = to_out(svc, cluster).model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "description", "environment", "jetstream_domain", "monitoring_url"):
        if field in changes:
            setattr(cluster, field, changes[field])
    if {"server_urls", "credentials", "tls"} & changes.keys():
        # It may now reach another server: who it is is learnt again (core.cluster_identity).
        cluster.server_identity = None
        current = endpoint(svc.cipher, cluster)
        seal_connections(
            svc.cipher,
            cluster,
            body.server_urls or list(current.server_urls),
            body.credentials.model_dump() if body.credentials else current.credentials,
            (body.tls.model_dump() if body.tls else None) if "tls" in changes else current.tls,
        )
    await _commit_unique(db, cluster.name)
    await db.refresh(cluster)
    await svc.clusters.forget(str(cluster.id))
    after = to_out(svc, cluster).model_dump(mode="json")
    await audit(
        request,
        principal,
        action="cluster.update",
        resource_type="cluster",
        resource_id=str(cluster.id),
        resource_name=cluster.name,
        cluster_id=cluster.id,
        changes={
            "before": before,
            "after": after,
            "secrets_changed": sorted({"credentials", "tls"} & changes.keys()),
        },
    )
    return to_out(svc, cluster)


@router.delete("/{cluster_id}", status_code=204)
async def delete_cluster(
    cluster_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:delete")),
) -> None:
    cluster = await load_cluster(db, principal, cluster_id)
    before = to_out(svc, cluster).model_dump(mode="json")
    await db.delete(cluster)
    await db.commit()
    await svc.clusters.forget(str(cluster_id))
    await svc.redis.delete(f"cluster:{cluster_id}:status")
    await audit(
        request,
        principal,
        action="cluster.delete",
        resource_type="cluster",
        resource_id=str(cluster_id),
        resource_name=before["name"],
        cluster_id=cluster_id,
        changes={"before": before},
    )


@router.get("/{cluster_id}/health", response_model=ClusterHealth)
async def cluster_health(
    cluster_id: uuid.UUID,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:read")),
) -> ClusterHealth:
    cluster = await load_cluster(db, principal, cluster_id)
    health = await probe(svc, cluster)
    cluster.status = health.status
    cluster.version = health.version or cluster.version
    await db.commit()
    await svc.redis.hset(
        f"cluster:{cluster_id}:status",
        mapping={
            "status": health.status,
            "version": cluster.version or "",
            "last_check": health.checked_at.isoformat(),
        },
    )
    await svc.redis.expire(f"cluster:{cluster_id}:status", STATUS_TTL_S)
    return health


async def probe(svc: Svc, cluster: NatsCluster) -> ClusterHealth:
    now = datetime.now(UTC)
    try:
        nc = await svc.clusters.connection(endpoint(svc.cipher, cluster))
        started = time.perf_counter()
        await nc.flush(timeout=2)
        rtt_ms = round((time.perf_counter() - started) * 1000, 3)
        info = server_info(nc)
        version = info.get("version")
        cluster.server_identity = server_identity(info)  # who answered, for change_gate
    except ClusterAddressRefused as exc:  # the policy, not the network: say so
        return ClusterHealth(
            status="unreachable", connected=False, jetstream=False, error=str(exc), checked_at=now
        )
    except Exception as exc:  # any failure to reach it (refused, timeout, auth) is "unreachable"
        # Which one stays in the log: told to the caller, it would map open ports.
        log.warning(
            "cluster %s (%s): health probe failed: %s",
            cluster.name,
            cluster.id,
            getattr(exc, "reason", None) or str(exc) or type(exc).__name__,
        )
        return ClusterHealth(
            status="unreachable",
            connected=False,
            jetstream=False,
            error=UNREACHABLE,
            checked_at=now,
        )
    try:
        await (await svc.clusters.jetstream(endpoint(svc.cipher, cluster))).account_info()
    except (JetStreamError, JetStreamUnavailable, ClusterUnreachable) as exc:
        return ClusterHealth(
            status="degraded",
            connected=True,
            jetstream=False,
            rtt_ms=rtt_ms,
            version=version,
            error=f"JetStream: {exc}",
            checked_at=now,
        )
    return ClusterHealth(
        status="healthy",
        connected=True,
        jetstream=True,
        rtt_ms=rtt_ms,
        version=version,
        checked_at=now,
    )


@router.get("/{cluster_id}/info")
async def cluster_info(
    cluster_id: uuid.UUID,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("clusters:read")),
) -> dict:
    cluster = await load_cluster(db, principal, cluster_id)
    js = await svc.clusters.jetstream(endpoint(svc.cipher, cluster))
    info = server_info(js.nc)
    account = await js.account_info()
    return {
        "server": {
            "version": info.get("version"),
            "server_id": info.get("server_id"),
            "server_name": info.get("server_name"),
            "cluster": info.get("cluster"),
            "jetstream_domain": account.get("domain") or cluster.jetstream_domain,
            "go": info.get("go"),
            "max_payload": info.get("max_payload"),
            "connect_urls": info.get("connect_urls", []),
        },
        "account": {
            k: account.get(k)
            for k in (
                "memory",
                "storage",
                "reserved_memory",
                "reserved_storage",
                "streams",
                "consumers",
                "limits",
                "api",
                "domain",
            )
        },
    }

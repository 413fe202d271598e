"""The replication map of one organization (``GET /api/v1/replication``): scan every cluster at
once (each within ``SCAN_TIMEOUT_S``), find the edges, measure them (``MEASURE_CONCURRENCY`` at a
time, each source request within ``MEASURE_TIMEOUT_S``; a source that lets one time out is not
asked again), and say for each DR pair whether its RPO holds now.

An unreachable cluster costs at most the scan cap and is shown as such; its edges keep the last
known figures. Nothing of another organization is read: the world is the caller's clusters,
mirrors and pairs (``topology.load_world``)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import redis.asyncio as aioredis

from core.db.models import DrPair
from core.jetstream.pool import ClusterPool
from core.replication import lag as L
from core.replication.measure import (
    MEASURE_TIMEOUT_S,
    Measured,
    keep,
    measure_edge,
    recall,
    unmeasured,
)
from core.replication.topology import (
    SCAN_TIMEOUT_S,
    ClusterScan,
    Edge,
    World,
    discover,
    keep_topology,
    scan_cluster,
)
from core.replication.views import ClusterNode, PairStreamView, PairView, ReplicationMap
from core.security import Cipher

log = logging.getLogger(__name__)
MEASURE_CONCURRENCY = 32  # edges measured at once (each a request or two to its source)


async def build_map(
    world: World,
    pool: ClusterPool,
    cipher: Cipher,
    redis: aioredis.Redis,
    *,
    cluster_id: uuid.UUID | None = None,
    scan_timeout: float = SCAN_TIMEOUT_S,
    measure_timeout: float = MEASURE_TIMEOUT_S,
) -> ReplicationMap:
    """The map; with ``cluster_id``, only what replicates from or to that cluster (and the pairs
    it belongs to)."""
    found = await asyncio.gather(
        *(scan_cluster(pool, cipher, c, scan_timeout) for c in world.clusters)
    )
    scans = {scan.cluster.id: scan for scan in found}
    await keep_topology(redis, scans)
    edges = discover(world, scans)
    pairs = world.pairs
    if cluster_id is not None:
        edges = [
            e for e in edges if cluster_id in (e.target.id, getattr(e.source_cluster, "id", None))
        ]
        pairs = [p for p in pairs if cluster_id in (p.primary_cluster_id, p.standby_cluster_id)]
    memories = await recall(redis, [e.key for e in edges])
    now = time.time()
    gate = asyncio.Semaphore(MEASURE_CONCURRENCY)

    async def measure(edge: Edge) -> Measured:
        async with gate:
            try:
                return await measure_edge(edge, scans, memories.get(edge.key), now, measure_timeout)
            except Exception:  # one odd edge does not take the map down; the log has it
                log.exception("replication map: could not measure %s", edge.key)
                return unmeasured(
                    edge,
                    memories.get(edge.key),
                    now,
                    "unknown",
                    "the edge could not be measured (see the server log)",
                )

    measured = await asyncio.gather(*(measure(e) for e in edges))
    await keep(
        redis,
        {e.key: m.memory for e, m in zip(edges, measured, strict=False) if m.memory is not None},
    )
    results = list(zip(edges, measured, strict=False))
    results.sort(
        key=lambda r: (r[0].target.name, r[0].target_stream, r[0].kind, r[0].source_stream)
    )
    shown = _shown_clusters(world, cluster_id, edges, pairs)
    return ReplicationMap(
        clusters=[_node(scans[c.id]) for c in world.clusters if c.id in shown],
        edges=[m.view for _, m in results],
        pairs=[_pair(p, results, scans) for p in pairs],
    )


def _shown_clusters(
    world: World, cluster_id: uuid.UUID | None, edges: list[Edge], pairs: list[DrPair]
) -> set[uuid.UUID]:
    if cluster_id is None:
        return {c.id for c in world.clusters}
    shown = {cluster_id}
    for edge in edges:
        shown.add(edge.target.id)
        if edge.source_cluster is not None:
            shown.add(edge.source_cluster.id)
    for pair in pairs:
        shown |= {pair.primary_cluster_id, pair.standby_cluster_id}
    return shown


def _node(scan: ClusterScan) -> ClusterNode:
    c = scan.cluster
    return ClusterNode(
        id=c.id,
        name=c.name,
        environment=c.environment,
        jetstream_domain=c.jetstream_domain,
        reachable=scan.reachable,
        error=scan.error,
    )


def _pair(
    pair: DrPair, results: list[tuple[Edge, Measured]], scans: dict[uuid.UUID, ClusterScan]
) -> PairView:
    """Each protected stream's edge from the active side to the other side."""
    active = pair.active_cluster_id
    forward = active == pair.primary_cluster_id
    other = pair.standby_cluster_id if forward else pair.primary_cluster_id
    sides_readable = all(scans.get(c) is not None and scans[c].reachable for c in (active, other))
    lags: list[L.PairStreamLag] = []
    views: list[PairStreamView] = []
    for entry in pair.streams or []:
        stream = entry.get("stream", "")
        mirror_stream = entry.get("mirror_stream") or stream
        source, target = (stream, mirror_stream) if forward else (mirror_stream, stream)
        match = next(
            (
                (e, m)
                for e, m in results
                if e.target.id == other
                and e.target_stream == target
                and e.source_stream == source
                and e.source_cluster is not None
                and e.source_cluster.id == active
            ),
            None,
        )
        if match is None:
            missing = sides_readable
            lags.append(L.PairStreamLag(None, None, missing=missing))
            views.append(
                PairStreamView(
                    stream=stream,
                    mirror_stream=mirror_stream,
                    status="error" if missing else "unknown",
                    lag_messages=None,
                    lag_seconds=None,
                )
            )
            continue
        measured = match[1]
        view = measured.view
        if measured.fresh:
            lags.append(L.PairStreamLag(view.lag_messages, view.lag_seconds))
        else:
            lags.append(L.PairStreamLag(None, None, known_lag_messages=measured.known_lag_messages))
        views.append(
            PairStreamView(
                stream=stream,
                mirror_stream=mirror_stream,
                status=view.status,
                lag_messages=view.lag_messages,
                lag_seconds=view.lag_seconds,
            )
        )
    health = L.pair_health(pair.rpo_seconds, lags, sides_readable)
    return PairView(
        id=pair.id,
        name=pair.name,
        primary_cluster_id=pair.primary_cluster_id,
        standby_cluster_id=pair.standby_cluster_id,
        active_cluster_id=active,
        rpo_seconds=pair.rpo_seconds,
        rto_seconds=pair.rto_seconds,
        rpo_ok=health.rpo_ok,
        data_at_risk_messages=health.data_at_risk_messages,
        worst_lag_seconds=(
            None if health.worst_lag_seconds is None else round(health.worst_lag_seconds, 3)
        ),
        last_drill=pair.last_drill,
        streams=views,
    )

"""Which replication exists between an organization's clusters: found on the clusters themselves
(every stream with a ``mirror`` or ``sources``), whoever made it, and joined with what the console
knows (its ``mirrors`` rows and DR pairs).

- ``scan_cluster`` lists a cluster's streams within a time cap: an unreachable cluster is marked so,
  it never makes the caller wait longer than the cap.
- ``discover`` (pure) turns the scans into ``Edge``s. A source without ``external`` is in the same
  cluster; ``external.api`` ``$JS.<domain>.API`` names its JetStream domain, resolved to a cluster
  **of the same organization** with that ``jetstream_domain`` only (else the edge names the domain
  and no cluster: another tenant's registration of the same server is never revealed).
- A cluster that cannot be read now keeps the edges it had when last read (its replicating
  streams' configs, kept in Redis by ``keep_topology`` for ``TOPOLOGY_TTL_S``), and a console
  mirror on it is an edge from its row in any case: their lag is counted on the source and their
  broken link shown, instead of their vanishing from the map.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clusters import endpoint
from core.db.models import DrPair, Mirror, NatsCluster
from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.security import Cipher

log = logging.getLogger(__name__)
SCAN_TIMEOUT_S = 3.0
TOPOLOGY_TTL_S = 24 * 3600
LIVE_MIRROR_STATES = ("creating", "active", "paused", "failed")  # rows that still name a mirror
_API = re.compile(r"^\$JS\.(?P<domain>[^.]+)\.API$")

EdgeKind = Literal["mirror", "source"]


@dataclass
class World:
    """What the console knows of one organization: its clusters, mirrors and DR pairs."""

    clusters: list[NatsCluster]
    mirrors: list[Mirror]
    pairs: list[DrPair]

    def cluster(self, cluster_id: uuid.UUID | None) -> NatsCluster | None:
        return next((c for c in self.clusters if c.id == cluster_id), None)

    def server_of(self, cluster_id: uuid.UUID) -> str:
        """Who the cluster's server is (its recorded identity), so that two registrations of one
        server are known as one; the registration itself when its identity is not known yet."""
        cluster = self.cluster(cluster_id)
        return (
            cluster.server_identity
            if cluster is not None and cluster.server_identity
            else str(cluster_id)
        )


async def load_world(db: AsyncSession, org_id: uuid.UUID) -> World:
    clusters = list(
        await db.scalars(
            select(NatsCluster)
            .where(NatsCluster.org_id == org_id)
            .order_by(NatsCluster.name, NatsCluster.id)
        )
    )
    mirrors = list(
        await db.scalars(
            select(Mirror)
            .where(Mirror.org_id == org_id, Mirror.state.in_(LIVE_MIRROR_STATES))
            .order_by(Mirror.created_at)
        )
    )
    pairs = list(
        await db.scalars(select(DrPair).where(DrPair.org_id == org_id).order_by(DrPair.name))
    )
    return World(clusters, mirrors, pairs)


@dataclass
class ClusterScan:
    cluster: NatsCluster
    reachable: bool
    error: str | None = None
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> STREAM.INFO
    js: JetStreamApi | None = None
    # unreachable: the replicating streams' configs when it was last read (name -> config)
    remembered: dict[str, dict[str, Any]] = field(default_factory=dict)


async def scan_cluster(
    pool: ClusterPool, cipher: Cipher, cluster: NatsCluster, timeout: float = SCAN_TIMEOUT_S
) -> ClusterScan:
    """Every stream of the cluster (config, state, mirror and sources info), or why not."""

    async def _list() -> tuple[JetStreamApi, list[dict[str, Any]]]:
        js = await pool.jetstream(endpoint(cipher, cluster))
        return js, await js.stream_list()

    try:
        js, streams = await asyncio.wait_for(_list(), timeout)
    except TimeoutError:
        return ClusterScan(cluster, False, f"the cluster did not answer within {timeout:g} s")
    except (ClusterUnreachable, JetStreamUnavailable) as exc:
        return ClusterScan(cluster, False, str(exc))
    except JetStreamError as exc:
        return ClusterScan(cluster, False, f"JetStream refused to list streams: {exc.description}")
    except Exception:  # a map is still drawn; the detail goes to the server log only
        log.exception("replication map: could not read cluster %s (%s)", cluster.name, cluster.id)
        return ClusterScan(cluster, False, "the cluster could not be read (see the server log)")
    return ClusterScan(
        cluster,
        True,
        None,
        {s["config"]["name"]: s for s in streams if s.get("config", {}).get("name")},
        js,
    )


def _topology_key(cluster_id: uuid.UUID) -> str:
    return f"replication:topology:{cluster_id}"


async def keep_topology(redis: aioredis.Redis, scans: dict[uuid.UUID, ClusterScan]) -> None:
    """Remember the replicating streams of every cluster read now; give every cluster that could
    not be read the ones it had when last read."""
    unread = [scan for scan in scans.values() if not scan.reachable]
    if unread:
        values = await redis.mget([_topology_key(s.cluster.id) for s in unread])
        for scan, value in zip(unread, values, strict=False):
            try:
                scan.remembered = json.loads(value) if value else {}
            except ValueError:
                scan.remembered = {}
    async with redis.pipeline(transaction=False) as pipe:
        for scan in scans.values():
            if scan.reachable:
                replicating = {
                    name: {
                        k: info["config"][k]
                        for k in ("name", "mirror", "sources")
                        if info["config"].get(k)
                    }
                    for name, info in scan.streams.items()
                    if info["config"].get("mirror") or info["config"].get("sources")
                }
                pipe.set(_topology_key(scan.cluster.id), json.dumps(replicating), ex=TOPOLOGY_TTL_S)
        await pipe.execute()


@dataclass
class Edge:
    """One replication: ``target_stream`` of ``target`` copies ``source_stream`` (of
    ``source_cluster`` when the organization has it registered, else of ``source_domain``)."""

    kind: EdgeKind
    target: NatsCluster
    target_stream: str
    source_stream: str
    source_domain: str | None
    source_cluster: NatsCluster | None
    config: dict[str, Any] = field(default_factory=dict)  # the target's mirror / sources[i] config
    link: dict[str, Any] | None = None  # the target's mirror / sources[i] info (lag, active, error)
    target_info: dict[str, Any] | None = None  # the target stream (None: not read now)
    target_reachable: bool = True
    row: Mirror | None = None
    pair: DrPair | None = None
    absent: str = ""  # a console mirror not (or no longer) on its target: why
    problem: str = ""  # why the source cannot be resolved

    @property
    def key(self) -> str:
        """Names the edge in Redis (the previous measurement)."""
        base = f"{self.target.id}:{self.target_stream}:{self.kind}"
        if self.kind == "mirror":
            return base
        return f"{base}:{self.source_domain or ''}:{self.source_stream}"

    @property
    def filter_subjects(self) -> list[str]:
        if self.row is not None:
            spec = self.row.spec or {}
            return list(
                spec.get("filter_subjects")
                or [t["src"] for t in spec.get("subject_transforms") or [] if t.get("src")]
            )
        subjects = [self.config["filter_subject"]] if self.config.get("filter_subject") else []
        return subjects + [
            t["src"]
            for t in self.config.get("subject_transforms") or []
            if t.get("src") and t["src"] not in subjects
        ]

    @property
    def target_last_seq(self) -> int | None:
        return int(self.target_info["state"]["last_seq"]) if self.target_info else None


def api_domain(api: str | None, local: str | None) -> tuple[str | None, bool]:
    """(domain, understood) of a source's ``external.api``: none is the target's own JetStream."""
    if not api or api == "$JS.API":
        return local, True
    found = _API.match(api)
    return (found["domain"], True) if found else (None, False)


class _Resolver:
    """Source clusters by JetStream domain, among the organization's clusters only."""

    def __init__(self, world: World):
        self.world = world
        self.by_domain: dict[str | None, list[NatsCluster]] = {}
        for cluster in world.clusters:
            self.by_domain.setdefault(cluster.jetstream_domain, []).append(cluster)

    def source(
        self, target: NatsCluster, config: dict[str, Any], row: Mirror | None
    ) -> tuple[NatsCluster | None, str | None, str]:
        api = (config.get("external") or {}).get("api")
        domain, understood = api_domain(api, target.jetstream_domain)
        if not understood:
            return (
                None,
                None,
                (
                    f"the source is read through '{api}', which names no JetStream "
                    "domain: the console cannot tell which cluster it is"
                ),
            )
        if not api or api == "$JS.API" or domain == target.jetstream_domain:
            return target, domain, ""
        if (
            row is not None
            and (known := self.world.cluster(row.source_cluster_id)) is not None
            and known.jetstream_domain == domain
        ):
            return known, domain, ""
        candidates = self.by_domain.get(domain, [])
        if not candidates:
            return None, domain, ""
        paired = {
            p.primary_cluster_id for p in self.world.pairs if p.standby_cluster_id == target.id
        }
        paired |= {
            p.standby_cluster_id for p in self.world.pairs if p.primary_cluster_id == target.id
        }
        return next((c for c in candidates if c.id in paired), candidates[0]), domain, ""


def _source_info(info: dict[str, Any], config: dict[str, Any], index: int) -> dict[str, Any] | None:
    """The server's report on one configured source (matched by name and API, else position)."""
    reports: list[dict[str, Any]] = info.get("sources") or []
    api = (config.get("external") or {}).get("api")
    for report in reports:
        same_api = (report.get("external") or {}).get("api") == api
        if report.get("name") == config.get("name") and same_api:
            return report
    return reports[index] if index < len(reports) else None


def _pair_of(
    world: World,
    source: NatsCluster | None,
    source_stream: str,
    target: NatsCluster,
    target_stream: str,
) -> DrPair | None:
    if source is None:
        return None
    for pair in world.pairs:
        for entry in pair.streams or []:
            primary_stream = entry.get("stream")
            standby_stream = entry.get("mirror_stream") or primary_stream
            forward = (
                pair.primary_cluster_id,
                primary_stream,
                pair.standby_cluster_id,
                standby_stream,
            )
            backward = (
                pair.standby_cluster_id,
                standby_stream,
                pair.primary_cluster_id,
                primary_stream,
            )
            if (source.id, source_stream, target.id, target_stream) in (forward, backward):
                return pair
    return None


def discover(world: World, scans: dict[uuid.UUID, ClusterScan]) -> list[Edge]:
    """Every mirror and source on the reachable clusters, and the console's mirrors whose target
    cannot be read (or no longer holds them), each joined with its row and pair."""
    resolver = _Resolver(world)
    # A console mirror is found on every registration of its target's server: its row (made
    # through one of them) is joined to each, and only the row's own registration, when it was
    # read, reports the edge (one edge per mirror, whatever the registrations).
    rows = {(world.server_of(m.target_cluster_id), m.target_stream): m for m in world.mirrors}
    pairs = {p.id: p for p in world.pairs}
    edges: list[Edge] = []
    for scan in scans.values():
        streams = (
            scan.streams
            if scan.reachable
            else {name: {"config": config} for name, config in scan.remembered.items()}
        )
        for name, info in sorted(streams.items()):
            config = info.get("config") or {}
            target_info = info if scan.reachable else None
            if mirror := config.get("mirror"):
                row = rows.get((world.server_of(scan.cluster.id), name))
                if row is not None and row.source_stream != mirror.get("name"):
                    row = None  # the stream was made again, mirroring something else
                if (
                    row is not None
                    and row.target_cluster_id != scan.cluster.id
                    and row.target_cluster_id in scans
                ):
                    continue  # reported through the registration the mirror was made with
                edges.append(
                    _edge(
                        world,
                        resolver,
                        pairs,
                        "mirror",
                        scan.cluster,
                        name,
                        target_info,
                        mirror,
                        info.get("mirror"),
                        row,
                    )
                )
            for index, source in enumerate(config.get("sources") or []):
                edges.append(
                    _edge(
                        world,
                        resolver,
                        pairs,
                        "source",
                        scan.cluster,
                        name,
                        target_info,
                        source,
                        _source_info(info, source, index),
                        None,
                    )
                )
    seen = {(e.target.id, e.target_stream) for e in edges if e.kind == "mirror"}
    for row in world.mirrors:
        target = world.cluster(row.target_cluster_id)
        target_scan = scans.get(row.target_cluster_id)
        if (
            target is None
            or target_scan is None
            or (row.target_cluster_id, row.target_stream) in seen
        ):
            continue
        edge = _known_edge(world, pairs, row, target)
        if not target_scan.reachable:
            edge.target_reachable = False
        elif row.target_stream in target_scan.streams:
            edge.absent = (
                f"the stream '{row.target_stream}' on '{target.name}' is no longer a "
                "mirror (promoted or changed outside the console)"
            )
        elif row.state == "creating":
            edge.absent = "the mirror is being created"
        elif row.state == "failed":
            edge.absent = "the mirror could not be created (its operation says why)"
        else:
            edge.absent = (
                f"the mirror stream '{row.target_stream}' is not on '{target.name}' any more"
            )
        edges.append(edge)
    return edges


def _edge(
    world: World,
    resolver: _Resolver,
    pairs: dict[uuid.UUID, DrPair],
    kind: EdgeKind,
    target: NatsCluster,
    name: str,
    info: dict[str, Any] | None,
    config: dict[str, Any],
    link: dict[str, Any] | None,
    row: Mirror | None,
) -> Edge:
    """``info`` None: the target cannot be read now (the edge is the one it had)."""
    source, domain, problem = resolver.source(target, config, row)
    pair = (pairs.get(row.pair_id) if row is not None and row.pair_id else None) or _pair_of(
        world, source, config.get("name", ""), target, name
    )
    return Edge(
        kind=kind,
        target=target,
        target_stream=name,
        source_stream=config.get("name", ""),
        source_domain=domain,
        source_cluster=source,
        config=config,
        link=link if info is not None else None,
        target_info=info,
        target_reachable=info is not None,
        row=row,
        pair=pair,
        problem=problem,
    )


def _known_edge(
    world: World, pairs: dict[uuid.UUID, DrPair], row: Mirror, target: NatsCluster
) -> Edge:
    source = world.cluster(row.source_cluster_id)
    pair = (pairs.get(row.pair_id) if row.pair_id else None) or _pair_of(
        world, source, row.source_stream, target, row.target_stream
    )
    return Edge(
        kind="mirror",
        target=target,
        target_stream=row.target_stream,
        source_stream=row.source_stream,
        source_domain=source.jetstream_domain if source else None,
        source_cluster=source,
        row=row,
        pair=pair,
    )

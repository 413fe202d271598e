"""The collection pass: settle the leases, read each held cluster, turn what it says into samples,
publish them to ``JSC_LIVE`` (pipelined, de-duplicated by sample id)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clusters import endpoint
from core.collector.reading import read_cluster
from core.collector.sampling import cluster_sample, stream_sample, unreachable_sample
from core.collector.shares import Shares
from core.db.models import NatsCluster, Organization
from core.jetstream.api import JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.live import subjects
from core.live.publisher import LivePublisher
from core.live.samples import ClusterSample, StreamSample
from core.netpolicy import OutboundPolicy
from core.security import Cipher

log = logging.getLogger(__name__)
PARALLEL_CLUSTERS = 8
SEED_MAX_AGE_S = 3600  # an older sample left by a previous owner gives no rate


@dataclass
class PassReport:
    clusters: int = 0
    streams: int = 0
    consumers: int = 0
    samples: int = 0
    seconds: float = 0.0
    failed: dict[str, str] = field(default_factory=dict)  # cluster id -> why


@dataclass
class Memory:
    """The previous samples this collector took (or took over), for rates."""

    streams: dict[tuple[str, str], StreamSample] = field(default_factory=dict)
    clusters: dict[str, ClusterSample] = field(default_factory=dict)

    def forget(self, cluster: str) -> None:
        self.clusters.pop(cluster, None)
        for key in [k for k in self.streams if k[0] == cluster]:
            del self.streams[key]


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class Collector:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        live: LivePublisher,
        shares: Shares,
        policy: OutboundPolicy,
        orgs: str = "",
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool
        self.live, self.shares, self.policy = live, shares, policy
        self.orgs = orgs
        self.memory = Memory()

    @property
    def me(self) -> str:
        return self.shares.me

    async def resolve_orgs(self) -> set[str] | None:
        """The organization ids ``orgs`` names (ids or slugs), None for all."""
        wanted = [o.strip() for o in self.orgs.split(",") if o.strip()]
        if not wanted:
            return None
        ids = [i for i in map(_as_uuid, wanted) if i]
        async with self.sessions() as db:
            found = (
                await db.scalars(
                    select(Organization.id).where(
                        or_(Organization.slug.in_(wanted), Organization.id.in_(ids))
                    )
                )
            ).all()
        return {str(i) for i in found}

    async def registered(self, orgs: set[str] | None) -> dict[str, NatsCluster]:
        """The registered clusters of ``orgs`` (None: of every organization)."""
        query = select(NatsCluster)
        if orgs is not None:
            query = query.where(NatsCluster.org_id.in_([uuid.UUID(o) for o in orgs]))
        async with self.sessions() as db:
            return {str(c.id): c for c in (await db.scalars(query)).all()}

    async def pass_once(self) -> PassReport:
        started = time.perf_counter()
        # resolved every pass: an organization named by slug may come later
        self.shares.orgs = await self.resolve_orgs()
        clusters = await self.registered(self.shares.orgs)
        held = await self.shares.settle({c: str(v.org_id) for c, v in clusters.items()})
        for gone in [c for c in self.memory.clusters if c not in held]:
            self.memory.forget(gone)
        report = PassReport(clusters=len(held))
        gate = asyncio.Semaphore(PARALLEL_CLUSTERS)

        async def one(cluster_id: str) -> None:
            async with gate:
                await self._collect(clusters[cluster_id], report)

        await asyncio.gather(*(one(c) for c in held if c in clusters))
        report.seconds = time.perf_counter() - started
        return report

    async def _collect(self, cluster: NatsCluster, report: PassReport) -> None:
        cid, org = str(cluster.id), cluster.org_id
        now = datetime.now(UTC)
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # ClickHouse keeps ms
        try:
            js = await self.pool.jetstream(endpoint(self.cipher, cluster))
            read = await read_cluster(js, cluster.monitoring_url, self.policy)
        except (ClusterUnreachable, JetStreamUnavailable, JetStreamError) as exc:
            report.failed[cid] = str(exc)
            sample = unreachable_sample(org, cluster.id, at, str(exc), self.me)
            if await self.shares.still_mine(cid):
                await self.live.publish(
                    subjects.cluster_sample(org, cid), sample.model_dump_json(), str(sample.id)
                )
                self.memory.clusters[cid] = sample
            return
        await self._seed(org, cid, [s["config"]["name"] for s in read.streams])
        streams = [
            stream_sample(
                org,
                cluster.id,
                info,
                read.consumers.get(info["config"]["name"], []),
                at,
                self.memory.streams.get((cid, info["config"]["name"])),
            )
            for info in read.streams
        ]
        previous = self.memory.clusters.get(cid)
        summary = cluster_sample(
            org,
            cluster.id,
            at,
            streams=streams,
            account=read.account,
            varz=read.varz,
            collector=self.me,
            previous=previous if previous and previous.reachable else None,
        )
        if read.varz_error:
            summary.error = read.varz_error
        if not await self.shares.still_mine(cid):
            return  # another collector owns it now; this pass's reading is dropped
        items = [
            (subjects.stream_sample(org, cid, s.stream), s.model_dump_json(), str(s.id))
            for s in streams
        ]
        items.append(
            (subjects.cluster_sample(org, cid), summary.model_dump_json(), str(summary.id))
        )
        await self.live.publish_many(items)
        seen = {s.stream for s in streams}
        for key in [k for k in self.memory.streams if k[0] == cid and k[1] not in seen]:
            del self.memory.streams[key]
        for s in streams:
            self.memory.streams[(cid, s.stream)] = s
        self.memory.clusters[cid] = summary
        report.streams += len(streams)
        report.consumers += sum(len(s.consumers) for s in streams)
        report.samples += len(items)

    async def _seed(self, org: uuid.UUID, cid: str, names: list[str]) -> None:
        """A cluster taken over (or this collector restarted): the previous owner's last samples
        are in ``JSC_LIVE``; rates go on from them instead of starting over."""
        if cid in self.memory.clusters:
            return
        gate = asyncio.Semaphore(32)
        js = self.live.js

        async def one(name: str) -> None:
            async with gate:
                try:
                    msg = await js.get_last_msg(
                        subjects.STREAM, subjects.stream_sample(org, cid, name)
                    )
                    sample = StreamSample.model_validate_json(msg.data or b"")
                except Exception:  # noqa: BLE001 - none yet (or unreadable): no rate this pass
                    return
                age = (datetime.now(UTC) - sample.timestamp).total_seconds()
                if 0 <= age <= SEED_MAX_AGE_S:
                    self.memory.streams[(cid, name)] = sample

        await asyncio.gather(*(one(n) for n in names))

"""Mirror activities: prepare a job (validate, probe the link, register the rows), create one
mirror, wait while mirrors catch up (heartbeating progress), pause or resume their consumers, and
set their rows' state. Each is idempotent: a retried attempt finds what the last one did.

Temporal retries them without limit, because a worker that dies is not a reason to give up;
attempts that fail with an error of their own (a cluster unreachable, a server error) are counted
in Redis, and after ``MAX_FAILED_ATTEMPTS`` of them in a row the step fails for good with that
error (``MirrorFailed``). A refusal no retry can fix fails it at once (``Refused``, ``NotFound``,
``ClusterNotFound``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.attempts import counted, refused
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import NatsCluster
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool
from core.replication import rows
from core.replication.catchup import measure
from core.replication.lifecycle import MirrorRefused, create_mirror, created_epoch, mirror_id_of
from core.replication.links import mirror_path
from core.replication.mirrors import consumer_name, pause_consumer, probe_link, resume_consumer
from core.replication.models import MirrorRequest
from core.replication.steps import (
    ControlInput,
    CreateInput,
    MarkInput,
    Measurement,
    MirrorPlan,
    MirrorRef,
    Prepared,
    PrepareInput,
    WaitInput,
    WaitResult,
)
from core.security import Cipher

T = TypeVar("T")


class MirrorActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        redis: Redis,
    ):
        self.sessions, self.cipher, self.pool, self.redis = sessions, cipher, pool, redis

    # --- plumbing -------------------------------------------------------------------------------
    async def _cluster(self, org_id: str, cluster_id: uuid.UUID | str) -> NatsCluster:
        async with self.sessions() as db:
            try:
                return await get_cluster(db, uuid.UUID(org_id), uuid.UUID(str(cluster_id)))
            except ClusterNotFound:
                raise refused(
                    f"the cluster {cluster_id} is no longer registered", "ClusterNotFound"
                ) from None

    async def _jetstream(self, cluster: NatsCluster) -> JetStreamApi:
        return await self.pool.jetstream(endpoint(self.cipher, cluster))

    async def _counted(self, operation_id: str, step: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call``; a failure of its own counts towards the step's budget (reset on success),
        a refusal ends it at once (``activities.attempts``)."""
        return await counted(
            self.redis,
            f"jsc:mirror:failures:{operation_id}:{step}",
            call,
            refusals={MirrorRefused: "Refused"},
            failed_type="MirrorFailed",
            step=step,
        )

    # --- activities -------------------------------------------------------------------------------
    @activity.defn(name="mirror_prepare")
    async def mirror_prepare(self, data: PrepareInput) -> Prepared:
        """Check every mirror of the job as the API did (the source stream exists, the target name
        is free or already this mirror, the link carries it), then register the rows. Nothing is
        created on any cluster here."""
        context, job = data.context, data.job

        async def prepare() -> Prepared:
            plans = [
                await self._plan(context.org_id, request, mirror_id)
                for request, mirror_id in zip(job.mirrors, job.mirror_ids, strict=False)
            ]
            async with self.sessions() as db, db.begin():
                try:
                    await rows.register_job(
                        db,
                        uuid.UUID(context.org_id),
                        job,
                        uuid.UUID(context.operation_id),
                        uuid.UUID(context.user_id) if context.user_id else None,
                    )
                except rows.TargetClaimed as exc:
                    raise MirrorRefused(str(exc)) from exc
            return Prepared(plans=plans)

        return await self._counted(context.operation_id, "prepare", prepare)

    async def _plan(self, org_id: str, request: MirrorRequest, mirror_id: str) -> MirrorPlan:
        source = await self._cluster(org_id, request.source_cluster_id)
        target = await self._cluster(org_id, request.target_cluster_id)
        path = mirror_path(source, target)
        if path.refusal:
            raise MirrorRefused(path.refusal)
        source_js, target_js = await self._jetstream(source), await self._jetstream(target)
        try:
            info = await source_js.stream_info(request.source_stream)
        except JetStreamError as exc:
            if exc.not_found:
                raise refused(
                    f"the source stream '{request.source_stream}' does not exist on "
                    f"cluster '{source.name}'",
                    "NotFound",
                ) from exc
            raise
        existing = None
        try:
            existing = await target_js.stream_info(request.target_stream)
        except JetStreamError as exc:
            if not exc.not_found:
                raise
        if existing is not None and mirror_id_of(existing) != mirror_id:
            raise MirrorRefused(
                f"the stream '{request.target_stream}' already exists on cluster '{target.name}'"
            )
        if existing is None and path.cross_domain:
            probe = await probe_link(target_js.nc, path.source_domain, request.source_stream)
            if not probe.ok:
                raise MirrorRefused(
                    f"the link from '{target.name}' to '{source.name}' cannot "
                    f"carry the mirror: {probe.reason}"
                )
        return MirrorPlan(
            mirror_id=mirror_id,
            request=request,
            cross_domain=path.cross_domain,
            source_domain=path.source_domain,
            source_last_seq=int(info["state"]["last_seq"]),
        )

    @activity.defn(name="mirror_create")
    async def mirror_create(self, data: CreateInput) -> MirrorRef:
        """The consumer on the source, then the mirror stream on the target (each found if a
        previous attempt made it); the row becomes ``active``."""
        context, plan = data.context, data.plan
        request = plan.request

        async def create() -> MirrorRef:
            source = await self._cluster(context.org_id, request.source_cluster_id)
            target = await self._cluster(context.org_id, request.target_cluster_id)
            info = await create_mirror(
                await self._jetstream(source), await self._jetstream(target), plan
            )
            async with self.sessions() as db, db.begin():
                await rows.set_state(
                    db,
                    uuid.UUID(context.org_id),
                    [plan.mirror_id],
                    "active",
                    only_from=["creating"],
                )
            return MirrorRef(
                mirror_id=plan.mirror_id,
                source_cluster_id=str(source.id),
                source_stream=request.source_stream,
                target_cluster_id=str(target.id),
                target_stream=request.target_stream,
                consumer=consumer_name(plan.mirror_id),
                created_at=created_epoch(info) or time.time(),
            )

        return await self._counted(context.operation_id, f"create {plan.mirror_id}", create)

    @activity.defn(name="mirror_wait")
    async def mirror_wait(self, data: WaitInput) -> WaitResult:
        """Measure the mirrors until every one has caught up (or is gone), or ``max_seconds``
        have passed; heartbeat the progress (``done``, ``total``, ``rate_per_s``) meanwhile."""
        started = time.monotonic()
        context = data.context
        mirrors = data.mirrors
        poll_s = min(2.0, 0.2 + 0.02 * len(mirrors))
        latest: dict[str, Measurement] = {}
        first_done: int | None = None
        clusters: dict[str, NatsCluster] = {}

        async def one_round() -> None:
            ends = {}
            for ref in mirrors:
                for cid in (ref.source_cluster_id, ref.target_cluster_id):
                    if cid not in clusters:
                        clusters[cid] = await self._cluster(context.org_id, cid)
                    if cid not in ends:
                        ends[cid] = await self._jetstream(clusters[cid])
            open_ = [r for r in mirrors if not _settled(latest.get(r.mirror_id))]
            found = await asyncio.gather(
                *(measure(ends[r.source_cluster_id], ends[r.target_cluster_id], r) for r in open_)
            )
            latest.update({m.mirror_id: m for m in found})

        while True:
            await self._counted(context.operation_id, "wait", one_round)
            done = data.settled_done + sum(m.copied for m in latest.values())
            total = done + sum(m.remaining for m in latest.values())
            elapsed = time.monotonic() - started
            first_done = done if first_done is None else first_done
            rate = round((done - first_done) / elapsed, 1) if elapsed > 0 else None
            activity.heartbeat({"done": done, "total": total, "rate_per_s": rate})
            if (
                all(_settled(latest.get(r.mirror_id)) for r in mirrors)
                or elapsed >= data.max_seconds
            ):
                return WaitResult(measurements=list(latest.values()), elapsed_s=round(elapsed, 3))
            await asyncio.sleep(poll_s)

    @activity.defn(name="mirror_control")
    async def mirror_control(self, data: ControlInput) -> None:
        """Pause or resume the source consumers of these mirrors (one already gone is skipped);
        their rows become ``paused`` or ``active``."""
        context = data.context

        async def control() -> None:
            for ref in data.mirrors:
                source = await self._jetstream(
                    await self._cluster(context.org_id, ref.source_cluster_id)
                )
                try:
                    if data.action == "pause":
                        await pause_consumer(source, ref.source_stream, ref.consumer)
                    else:
                        await resume_consumer(source, ref.source_stream, ref.consumer)
                except JetStreamError as exc:
                    if not exc.not_found:
                        raise
            async with self.sessions() as db, db.begin():
                if data.action == "pause":
                    await rows.set_state(
                        db,
                        uuid.UUID(context.org_id),
                        [r.mirror_id for r in data.mirrors],
                        "paused",
                        only_from=["creating", "active"],
                    )
                else:
                    await rows.set_state(
                        db,
                        uuid.UUID(context.org_id),
                        [r.mirror_id for r in data.mirrors],
                        "active",
                        only_from=["paused"],
                    )

        await self._counted(context.operation_id, data.action, control)

    @activity.defn(name="mirror_mark")
    async def mirror_mark(self, data: MarkInput) -> None:
        async with self.sessions() as db, db.begin():
            await rows.set_state(
                db,
                uuid.UUID(data.context.org_id),
                data.mirror_ids,
                data.state,
                only_from=data.only_from,
            )


def _settled(found: Measurement | None) -> bool:
    return found is not None and (found.caught_up or found.gone)

"""Replay activities: plan the range, dry-run it, and copy it chunk by chunk. A chunk heartbeats
its checkpoint; a retried attempt resumes from the last heartbeat and first asks the destination
what the crashed attempt already stored, so nothing is lost or stored twice."""

from __future__ import annotations

import time
import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool
from core.replay.destination import DestinationRefused, already_stored
from core.replay.models import (DryRunResult, ReplayCheckpoint, ReplayChunk, ReplayChunkResult,
                                ReplayPlanned, ReplayStart)
from core.replay.pipeline import ChunkRunner
from core.replay.publisher import AsyncPublisher
from core.replay.plan import dry_run, plan_replay
from core.replay.source import open_reader
from core.security import Cipher


class ReplayActivities:
    def __init__(self, sessions: async_sessionmaker, cipher: Cipher, pool: ClusterPool):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool

    async def _jetstream(self, org_id: str, cluster_id: uuid.UUID) -> JetStreamApi:
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(org_id), cluster_id)
            except ClusterNotFound:
                raise ApplicationError(f"cluster {cluster_id} is no longer registered",
                                       type="ClusterNotFound", non_retryable=True)
        return await self.pool.jetstream(endpoint(self.cipher, cluster))

    @activity.defn(name="replay_plan")
    async def replay_plan(self, start: ReplayStart) -> ReplayPlanned:
        request = start.request
        source = await self._jetstream(start.context.org_id, request.cluster_id)
        try:
            plan = await plan_replay(source, request)
        except JetStreamError as exc:
            raise _refusal(exc) from exc
        checkpoint = ReplayCheckpoint(next_seq=plan.first_seq)
        if request.destination.stream:  # where verification after a crash starts
            dest = await self._jetstream(start.context.org_id, request.destination_cluster_id)
            try:
                info = await dest.stream_info(request.destination.stream)
            except JetStreamError as exc:
                raise _refusal(exc) from exc
            checkpoint.dest_seqs[request.destination.stream] = int(info["state"]["last_seq"])
        return ReplayPlanned(plan=plan, checkpoint=checkpoint)

    @activity.defn(name="replay_dry_run")
    async def replay_dry_run(self, start: ReplayStart) -> DryRunResult:
        source = await self._jetstream(start.context.org_id, start.request.cluster_id)
        try:
            plan = await plan_replay(source, start.request)
            return await dry_run(source, start.request, plan, progress=activity.heartbeat)
        except JetStreamError as exc:
            raise _refusal(exc) from exc

    @activity.defn(name="replay_chunk")
    async def replay_chunk(self, chunk: ReplayChunk) -> ReplayChunkResult:
        started = time.monotonic()
        info = activity.info()
        if info.heartbeat_details:  # a previous attempt died: resume where it had got to
            chunk.checkpoint = ReplayCheckpoint.model_validate(info.heartbeat_details[0])
        request = chunk.request
        org = chunk.org_id
        source = await self._jetstream(org, request.cluster_id)
        dest = await self._jetstream(org, request.destination_cluster_id)
        skip: set[int] = set()
        if info.attempt > 1:
            for stream, seq in chunk.checkpoint.dest_seqs.items():
                skip |= await already_stored(dest, stream, seq, chunk.operation_id)
            activity.logger.info("resuming at %d, %d already stored", chunk.checkpoint.next_seq,
                                 len(skip))
        reader = await open_reader(source, request.stream, request.subjects)
        publisher = await AsyncPublisher(dest.nc).start()
        runner = ChunkRunner(chunk, reader, publisher,
                             heartbeat=lambda cp: activity.heartbeat(cp.model_dump()),
                             skip=skip, expected_stream=request.destination.stream)
        try:
            checkpoint, exhausted = await runner.run()
        except DestinationRefused as exc:
            raise ApplicationError(str(exc), {"seq": exc.seq, "reason": exc.reason},
                                   type="DestinationRefused", non_retryable=True) from exc
        finally:
            await publisher.close()
        return ReplayChunkResult(checkpoint=checkpoint, exhausted=exhausted,
                                 elapsed_s=round(time.monotonic() - started, 3))

def _refusal(exc: JetStreamError) -> ApplicationError:
    return ApplicationError(exc.description, type="NotFound" if exc.not_found else "Refused",
                            non_retryable=True)

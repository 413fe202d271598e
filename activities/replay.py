"""Replay activities: plan the range, dry-run it, and copy it chunk by chunk.

A chunk heartbeats its checkpoint four times a second (the worker sends one to Temporal at least
twice a second). A retried attempt resumes from the last recorded checkpoint, takes the replay's
write lease (so a stalled earlier attempt cannot write beside it), and first reads what the
destination holds beyond that checkpoint, heartbeating as it goes, so nothing is lost or stored
twice.

Temporal retries a chunk without limit, because a worker that dies is not a reason to give up;
the attempts that fail with an error of their own are counted in Redis, and after
``MAX_FAILED_ATTEMPTS`` of them in a row without progress the operation fails with that error.
A refusal no retry can fix (destination refusing, a stream deleted) fails it at once."""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool
from core.replay.destination import (
    DestinationRefused,
    NoStreamAnswered,
    already_stored,
    stream_takes,
)
from core.replay.lease import WriteLease
from core.replay.models import (
    DryRunResult,
    ReplayCheckpoint,
    ReplayChunk,
    ReplayChunkResult,
    ReplayPlanned,
    ReplayStart,
)
from core.replay.pipeline import ChunkRunner
from core.replay.plan import dry_run, explain_missing, plan_replay
from core.replay.publisher import AsyncPublisher
from core.replay.source import open_reader
from core.security import Cipher

MAX_FAILED_ATTEMPTS = 30
FAILURES_TTL_S = 24 * 3600


class ReplayActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        redis: Redis,
    ):
        self.sessions, self.cipher, self.pool, self.redis = sessions, cipher, pool, redis

    async def _jetstream(self, org_id: str, cluster_id: uuid.UUID) -> JetStreamApi:
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(org_id), cluster_id)
            except ClusterNotFound as exc:
                raise ApplicationError(
                    f"cluster {cluster_id} is no longer registered",
                    type="ClusterNotFound",
                    non_retryable=True,
                ) from exc
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
        if info.heartbeat_details:  # a previous attempt stopped: resume where it had got to
            chunk.checkpoint = ReplayCheckpoint.model_validate(info.heartbeat_details[0])
        resumed = chunk.checkpoint.model_copy(deep=True)
        lease = WriteLease(self.redis, chunk.operation_id)
        await lease.acquire(waiting=lambda: activity.heartbeat(resumed.model_dump()))
        progress = _Progress(resumed)
        try:
            checkpoint, exhausted = await self._copy(chunk, info.attempt, lease, progress)
            missing = None
            if exhausted:
                source = await self._jetstream(chunk.org_id, chunk.request.cluster_id)
                missing = await explain_missing(
                    source, chunk.request.stream, chunk.plan, checkpoint.done + checkpoint.failed
                )
        except JetStreamError as exc:
            if exc.not_found:
                raise _refusal(exc) from exc
            await self._count_failure(chunk.operation_id, progress, exc)
            raise
        except ApplicationError as exc:
            if not exc.non_retryable:
                await self._count_failure(chunk.operation_id, progress, exc)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._count_failure(chunk.operation_id, progress, exc)
            raise
        finally:
            await lease.release()
        await self.redis.delete(_failures_key(chunk.operation_id))
        return ReplayChunkResult(
            checkpoint=checkpoint,
            exhausted=exhausted,
            missing=missing,
            elapsed_s=round(time.monotonic() - started, 3),
        )

    async def _copy(
        self, chunk: ReplayChunk, attempt: int, lease: WriteLease, progress: _Progress
    ) -> tuple[ReplayCheckpoint, bool]:
        request, org = chunk.request, chunk.org_id
        source = await self._jetstream(org, request.cluster_id)
        dest = await self._jetstream(org, request.destination_cluster_id)
        skip: set[int] = set()
        if attempt > 1:
            activity.logger.info(
                "verifying the destination from %s before resuming at %d",
                chunk.checkpoint.dest_seqs,
                chunk.checkpoint.next_seq,
            )
            for stream, seq in chunk.checkpoint.dest_seqs.items():
                skip |= await already_stored(
                    dest, stream, seq, chunk.operation_id, progress=lambda n: progress.beat()
                )
            activity.logger.info(
                "resuming at %d, %d already stored", chunk.checkpoint.next_seq, len(skip)
            )
        reader = await open_reader(source, request.stream, request.subjects)
        publisher = await AsyncPublisher(dest.nc).start()
        runner = ChunkRunner(
            chunk,
            reader,
            publisher,
            heartbeat=progress.record,
            skip=skip,
            expected_stream=request.destination.stream,
            fence=lease.check,
        )
        try:
            return await runner.run()
        except NoStreamAnswered as exc:
            if await stream_takes(dest, exc.subject):  # it does: JetStream was not ready
                raise
            raise ApplicationError(
                f"the destination refused source message {exc.seq}: no stream on the "
                f"destination stores this subject ({exc.subject})",
                {"seq": exc.seq},
                type="DestinationRefused",
                non_retryable=True,
            ) from exc
        except DestinationRefused as exc:
            raise ApplicationError(
                str(exc),
                {"seq": exc.seq, "reason": exc.reason},
                type="DestinationRefused",
                non_retryable=True,
            ) from exc
        finally:
            await publisher.close()

    async def _count_failure(
        self, operation_id: str, progress: _Progress, exc: BaseException
    ) -> None:
        """Counts an attempt that failed by itself (a dead worker never gets here); one that
        made progress starts the count again. Past the limit, the operation fails."""
        key = _failures_key(operation_id)
        try:
            if progress.advanced:
                await self.redis.set(key, 1, ex=FAILURES_TTL_S)
                return
            failures = await self.redis.incr(key)
            await self.redis.expire(key, FAILURES_TTL_S)
        except Exception:  # Redis down: Temporal keeps retrying; the count resumes with Redis
            return
        activity.logger.warning("replay attempt failed (%d in a row): %s", failures, exc)
        if failures >= MAX_FAILED_ATTEMPTS:
            raise ApplicationError(
                f"gave up after {failures} failed attempts in a row: {exc}",
                type="ReplayFailed",
                non_retryable=True,
            ) from exc


class _Progress:
    """The checkpoint an attempt last heartbeated, and whether it moved past where it began."""

    def __init__(self, resumed: ReplayCheckpoint):
        self.start_done, self.current = resumed.done, resumed

    def record(self, checkpoint: ReplayCheckpoint) -> None:
        self.current = checkpoint
        activity.heartbeat(checkpoint.model_dump())

    def beat(self) -> None:
        activity.heartbeat(self.current.model_dump())

    @property
    def advanced(self) -> bool:
        return self.current.done > self.start_done


def _failures_key(operation_id: str) -> str:
    return f"replay:{operation_id}:failed-attempts"


def _refusal(exc: JetStreamError) -> ApplicationError:
    return ApplicationError(
        exc.description, type="NotFound" if exc.not_found else "Refused", non_retryable=True
    )

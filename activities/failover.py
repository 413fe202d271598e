"""Failover activities: thin, idempotent adapters from ``FailoverWorkflow`` to
``core.replication`` (measure, fence, catch up, promote, switch the active side, verify, clean up,
reverse, roll back) and to PostgreSQL (the pair, the mirror rows).

Each one may run again after a crash and finds its work done (the fence and the promotion are
marked with the operation's id on the streams, the canary carries a ``Nats-Msg-Id``, the active
side is written once per operation, rows are overwritten). A refusal no retry can change (the
cluster's state forbids the step) fails at once (``Refused``); anything else is retried by the
workflow's policy. Long waits (the catch-up, the old primary coming back, a copy being kept
aside) heartbeat, so a dead worker is noticed and the wait resumed elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.replication import active_side, drill, records, reverse
from core.replication.failover import (
    Refused,
    canary,
    catch_up_state,
    delete_consumer,
    fence,
    metadata,
    now_iso,
    promote,
    side_state,
    unfence,
)
from core.replication.mirrors import SOURCE_CONFIG_KEY
from core.replication.models import MirrorRequest
from core.replication.plan import FailoverTask, FencePoint, Measured, PlanStream
from core.replication.planning import measure
from core.security import Cipher

POLL_S = 0.02  # catch-up checks: the RTO is counted in tens of milliseconds
WAIT_POLL_S = 1.0  # waiting for a cluster to come back
SHORT_TIMEOUT_S = 2.0
# An emergency failover only glances at the primary (said to be down): a connection attempt to a
# server that does not answer would otherwise cost the pool's whole connect timeout, each time.
EMERGENCY_GLANCE_S = 1.5


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type="Refused", non_retryable=True)


class FailoverActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher, pool: ClusterPool
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool

    # --- connections ---------------------------------------------------------------------------
    async def _js(self, org_id: str, cluster_id: str) -> JetStreamApi:
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(org_id), uuid.UUID(cluster_id))
            except ClusterNotFound as exc:
                raise ApplicationError(
                    f"cluster {cluster_id} is no longer registered",
                    type="ClusterNotFound",
                    non_retryable=True,
                ) from exc
        return await self.pool.jetstream(endpoint(self.cipher, cluster))

    async def _maybe(
        self, org_id: str, cluster_id: str, timeout: float | None = None
    ) -> JetStreamApi | None:
        """The cluster's JetStream, or None while it cannot be reached (within ``timeout``)."""
        try:
            return await asyncio.wait_for(self._js(org_id, cluster_id), timeout)
        except (TimeoutError, ClusterUnreachable):
            return None

    async def _sides(self, task: FailoverTask) -> tuple[JetStreamApi | None, JetStreamApi]:
        """(primary or None, target). An emergency only glances at the primary."""
        plan = task.plan
        target = await self._js(task.org_id, plan.target.cluster_id)
        return await self._maybe(
            task.org_id,
            plan.primary.cluster_id,
            EMERGENCY_GLANCE_S if plan.glances_at_primary else None,
        ), target

    def _emergency(self, task: FailoverTask) -> bool:
        return task.plan.request.mode == "emergency" and not task.plan.request.drill

    # --- measure -------------------------------------------------------------------------------
    @activity.defn(name="failover_measure")
    async def failover_measure(self, task: FailoverTask) -> Measured:
        """Step 1 again, now. A planned failover also records the primary's promotable settings
        on each mirror (for a later emergency), unless a drill: that touches nothing."""
        primary, target = await self._sides(task)
        measured = await measure(task.plan, primary, target)
        plan = task.plan
        if not measured.refusals and not plan.request.drill:
            for m in measured.streams:
                if m.source_from == "primary":
                    await _record_source(target, m.mirror_stream, m.source)
        return measured

    # --- fence ---------------------------------------------------------------------------------
    @activity.defn(name="failover_fence")
    async def failover_fence(self, task: FailoverTask) -> list[FencePoint]:
        primary, _ = await self._sides(task)
        if primary is None:
            raise ApplicationError("the primary cannot be reached to fence it", type="Unreachable")

        async def one(s: PlanStream) -> FencePoint:
            try:
                point = await fence(primary, s.stream, task.operation_id)
            except Refused as exc:
                raise _refused(str(exc)) from exc
            return point.model_copy(update={"mirror_stream": s.mirror_stream})

        return list(await asyncio.gather(*(one(s) for s in task.plan.streams)))

    @activity.defn(name="drill_prepare")
    async def drill_prepare(self, task: FailoverTask) -> list[FencePoint]:
        """A drill's fence point (the primary's last sequence, not fenced) and its copies."""
        primary, target = await self._sides(task)
        if primary is None:
            raise ApplicationError(
                "the primary cannot be reached to take the fence point", type="Unreachable"
            )

        async def one(s: PlanStream) -> FencePoint:
            state = (await primary.stream_info(s.stream))["state"]
            at = now_iso()
            copy = drill.copy_name(s.mirror_stream, task.short)
            try:
                await drill.make_copy(target, s.mirror_stream, copy, task.operation_id)
            except JetStreamError as exc:
                if exc.code == 400 and "not this drill" in exc.description:
                    raise _refused(exc.description) from exc
                raise
            return FencePoint(
                stream=s.stream,
                mirror_stream=copy,
                last_seq=state["last_seq"],
                messages=state["messages"],
                at=at,
                fenced=False,
            )

        return list(await asyncio.gather(*(one(s) for s in task.plan.streams)))

    # --- catch up ------------------------------------------------------------------------------
    @activity.defn(name="failover_catch_up")
    async def failover_catch_up(self, task: FailoverTask) -> dict[str, Any]:
        """Until every mirror (a drill: every copy) holds its fence point, or the deadline."""
        if task.deadline is None:  # the workflow sets it before the catch-up
            raise ValueError("the catch-up has no deadline")
        deadline = datetime.fromisoformat(task.deadline).timestamp()
        drilling = task.plan.request.drill
        started = time.monotonic()
        states: list[dict[str, Any]] = []
        while True:
            primary, target = None, None
            try:
                if not drilling:
                    primary = await self._maybe(task.org_id, task.plan.primary.cluster_id)
                target = await self._js(task.org_id, task.plan.target.cluster_id)
                states = list(
                    await asyncio.gather(
                        *(
                            catch_up_state(
                                primary,
                                target,
                                p,
                                None if drilling else _consumer_of(task, p.stream),
                            )
                            for p in task.points
                        )
                    )
                )
                reason = None
            except (ClusterUnreachable, JetStreamUnavailable) as exc:
                reason = f"the target cannot be reached: {exc}"
            activity.heartbeat({"states": states, "reason": reason})
            if states and reason is None and all(s["caught_up"] for s in states):
                return {
                    "caught_up": True,
                    "streams": states,
                    "waited_s": round(time.monotonic() - started, 3),
                }
            if time.time() >= deadline:
                return {
                    "caught_up": False,
                    "streams": states,
                    "waited_s": round(time.monotonic() - started, 3),
                    "reason": reason or _behind(states),
                }
            await asyncio.sleep(POLL_S)

    # --- promote -------------------------------------------------------------------------------
    @activity.defn(name="failover_promote")
    async def failover_promote(self, task: FailoverTask) -> dict[str, Any]:
        """Promote every mirror (a drill: every copy, under the drill's subjects); then delete
        the promoted mirrors' consumers on the primary, where it can be reached."""
        plan = task.plan
        if self._emergency(task):  # its consumers are deleted in the cleanup, once it is back
            primary, target = None, await self._js(task.org_id, plan.target.cluster_id)
        else:
            primary, target = await self._sides(task)
        measured = plan.measured
        points = {p.stream: p for p in task.points}
        origin = f"{plan.primary.domain or plan.primary.cluster_id}/"

        async def one(s: PlanStream) -> dict[str, Any]:
            source = dict((measured.of(s.stream).source if measured else None) or {})
            point = points.get(s.stream)
            if point is not None and point.fenced and point.subjects:
                source["subjects"] = point.subjects  # what the primary had when it was fenced
            name, subjects = s.mirror_stream, None
            if plan.request.drill:
                if point is None:  # a drill takes a fence point of every stream
                    raise ValueError(f"the drill has no fence point of {s.stream}")
                name = point.mirror_stream
                subjects = drill.drill_subjects(source.get("subjects") or [], task.short)
            try:
                done = await promote(
                    target, name, source, task.operation_id, origin + s.stream, subjects
                )
            except Refused as exc:
                return {
                    "stream": s.stream,
                    "mirror_stream": name,
                    "promoted": False,
                    "error": str(exc),
                    "refused": True,
                }
            except (JetStreamError, JetStreamUnavailable) as exc:
                return {
                    "stream": s.stream,
                    "mirror_stream": name,
                    "promoted": False,
                    "error": str(exc),
                }
            done.update(stream=s.stream, promoted_at=now_iso())
            if not plan.request.drill and primary is not None:
                done["consumer_deleted"] = await _delete_consumer(primary, task, s.stream)
            return done

        results = list(await asyncio.gather(*(one(s) for s in plan.streams)))
        failed = [r for r in results if not r["promoted"]]
        if failed:
            message = "; ".join(f"{r['mirror_stream']}: {r['error']}" for r in failed)
            if all(r.get("refused") for r in failed):
                raise _refused(f"could not promote {message}")
            raise ApplicationError(f"could not promote {message}", type="PromoteFailed")
        return {"streams": results}

    # --- switch the active side ----------------------------------------------------------------
    @activity.defn(name="failover_switch")
    async def failover_switch(self, task: FailoverTask) -> dict[str, Any]:
        """The active side, in the bucket on the target (must succeed) and on the old primary
        (when it can be reached; the cleanup writes it later otherwise); then the pair's row."""
        plan = task.plan
        if self._emergency(task):  # the cleanup writes the old primary's bucket, once it is back
            primary, target = None, await self._js(task.org_id, plan.target.cluster_id)
        else:
            primary, target = await self._sides(task)
        sides = {"target": target, "primary": primary}
        current = []
        for js in sides.values():
            if js is None:
                continue
            try:
                current.append(
                    await asyncio.wait_for(active_side.read(js, plan.key), SHORT_TIMEOUT_S * 2)
                )
            except (TimeoutError, JetStreamError, JetStreamUnavailable):
                if js is target:
                    raise
        mine = [c for c in current if c and c.operation_id == task.operation_id]
        epoch = mine[0].epoch if mine else max([c.epoch for c in current if c] + [0]) + 1
        side = active_side.ActiveSide(
            pair_id=plan.key,
            pair_name=plan.pair_name,
            active_cluster_id=plan.target.cluster_id,
            active_domain=plan.target.domain,
            streams=[s.mirror_stream for s in plan.streams],
            epoch=epoch,
            changed_at=mine[0].changed_at if mine else now_iso(),
            operation_id=task.operation_id,
        )
        written = {"target": await active_side.announce(target, plan.key, side)}
        written["primary"] = await _announce_maybe(primary, plan.key, side)
        async with self.sessions() as db, db.begin():
            await records.set_active(db, task.org_id, plan.pair_id, plan.target.cluster_id)
            await records.mark_promoted(
                db, task.org_id, plan.target.cluster_id, [s.mirror_stream for s in plan.streams]
            )
        return {"epoch": epoch, "written": written, "active_side": side.model_dump()}

    # --- verify --------------------------------------------------------------------------------
    @activity.defn(name="failover_verify")
    async def failover_verify(self, task: FailoverTask) -> dict[str, Any]:
        """A canary on each promoted stream, read back by sequence."""
        target = await self._js(task.org_id, task.plan.target.cluster_id)
        done = list(
            await asyncio.gather(
                *(canary(target, name, task.operation_id) for name in task.promoted)
            )
        )
        bad = [d["stream"] for d in done if not d["read_back"]]
        if bad:
            raise ApplicationError(
                f"the canary could not be read back from {', '.join(bad)}", type="CanaryMissing"
            )
        return {"streams": done, "accepted_at": max(d["accepted_at"] for d in done)}

    # --- cleanup -------------------------------------------------------------------------------
    @activity.defn(name="failover_cleanup")
    async def failover_cleanup(self, task: FailoverTask) -> dict[str, Any]:
        """After a promotion: the old primary fenced (an emergency: as soon as it is back, so
        clients that still write there are refused), its mirror consumers deleted, the active
        side written in its bucket. Waits for the old primary as long as it takes."""
        plan = task.plan
        primary = await self._wait_for(task.org_id, plan.primary.cluster_id)
        side = (
            active_side.ActiveSide.model_validate(task.announcement) if task.announcement else None
        )
        out: dict[str, Any] = {"streams": []}
        for s in plan.streams:
            entry: dict[str, Any] = {"stream": s.stream}
            try:
                point = await fence(primary, s.stream, task.operation_id)
                entry["old_last_seq"] = point.last_seq  # what the old primary holds, at most
            except Refused as exc:
                entry["fence"] = str(exc)
            except JetStreamError as exc:
                if not exc.not_found:
                    raise
                entry["fence"] = "the stream is gone from the old primary"
            entry["consumer_deleted"] = await _delete_consumer(primary, task, s.stream)
            out["streams"].append(entry)
        if side is not None:
            out["active_side"] = await active_side.announce(primary, plan.key, side)
        return out

    async def _wait_for(self, org_id: str, cluster_id: str) -> JetStreamApi:
        while True:
            js = await self._maybe(org_id, cluster_id)
            if js is not None:
                try:
                    await js.account_info()
                    return js
                except (JetStreamUnavailable, JetStreamError):
                    pass
            activity.heartbeat({"waiting_for": cluster_id})
            await asyncio.sleep(WAIT_POLL_S)

    @activity.defn(name="drill_cleanup")
    async def drill_cleanup(self, task: FailoverTask) -> dict[str, Any]:
        """Remove a drill's copies (only its copies)."""
        target = await self._js(task.org_id, task.plan.target.cluster_id)
        names = [drill.copy_name(s.mirror_stream, task.short) for s in task.plan.streams]
        removed = await asyncio.gather(*(drill.delete_copy(target, n) for n in names))
        return {"deleted": [n for n, r in zip(names, removed, strict=False) if r]}

    # --- rollback ------------------------------------------------------------------------------
    @activity.defn(name="failover_rollback")
    async def failover_rollback(self, task: FailoverTask) -> dict[str, Any]:
        """Unfence what this operation fenced, except the streams whose mirror was promoted
        (``task.promoted``: unfencing those would let both sides take writes)."""
        plan = task.plan
        primary = await self._maybe(task.org_id, plan.primary.cluster_id)
        if primary is None:
            raise ApplicationError(
                "the primary cannot be reached to unfence it", type="Unreachable"
            )
        out = []
        for s in plan.streams:
            if s.mirror_stream in task.promoted:
                out.append(
                    {
                        "stream": s.stream,
                        "unfenced": False,
                        "why": "its mirror was promoted: it stays fenced",
                    }
                )
                continue
            out.append(
                {
                    "stream": s.stream,
                    "unfenced": await unfence(primary, s.stream, task.operation_id),
                }
            )
        return {"streams": out}

    # --- reverse -------------------------------------------------------------------------------
    @activity.defn(name="failover_reverse")
    async def failover_reverse(self, task: FailoverTask) -> dict[str, Any]:
        """The old primary becomes a mirror of the new one, its old data kept aside
        (``core.replication.reverse``); then the mirror rows and the pair's roles. A reverse
        alone fences an old stream the failover could not (it never came back then), and writes
        the active side on the old primary where it lags."""
        plan = task.plan
        old = await self._wait_for(task.org_id, plan.primary.cluster_id)
        new = await self._js(task.org_id, plan.target.cluster_id)
        out = []
        made: list[tuple[MirrorRequest, uuid.UUID]] = []
        for s in plan.streams:
            kept = reverse.kept_name(s.stream, task.short)
            try:
                fenced = await reverse.ensure_fenced(old, s.stream, task.operation_id)
                while not (
                    state := await reverse.keep_aside(old, s.stream, kept, task.operation_id)
                )["kept"]:
                    activity.heartbeat(state)
                    await asyncio.sleep(0.1)
                mirror_id = reverse.reverse_mirror_id(task.operation_id, s.stream)
                dropped = await reverse.drop_old(old, s.stream, kept, mirror_id)
                request = MirrorRequest(
                    source_cluster_id=uuid.UUID(plan.target.cluster_id),
                    source_stream=s.mirror_stream,
                    target_cluster_id=uuid.UUID(plan.primary.cluster_id),
                    target_stream=s.stream,
                    description=f"{s.stream}: mirror of {s.mirror_stream} on "
                    f"{plan.target.name} since failover {task.operation_id}",
                )
                mirror = await reverse.remirror(
                    old, new, request, mirror_id, plan.target.domain, plan.cross_domain
                )
            except Refused as exc:
                raise _refused(str(exc)) from exc
            made.append((request, mirror_id))
            out.append(
                {
                    "stream": s.stream,
                    "kept_aside": kept,
                    "kept_messages": state["messages"],
                    "old_stream": dropped,
                    "fence": fenced,
                    **mirror,
                }
            )
        async with self.sessions() as db, db.begin():
            for request, mirror_id in made:
                await records.register_mirror(
                    db, task.org_id, request, mirror_id, plan.pair_id, task.operation_id, None
                )
            await records.swap_roles(
                db,
                task.org_id,
                plan.pair_id,
                plan.target.cluster_id,
                plan.primary.cluster_id,
                [{"stream": s.mirror_stream, "mirror_stream": s.stream} for s in plan.streams],
            )
        result: dict[str, Any] = {"streams": out}
        if plan.reverse_only:
            result["active_side"] = await _catch_up_active_side(old, new, plan.key)
        return result

    # --- state and records ---------------------------------------------------------------------
    @activity.defn(name="failover_state")
    async def failover_state(self, task: FailoverTask) -> list[dict[str, Any]]:
        """Each stream on each side, as it is now (for the result)."""
        plan = task.plan
        primary = await self._maybe(task.org_id, plan.primary.cluster_id, SHORT_TIMEOUT_S)
        target = await self._maybe(task.org_id, plan.target.cluster_id, SHORT_TIMEOUT_S)
        out = []
        for s in plan.streams:
            p, t = await asyncio.gather(
                side_state(primary, s.stream), side_state(target, s.mirror_stream)
            )
            out.append(
                {
                    "stream": s.stream,
                    "mirror_stream": s.mirror_stream,
                    "primary_state": p["state"],
                    "primary_last_seq": p["last_seq"],
                    "standby_state": t["state"],
                    "standby_last_seq": t["last_seq"],
                }
            )
        return out

    @activity.defn(name="failover_record")
    async def failover_record(self, task: FailoverTask) -> None:
        """The pair's ``last_drill`` or ``last_failover``."""
        field = "last_drill" if task.plan.request.drill else "last_failover"
        async with self.sessions() as db, db.begin():
            await records.record_outcome(
                db, task.org_id, task.plan.pair_id, field, task.record or {}
            )


def _behind(states: list[dict[str, Any]]) -> str:
    late = [
        f"{s['mirror_stream']} holds up to {s['standby_last_seq']} of {s['fence_seq']}"
        + (f", {s['pending']} pending" if s.get("pending") else "")
        for s in states
        if not s["caught_up"]
    ]
    return "the mirrors did not catch up in time: " + "; ".join(late)


async def _record_source(
    target: JetStreamApi, mirror_stream: str, source: dict[str, Any] | None
) -> None:
    """Keep the primary's promotable settings on the mirror (only when they changed)."""
    if not source:
        return
    info = await target.stream_info(mirror_stream)
    config = info["config"]
    meta = metadata(config)
    record = json.dumps(source, separators=(",", ":"))
    if meta.get(SOURCE_CONFIG_KEY) == record:
        return
    meta[SOURCE_CONFIG_KEY] = record
    await target.stream_update({**config, "metadata": meta})


def _consumer_of(task: FailoverTask, stream: str) -> str | None:
    """The durable consumer the mirror of ``stream`` reads through on the primary (the console's
    row, else what the mirror's config named when measured)."""
    planned = next(s.consumer for s in task.plan.streams if s.stream == stream)
    measured = task.plan.measured
    return planned or (measured.of(stream).consumer if measured else None)


async def _delete_consumer(primary: JetStreamApi, task: FailoverTask, stream: str) -> bool | None:
    """Remove the promoted mirror's consumer on the old primary: True (or gone already), False
    when it could not be now, None when the mirror had no durable consumer of its own."""
    consumer = _consumer_of(task, stream)
    if consumer is None:
        return None
    try:
        return await delete_consumer(primary, stream, consumer)
    except (JetStreamError, JetStreamUnavailable):
        return False


async def _catch_up_active_side(old: JetStreamApi, new: JetStreamApi, key: str) -> dict[str, Any]:
    """The new primary's value of the pair's active side, on the old primary too when it lacks
    it or holds an older epoch (its failover's cleanup may never have reached it)."""
    try:
        current = await active_side.read(new, key)
        if current is None:
            return {"written": False, "why": "the new primary has no value for the pair"}
        there = await active_side.read(old, key)
        if there is not None and there.epoch >= current.epoch:
            return {"written": False, "epoch": there.epoch}
        return await active_side.announce(old, key, current)
    except (JetStreamError, JetStreamUnavailable) as exc:
        return {"written": False, "error": str(exc) or type(exc).__name__}


async def _announce_maybe(
    js: JetStreamApi | None, key: str, side: active_side.ActiveSide
) -> dict[str, Any]:
    if js is None:
        return {"written": False, "error": "unreachable"}
    try:
        return await asyncio.wait_for(active_side.announce(js, key, side), SHORT_TIMEOUT_S * 2)
    except (TimeoutError, JetStreamError, JetStreamUnavailable) as exc:
        return {"written": False, "error": str(exc) or type(exc).__name__}

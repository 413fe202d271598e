"""Measuring one replication edge: read the source side (its stream state from the scan, the
console's consumer, the oldest message the target lacks), recall the previous measurement from
Redis, and let ``core.replication.lag`` count and classify.

Every request to a source is capped (``MEASURE_TIMEOUT_S``): a source that does not answer in time
counts as unreachable for this measurement. The previous measurement of each edge is kept in Redis
(``replication:edge:<target cluster>:<target stream>:<kind>[...]``, ``MEMORY_TTL_S``): it gives
the catch-up rate, tells a stalled edge from a slow one, and is the last known lag while a side
cannot be read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis.asyncio as aioredis

from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.replication import lag as L
from core.replication.topology import ClusterScan, Edge
from core.replication.views import EdgeView

MEASURE_TIMEOUT_S = 2.0
MEMORY_TTL_S = 900
NO_MESSAGE = 10037  # STREAM.MSG.GET: "no message found"
MAX_FILTERS_LOOKED_UP = 16

T = TypeVar("T")


def memory_key(edge_key: str) -> str:
    return f"replication:edge:{edge_key}"


async def recall(redis: aioredis.Redis, keys: list[str]) -> dict[str, L.EdgeMemory]:
    if not keys:
        return {}
    values = await redis.mget([memory_key(k) for k in keys])
    found = {}
    for key, value in zip(keys, values, strict=False):
        if value:
            try:
                found[key] = L.EdgeMemory.from_json(json.loads(value))
            except (ValueError, TypeError):
                continue  # written by another version: measured afresh
    return found


async def keep(redis: aioredis.Redis, memories: dict[str, L.EdgeMemory]) -> None:
    if not memories:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for key, memory in memories.items():
            pipe.set(memory_key(key), json.dumps(memory.to_json()), ex=MEMORY_TTL_S)
        await pipe.execute()


async def oldest_missing_age(
    js: JetStreamApi, stream: str, from_seq: int, filters: list[str], now: float
) -> float | None:
    """Age of the first message at or after ``from_seq`` on any of ``filters`` (any subject when
    none); None when there is none."""

    async def first(subject: str) -> float | None:
        try:
            reply = await js.request(
                f"STREAM.MSG.GET.{stream}", {"seq": max(from_seq, 1), "next_by_subj": subject}
            )
        except JetStreamError as exc:
            if exc.err_code == NO_MESSAGE or exc.not_found:
                return None
            raise
        return L.age_seconds((reply.get("message") or {}).get("time"), now)

    ages = await asyncio.gather(*(first(s) for s in (filters or [">"])[:MAX_FILTERS_LOOKED_UP]))
    found = [a for a in ages if a is not None]
    return max(found) if found else None


@dataclass
class Measured:
    view: EdgeView
    memory: L.EdgeMemory | None  # to keep (None: nothing new was measured)
    fresh: bool  # the lag figures are measured now (not the last known ones)
    known_lag_messages: int | None  # the last known lag, for a pair's data at risk


def _source_name(edge: Edge) -> str:
    """The source cluster's name (a source that was read is always registered)."""
    return edge.source_cluster.name if edge.source_cluster is not None else "unregistered"


class _Source:
    """The source side of an edge as far as it can be read now."""

    def __init__(self, edge: Edge, scans: dict[Any, ClusterScan]):
        scan = scans.get(edge.source_cluster.id) if edge.source_cluster is not None else None
        self.scan = scan
        self.registered = scan is not None
        self.unreachable = scan is not None and not scan.reachable
        self.info = (
            scan.streams.get(edge.source_stream) if scan is not None and scan.reachable else None
        )
        self.js = scan.js if scan is not None and self.info is not None else None
        self.error = ""
        if scan is not None and scan.reachable and self.info is None:
            self.error = (
                f"the source stream '{edge.source_stream}' does not exist on '{_source_name(edge)}'"
            )
        elif self.unreachable:
            self.error = f"the source cluster '{_source_name(edge)}' cannot be reached"

    @property
    def state(self) -> L.SourceState | None:
        if self.info is None:
            return None
        state = self.info.get("state") or {}
        return L.SourceState(int(state.get("last_seq") or 0), int(state.get("first_seq") or 0))

    @property
    def stream_missing(self) -> bool:
        return self.registered and not self.unreachable and self.info is None

    def lost(self, why: str) -> None:
        """A request to the source did not come back in time: the cluster counts as unreachable,
        for this edge and for every edge measured after it (no more waiting on it)."""
        self.info, self.js, self.unreachable = None, None, True
        self.error = why
        if self.scan is not None:
            self.scan.reachable, self.scan.js = False, None
            self.scan.error = "the cluster did not answer in time"


async def _capped(awaitable: Awaitable[T], timeout: float) -> T:
    return await asyncio.wait_for(awaitable, timeout)


def _start_seq(config: dict[str, Any] | None) -> int | None:
    if config and config.get("opt_start_seq"):
        return int(config["opt_start_seq"])
    return None


async def measure_edge(
    edge: Edge,
    scans: dict[Any, ClusterScan],
    memory: L.EdgeMemory | None,
    now: float,
    timeout: float = MEASURE_TIMEOUT_S,
) -> Measured:
    if edge.absent:
        return _absent(edge, memory, now)
    source = _Source(edge, scans)
    consumer_info: dict[str, Any] | None = None
    consumer_error = ""
    if edge.row is not None and edge.row.consumer_name and source.js is not None:
        try:
            consumer_info = await _capped(
                source.js.consumer_info(edge.source_stream, edge.row.consumer_name), timeout
            )
        except JetStreamError as exc:
            consumer_error = (
                f"the mirror's consumer '{edge.row.consumer_name}' is not on the "
                f"source stream: {exc.description}"
            )
        except (TimeoutError, JetStreamUnavailable):
            source.lost(f"the source cluster '{_source_name(edge)}' did not answer in time")
    consumer = L.ConsumerState.of(consumer_info) if consumer_info else None

    link = edge.link or {}
    target_known = edge.target_reachable and edge.target_info is not None
    # The server's own lag only when the source is out of the console's sight (it reads 0 while
    # the link is cut, so it is not used for a source
    # the source cluster knows to be unreachable, nor for a source stream that does not exist).
    trust_server = target_known and not source.unreachable and not source.stream_missing
    server_lag = int(link.get("lag") or 0) if trust_server else None
    filters = edge.filter_subjects
    if edge.kind == "mirror":
        start = _start_seq((consumer_info or {}).get("config")) or _start_seq(edge.config)
        by_time_unseen = bool(edge.config.get("opt_start_time")) and not edge.target_last_seq
        copied, lag_messages = L.mirror_lag(
            target_last_seq=edge.target_last_seq,
            known_target_last_seq=memory.target_last_seq if memory else None,
            source=source.state,
            consumer=consumer,
            countable=not filters and not by_time_unseen,
            start_seq=start,
            server_lag=server_lag,
        )
        position = edge.target_last_seq
    elif link.get("seq") is not None or not target_known:
        # A stream source renumbers; the server reports the source sequence it copied up to.
        copied, lag_messages = L.mirror_lag(
            target_last_seq=int(link["seq"]) if link.get("seq") is not None else None,
            known_target_last_seq=memory.position if memory else None,
            source=source.state,
            consumer=None,
            countable=not filters,
            start_seq=_start_seq(edge.config),
            server_lag=server_lag,
        )
        position = copied if target_known else None
    else:
        copied, lag_messages = _sourced_lag(source.state, server_lag, link, memory)
        position = copied

    lag_seconds: float | None = 0.0 if lag_messages == 0 else None
    # A filtered mirror without the console's consumer has only the server's lag, which misses
    # what the link did not bring: look for a message it lacks all the same.
    unsure = bool(filters) and edge.kind == "mirror" and consumer is None
    if source.js is not None and copied is not None and (lag_messages or unsure):
        try:
            age = await _capped(
                oldest_missing_age(source.js, edge.source_stream, copied + 1, filters, now), timeout
            )
        except (TimeoutError, JetStreamUnavailable):
            source.lost(f"the source cluster '{_source_name(edge)}' did not answer in time")
            age = None
        except JetStreamError:
            age = None
        if age is not None:
            lag_seconds = age
            if not lag_messages and lag_messages is not None:
                lag_messages = 1  # the server's lag of a filtered mirror missed a message
        elif lag_messages:
            lag_seconds = None

    fresh = lag_messages is not None
    paused = bool(consumer and consumer.paused)
    observation = L.Observation(
        target_reachable=edge.target_reachable,
        source_readable=source.state is not None,
        source_unreachable=source.unreachable,
        lag_messages=lag_messages,
        paused=paused,
        server_error=(
            (link.get("error") or {}).get("description")
            or consumer_error
            or (source.error if source.stream_missing else "")
            or None
        ),
        active_s=L.active_seconds(link.get("active")) if target_known else None,
        position=position,
        unknown_reason=edge.problem or source.error,
    )
    remembered = None
    if fresh or position is not None:
        remembered = L.remember(
            memory,
            now,
            position,
            lag_messages=lag_messages,
            lag_seconds=lag_seconds,
            source_last_seq=source.state.last_seq if source.state else None,
            target_last_seq=edge.target_last_seq,
        )
    status, reason = L.classify(observation, remembered, now)
    return _view(
        edge, source, observation, status, reason, remembered, memory, now, fresh, lag_seconds
    )


def _sourced_lag(
    state: L.SourceState | None,
    server_lag: int | None,
    link: dict[str, Any],
    memory: L.EdgeMemory | None,
) -> tuple[int | None, int | None]:
    """``(copied_upto, lag)`` of a stream source on a server that does not report the sequence it
    copied up to: the server's lag (the source sequence copied is ``last_seq - lag``) unless the
    target has not heard from the source for a while: then its lag is stale and the lag counts
    from the last position seen."""
    if state is None or server_lag is None:
        return None, server_lag
    active = L.active_seconds(link.get("active"))
    if (
        (active is None or active > L.ACTIVE_STALE_S)
        and memory is not None
        and memory.position is not None
    ):
        behind = L.copied_lag(state.last_seq, state.first_seq, memory.position)
        if behind > server_lag:
            return memory.position, behind
    return state.last_seq - server_lag, server_lag


def _absent(edge: Edge, memory: L.EdgeMemory | None, now: float) -> Measured:
    creating = edge.row is not None and edge.row.state == "creating"
    return unmeasured(edge, memory, now, "unknown" if creating else "error", edge.absent)


def unmeasured(
    edge: Edge, memory: L.EdgeMemory | None, now: float, status: L.Status, why: str
) -> Measured:
    """An edge shown without figures, and why."""
    view = _base(
        edge,
        status=status,
        error=why,
        measured_at=now,
        lag_messages=None,
        lag_seconds=None,
        rate=None,
        source_last_seq=None,
        target_last_seq=None,
        last_contact_s=None,
    )
    return Measured(view, None, False, memory.lag_messages if memory else None)


def _view(
    edge: Edge,
    source: _Source,
    observation: L.Observation,
    status: L.Status,
    reason: str,
    remembered: L.EdgeMemory | None,
    memory: L.EdgeMemory | None,
    now: float,
    fresh: bool,
    lag_seconds: float | None,
) -> Measured:
    notes = [reason] if reason else []
    if edge.problem and edge.problem not in notes:
        notes.append(edge.problem)
    lag_messages, measured_at = observation.lag_messages, now
    target_last_seq = edge.target_last_seq
    if target_last_seq is None and memory is not None and memory.target_last_seq is not None:
        target_last_seq = memory.target_last_seq
        seen_at = memory.seen_at or memory.measured_at
        notes.append(f"the target's last sequence as last seen at {_iso(seen_at)}")
    if not fresh and memory is not None and memory.lag_messages is not None:
        lag_messages, lag_seconds = memory.lag_messages, memory.lag_seconds
        measured_at = memory.measured_at
        notes.append(f"the lag is the last known one, measured at {_iso(memory.measured_at)}")
    rate = remembered.rate if remembered is not None and observation.position is not None else None
    view = _base(
        edge,
        status=status,
        error="; ".join(notes) or None,
        measured_at=measured_at,
        lag_messages=lag_messages,
        lag_seconds=_round(lag_seconds),
        rate=_round(rate),
        source_last_seq=source.state.last_seq if source.state else None,
        target_last_seq=target_last_seq,
        last_contact_s=_round(observation.active_s),
    )
    return Measured(view, remembered, fresh, memory.lag_messages if memory else None)


def _base(
    edge: Edge,
    *,
    status: L.Status,
    error: str | None,
    measured_at: float,
    lag_messages: int | None,
    lag_seconds: float | None,
    rate: float | None,
    source_last_seq: int | None,
    target_last_seq: int | None,
    last_contact_s: float | None,
) -> EdgeView:
    return EdgeView(
        kind=edge.kind,
        source_cluster_id=edge.source_cluster.id if edge.source_cluster else None,
        source_domain=edge.source_domain,
        source_stream=edge.source_stream,
        target_cluster_id=edge.target.id,
        target_stream=edge.target_stream,
        managed=edge.row is not None,
        mirror_id=edge.row.id if edge.row is not None else None,
        pair_id=edge.pair.id if edge.pair is not None else None,
        filter_subjects=edge.filter_subjects,
        lag_messages=lag_messages,
        lag_seconds=lag_seconds,
        catch_up_rate_per_s=rate,
        status=status,
        error=error,
        source_last_seq=source_last_seq,
        target_last_seq=target_last_seq,
        measured_at=datetime.fromtimestamp(measured_at, UTC),
        last_contact_s=last_contact_s,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")

"""How far behind a replication edge is, and what to call its state: pure functions over what
was read from the clusters (``core.replication.measure`` reads it), tested as tables.

Lag is counted from the **source** side whenever the source can be read: a mirror's own
``mirror.lag`` reads 0 while replication is paused or cut off, so it is only the last resort.

- ``position``: the last source sequence the target holds. A mirror keeps its source's sequence
  numbers, so it is the mirror's ``last_seq``; a stream source's is ``source last_seq - lag``.
- ``lag_messages``: source messages not on the target yet; ``lag_seconds``: the age of the oldest
  of them (0 when there are none).
- ``catch_up_rate_per_s``: how fast ``position`` advanced since a previous measurement (kept per
  edge in Redis by ``measure``; ``EdgeMemory`` here is its content).
- status, in order of precedence: ``broken_link`` (the target cluster cannot be reached),
  ``paused`` (the console's consumer is paused), ``broken_link`` (the source cannot be reached, or
  the mirror has not heard from its source for ``ACTIVE_STALE_S`` while it lacks messages),
  ``error`` (the server's own message), ``stalled`` (lagging with no progress for
  ``STALL_AFTER_S``), ``behind``, ``in_sync``; ``unknown`` when nothing says how far behind it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["in_sync", "behind", "stalled", "broken_link", "paused", "error", "unknown"]

ACTIVE_STALE_S = 10.0  # a healthy mirror hears from its source at least every idle heartbeat (1 s)
STALL_AFTER_S = 10.0
RATE_MIN_INTERVAL_S = 1.0  # a rate over a shorter interval is noise: keep the previous baseline


@dataclass(frozen=True)
class EdgeMemory:
    """The previous measurement of an edge (JSON in Redis)."""

    measured_at: float  # epoch seconds
    position: int | None = None
    seen_at: float | None = None  # when ``position`` (and ``target_last_seq``) was last read
    progress_at: float | None = None  # when ``position`` last advanced (or was first seen)
    baseline_position: int | None = None  # the rate is measured from here ...
    baseline_at: float | None = None  # ... and this time
    rate: float | None = None
    lag_messages: int | None = None
    lag_seconds: float | None = None
    source_last_seq: int | None = None
    target_last_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EdgeMemory:
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**values)


@dataclass(frozen=True)
class Observation:
    """What one measurement found about an edge."""

    target_reachable: bool
    source_readable: bool  # False: the source cluster is unreachable or not registered here
    source_unreachable: bool = False  # the source IS registered and could not be reached
    lag_messages: int | None = None
    paused: bool = False
    server_error: str | None = None  # the target server's ``mirror.error`` / ``sources[].error``
    active_s: float | None = None  # seconds since the target last heard from its source
    position: int | None = None
    unknown_reason: str = ""


def copied_lag(source_last_seq: int, source_first_seq: int, copied_upto: int) -> int:
    """Messages of an unfiltered source after ``copied_upto`` (what the target holds), counting
    nothing below the source's first sequence (purged or expired messages cannot be copied)."""
    floor = max(copied_upto, source_first_seq - 1, 0)
    return max(source_last_seq - floor, 0)


def consumer_lag(
    num_pending: int, num_ack_pending: int, delivered_seq: int, target_last_seq: int | None
) -> int:
    """A console mirror's lag from its durable consumer on the source: what it has not delivered
    yet, plus what it delivered and the mirror has not confirmed (unless the mirror is known to
    hold everything delivered: the consumer's ack floor trails the mirror)."""
    if target_last_seq is not None and target_last_seq >= delivered_seq:
        return num_pending
    return num_pending + num_ack_pending


@dataclass(frozen=True)
class SourceState:
    last_seq: int
    first_seq: int


@dataclass(frozen=True)
class ConsumerState:
    """The console's durable consumer on the source (CONSUMER.INFO)."""

    num_pending: int
    num_ack_pending: int
    delivered_seq: int
    ack_floor_seq: int
    paused: bool = False

    @classmethod
    def of(cls, info: dict[str, Any]) -> ConsumerState:
        return cls(
            int(info.get("num_pending") or 0),
            int(info.get("num_ack_pending") or 0),
            int((info.get("delivered") or {}).get("stream_seq") or 0),
            int((info.get("ack_floor") or {}).get("stream_seq") or 0),
            bool(info.get("paused")),
        )


def mirror_lag(
    *,
    target_last_seq: int | None,
    known_target_last_seq: int | None,
    source: SourceState | None,
    consumer: ConsumerState | None,
    countable: bool,
    start_seq: int | None,
    server_lag: int | None,
) -> tuple[int | None, int | None]:
    """``(copied_upto, lag_messages)`` of a mirror.

    ``copied_upto`` is the last source sequence the mirror holds: its ``last_seq`` now, else the
    last one seen (``known_target_last_seq``) or the consumer's ack floor, whichever is further,
    never before the mirror's start. ``countable``: every source message after it belongs to the
    mirror (no filter), so the lag is a difference of sequences. Otherwise the console's consumer
    counts it, else the server's ``server_lag`` is all there is (None: unknown)."""
    copied = target_last_seq
    if copied is None:
        seen = [
            v
            for v in (known_target_last_seq, consumer.ack_floor_seq if consumer else None)
            if v is not None
        ]
        copied = max(seen) if seen else None
    if copied is not None and start_seq:
        copied = max(copied, start_seq - 1)
    if source is None:
        return copied, server_lag
    if countable and copied is not None:
        return copied, copied_lag(source.last_seq, source.first_seq, copied)
    if consumer is not None:
        return copied, consumer_lag(
            consumer.num_pending, consumer.num_ack_pending, consumer.delivered_seq, target_last_seq
        )
    return copied, server_lag


def active_seconds(active_ns: Any) -> float | None:
    """``mirror.active`` (ns since the target last heard from its source; -1: never) in seconds;
    None when never or not reported."""
    if active_ns is None:
        return None
    try:
        value = int(active_ns)
    except (TypeError, ValueError):
        return None
    return None if value < 0 else value / 1e9


def age_seconds(stored_at: str | None, now: float) -> float | None:
    """The age of a message from JetStream's ``time`` (RFC 3339 with nanoseconds)."""
    if not stored_at:
        return None
    text = stored_at.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python parses at most microseconds: cut the fraction to 6 digits
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(now - when.timestamp(), 0.0)


def remember(
    previous: EdgeMemory | None, now: float, position: int | None, **fields: Any
) -> EdgeMemory:
    """The memory after a measurement at ``now``: progress time, rate baseline and rate moved on
    from ``previous``. ``fields`` are the other measured values."""
    if position is None:  # nothing new about the position: keep what was known of it
        base = previous or EdgeMemory(measured_at=now)
        return replace(base, measured_at=now, **{k: v for k, v in fields.items() if v is not None})
    if previous is None or previous.position is None:
        return EdgeMemory(
            measured_at=now,
            position=position,
            seen_at=now,
            progress_at=now,
            baseline_position=position,
            baseline_at=now,
            **fields,
        )
    progress_at = now if position != previous.position else (previous.progress_at or now)
    rate = previous.rate
    baseline_position, baseline_at = previous.baseline_position, previous.baseline_at
    if baseline_position is None or baseline_at is None or position < baseline_position:
        baseline_position, baseline_at = position, now  # a new start (purged, recreated)
    elif now - baseline_at >= RATE_MIN_INTERVAL_S:
        rate = (position - baseline_position) / (now - baseline_at)
        baseline_position, baseline_at = position, now
    return EdgeMemory(
        measured_at=now,
        position=position,
        seen_at=now,
        progress_at=progress_at,
        baseline_position=baseline_position,
        baseline_at=baseline_at,
        rate=rate,
        **fields,
    )


def classify(observation: Observation, memory: EdgeMemory | None, now: float) -> tuple[Status, str]:
    """The status of an edge and why (``memory`` is the measurement just remembered, whose
    ``progress_at`` says since when the position has not moved)."""
    o = observation
    lag = o.lag_messages
    if not o.target_reachable:
        return "broken_link", "the target cluster cannot be reached" + (
            "; the lag is counted on the source" if o.source_readable and lag is not None else ""
        )
    if o.paused:
        return "paused", "replication is paused (the console's consumer on the source is paused)"
    if o.source_unreachable:
        return "broken_link", "the source cluster cannot be reached"
    if o.active_s is None and o.source_readable and lag:
        return "broken_link", "the mirror has never heard from its source"
    if o.active_s is not None and o.active_s > ACTIVE_STALE_S and (lag or not o.source_readable):
        return "broken_link", (
            f"the mirror has not heard from its source for {o.active_s:.0f} s"
            + (f" and lacks {lag} messages" if lag else "")
        )
    if o.server_error:
        return "error", o.server_error
    if lag is None:
        return "unknown", o.unknown_reason or "the lag could not be measured"
    if lag == 0:
        return "in_sync", ""
    idle = now - memory.progress_at if memory is not None and memory.progress_at is not None else 0
    if idle > STALL_AFTER_S:
        return "stalled", f"{lag} messages behind and no progress for {idle:.0f} s"
    return "behind", ""


@dataclass(frozen=True)
class PairStreamLag:
    """One protected stream of a pair, as the map measured it (None: unknown)."""

    lag_messages: int | None
    lag_seconds: float | None
    known_lag_messages: int | None = None  # the last known lag when the current one is unknown
    missing: bool = False  # no mirror of the stream on the other side


@dataclass(frozen=True)
class PairHealth:
    rpo_ok: bool | None
    worst_lag_seconds: float | None
    data_at_risk_messages: int | None


def pair_health(
    rpo_seconds: float, streams: list[PairStreamLag], sides_readable: bool = True
) -> PairHealth:
    """Does the pair's RPO hold right now: every stream's ``lag_seconds`` within ``rpo_seconds``.
    False as soon as one known lag exceeds it or a stream has no mirror; None while some lag is
    unknown, or a side of the pair cannot be read, and none is known to exceed it. Data at risk
    is the sum of the lags, with the last known lag for a stream whose current lag is unknown."""
    known = [s.lag_seconds for s in streams if s.lag_seconds is not None]
    worst = max(known) if known else None
    unknown = any(s.lag_seconds is None and not s.missing for s in streams)
    if any(s.missing for s in streams) or (worst is not None and worst > rpo_seconds):
        rpo_ok: bool | None = False
    elif unknown or not streams or not sides_readable:
        rpo_ok = None
    else:
        rpo_ok = True
    counts = [
        s.lag_messages if s.lag_messages is not None else s.known_lag_messages
        for s in streams
        if not s.missing
    ]
    known_counts = [c for c in counts if c is not None]
    at_risk = sum(known_counts) if known_counts else None
    return PairHealth(rpo_ok, worst, at_risk)

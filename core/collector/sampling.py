"""Samples from what JetStream reports, with rates over the time since the previous sample of the
same stream (or consumer, or server). Pure: the previous samples are given, time is given.

A counter that went backwards (a stream purged or recreated, a consumer recreated, a server
restarted) gives no rate for that interval rather than a negative one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.live.samples import (
    ClusterSample,
    ConsumerSample,
    MirrorState,
    ServerSample,
    StreamSample,
    sample_id,
)


def _delta(now: int, before: int | None) -> int | None:
    if before is None or now < before:
        return None
    return now - before


def _rate(delta: int | float | None, seconds: float | None) -> float | None:
    if delta is None or not seconds or seconds <= 0:
        return None
    return delta / seconds


def consumer_sample(
    info: dict[str, Any], previous: ConsumerSample | None, seconds: float | None
) -> ConsumerSample:
    delivered = int((info.get("delivered") or {}).get("consumer_seq", 0))
    acked = int((info.get("ack_floor") or {}).get("consumer_seq", 0))
    pending, ack_pending = int(info.get("num_pending", 0)), int(info.get("num_ack_pending", 0))
    lag = pending + ack_pending
    d_delivered = _delta(delivered, previous.delivered if previous else None)
    d_acked = _delta(acked, previous.acked if previous else None)
    trend = _rate(lag - previous.lag, seconds) if previous else None
    return ConsumerSample(
        name=info.get("name") or (info.get("config") or {}).get("durable_name") or "",
        pending=pending,
        ack_pending=ack_pending,
        redelivered=int(info.get("num_redelivered", 0)),
        waiting=int(info.get("num_waiting", 0)),
        delivered=delivered,
        acked=acked,
        lag=lag,
        delivered_delta=d_delivered,
        acked_delta=d_acked,
        delivered_rate=_rate(d_delivered, seconds),
        ack_rate=_rate(d_acked, seconds),
        lag_trend=trend,
        paused=bool(info.get("paused")),
        push_bound=bool(info.get("push_bound")),
    )


def stream_sample(
    org_id: uuid.UUID,
    cluster_id: uuid.UUID,
    info: dict[str, Any],
    consumers: list[dict[str, Any]],
    at: datetime,
    previous: StreamSample | None,
) -> StreamSample:
    config, state = info.get("config") or {}, info.get("state") or {}
    name = config["name"]
    seconds = (at - previous.timestamp).total_seconds() if previous else None
    before: dict[str | None, ConsumerSample] = (
        {c.name: c for c in previous.consumers} if previous else {}
    )
    samples = [consumer_sample(c, before.get(c.get("name")), seconds) for c in consumers]
    last_seq, size = int(state.get("last_seq", 0)), int(state.get("bytes", 0))
    # messages stored since: by sequence (purges and limits do not hide new publishes)
    messages_in = _delta(last_seq, previous.last_seq if previous else None)
    bytes_in = None
    if messages_in is not None and previous is not None:
        grown = size - previous.bytes  # what was added, net of what limits or purges removed
        bytes_in = grown if grown >= 0 else None
    out = [c.delivered_rate for c in samples if c.delivered_rate is not None]
    mirror = None
    if info.get("mirror"):
        m = info["mirror"]
        active = m.get("active")
        error = (
            (m.get("error") or {}).get("description")
            if isinstance(m.get("error"), dict)
            else m.get("error")
        )
        mirror = MirrorState(
            name=m.get("name", ""),
            lag=int(m.get("lag", 0)),
            active_ms=None if active in (None, -1) else active / 1e6,
            error=error or None,
        )
    return StreamSample(
        id=sample_id(cluster_id, "stream", name, at),
        org_id=org_id,
        cluster_id=cluster_id,
        stream=name,
        timestamp=at,
        messages=int(state.get("messages", 0)),
        bytes=size,
        first_seq=int(state.get("first_seq", 0)),
        last_seq=last_seq,
        consumer_count=int(state.get("consumer_count", len(consumers))),
        subjects=list(config.get("subjects") or []),
        max_bytes=int(config.get("max_bytes", -1)),
        max_msgs=int(config.get("max_msgs", -1)),
        messages_in=messages_in,
        bytes_in=bytes_in,
        messages_rate=_rate(messages_in, seconds),
        bytes_rate=_rate(bytes_in, seconds),
        messages_out_rate=sum(out) if out else None,
        mirror=mirror,
        consumers=samples,
    )


def server_sample(
    varz: dict[str, Any], previous: ServerSample | None, seconds: float | None
) -> ServerSample:
    values = {k: int(varz.get(k, 0)) for k in ("in_msgs", "out_msgs", "in_bytes", "out_bytes")}
    rates = {
        f"{k}_rate": _rate(_delta(v, getattr(previous, k) if previous else None), seconds)
        for k, v in values.items()
    }
    return ServerSample(
        server_id=varz.get("server_id", ""),
        server_name=varz.get("server_name", ""),
        cpu_percent=float(varz.get("cpu", 0.0)),
        memory_bytes=int(varz.get("mem", 0)),
        connections=int(varz.get("connections", 0)),
        subscriptions=int(varz.get("subscriptions", 0)),
        slow_consumers=int(varz.get("slow_consumers", 0)),
        **values,
        **rates,
    )


def cluster_sample(
    org_id: uuid.UUID,
    cluster_id: uuid.UUID,
    at: datetime,
    *,
    streams: list[StreamSample],
    account: dict[str, Any],
    varz: list[dict[str, Any]],
    previous: ClusterSample | None,
    collector: str = "",
) -> ClusterSample:
    seconds = (at - previous.timestamp).total_seconds() if previous else None
    before = {s.server_id: s for s in previous.servers} if previous else {}
    servers = [server_sample(v, before.get(v.get("server_id", "")), seconds) for v in varz]

    def total(field: str) -> float | None:
        values = [getattr(s, field) for s in streams if getattr(s, field) is not None]
        return sum(values) if values else None

    return ClusterSample(
        id=sample_id(cluster_id, "cluster", "", at),
        org_id=org_id,
        cluster_id=cluster_id,
        timestamp=at,
        reachable=True,
        streams=len(streams),
        consumers=sum(len(s.consumers) for s in streams),
        messages=sum(s.messages for s in streams),
        bytes=sum(s.bytes for s in streams),
        messages_rate=total("messages_rate"),
        bytes_rate=total("bytes_rate"),
        messages_out_rate=total("messages_out_rate"),
        account=account,
        servers=servers,
        collector=collector,
    )


def unreachable_sample(
    org_id: uuid.UUID, cluster_id: uuid.UUID, at: datetime, error: str, collector: str = ""
) -> ClusterSample:
    return ClusterSample(
        id=sample_id(cluster_id, "cluster", "", at),
        org_id=org_id,
        cluster_id=cluster_id,
        timestamp=at,
        reachable=False,
        error=error,
        collector=collector,
    )

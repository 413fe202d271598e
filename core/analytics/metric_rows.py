"""Metric samples (``core.live.samples``) into ``stream_metrics``, ``consumer_metrics`` and
``cluster_metrics``.

A sample redelivered after its rows were inserted (an ack lost, the API killed between insert and
ack) is recognised by its ``sample_id`` in each table and not inserted again, so the raw tables
and the hourly/daily roll-ups fed from them count it once. One message's rows of one table go in
one insert, so a table holds all of a sample's rows or none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from core.analytics.store import AnalyticsStore
from core.live.samples import ClusterSample, StreamSample

STREAM_COLUMNS = [
    "sample_id",
    "org_id",
    "cluster_id",
    "stream_name",
    "timestamp",
    "messages_total",
    "bytes_total",
    "messages_rate",
    "bytes_rate",
    "consumer_count",
    "first_seq",
    "last_seq",
    "subjects",
    "messages_in",
    "bytes_in",
    "messages_out_rate",
    "max_bytes",
    "mirror_lag",
    "mirror_active_ms",
    "mirror_error",
]
CONSUMER_COLUMNS = [
    "sample_id",
    "org_id",
    "cluster_id",
    "stream_name",
    "consumer_name",
    "timestamp",
    "pending_count",
    "ack_pending",
    "redelivered",
    "waiting",
    "delivered_rate",
    "ack_rate",
    "lag",
    "delivered_total",
    "acked_total",
    "lag_trend",
]
CLUSTER_COLUMNS = [
    "sample_id",
    "org_id",
    "cluster_id",
    "server_id",
    "server_name",
    "timestamp",
    "cpu_percent",
    "memory_bytes",
    "connections",
    "subscriptions",
    "slow_consumers",
    "in_msgs",
    "out_msgs",
    "in_bytes",
    "out_bytes",
    "reachable",
]


def parse(data: bytes) -> StreamSample | ClusterSample:
    body = json.loads(data)
    if body.get("kind") == "stream":
        return StreamSample.model_validate(body)
    if body.get("kind") == "cluster":
        return ClusterSample.model_validate(body)
    raise ValueError(f"not a metric sample (kind {body.get('kind')!r})")


def _utc(sample: ClusterSample | StreamSample) -> datetime:
    ts = sample.timestamp
    return (ts.astimezone(UTC) if ts.tzinfo else ts).replace(tzinfo=None)


def stream_rows(s: StreamSample) -> tuple[list[Any], list[list[Any]]]:
    ts = _utc(s)
    stream = [
        s.id,
        s.org_id,
        s.cluster_id,
        s.stream,
        ts,
        s.messages,
        s.bytes,
        s.messages_rate or 0.0,
        s.bytes_rate or 0.0,
        s.consumer_count,
        s.first_seq,
        s.last_seq,
        s.subjects,
        s.messages_in or 0,
        s.bytes_in or 0,
        s.messages_out_rate or 0.0,
        s.max_bytes,
        s.mirror.lag if s.mirror else None,
        s.mirror.active_ms if s.mirror else None,
        (s.mirror.error or "") if s.mirror else "",
    ]
    consumers = [
        [
            s.id,
            s.org_id,
            s.cluster_id,
            s.stream,
            c.name,
            ts,
            c.pending,
            c.ack_pending,
            c.redelivered,
            c.waiting,
            c.delivered_rate or 0.0,
            c.ack_rate or 0.0,
            c.lag,
            c.delivered,
            c.acked,
            c.lag_trend or 0.0,
        ]
        for c in s.consumers
    ]
    return stream, consumers


def cluster_rows(s: ClusterSample) -> list[list[Any]]:
    ts = _utc(s)
    if not s.servers:  # nothing known per server (no monitoring URL, or unreachable): one row
        return [
            [
                s.id,
                s.org_id,
                s.cluster_id,
                "",
                "",
                ts,
                0.0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                int(s.reachable),
            ]
        ]
    return [
        [
            s.id,
            s.org_id,
            s.cluster_id,
            v.server_id,
            v.server_name,
            ts,
            v.cpu_percent,
            v.memory_bytes,
            v.connections,
            v.subscriptions,
            v.slow_consumers,
            v.in_msgs,
            v.out_msgs,
            v.in_bytes,
            v.out_bytes,
            int(s.reachable),
        ]
        for v in s.servers
    ]


def _stored(store: AnalyticsStore, table: str, samples: list[Any]) -> set[str]:
    if not samples:
        return set()
    times = [_utc(s) for s in samples]
    rows = store.query(
        f"SELECT DISTINCT toString(sample_id) FROM {table} WHERE timestamp >= {{lo:DateTime64(3)}} "
        "AND timestamp <= {hi:DateTime64(3)} AND sample_id IN {ids:Array(UUID)}",
        {"lo": min(times), "hi": max(times), "ids": [str(s.id) for s in samples]},
    )
    return {r[0] for r in rows}


class MetricsSink:
    """``JSC_LIVE``'s metric subjects (``jsc.live.*.metrics.>``)."""

    def validate(self, subject: str, data: bytes) -> None:
        parse(data)

    def insert(self, store: AnalyticsStore, batch: list[tuple[str, bytes]]) -> None:
        samples = [parse(data) for _, data in batch]
        streams = [s for s in samples if isinstance(s, StreamSample)]
        clusters = [s for s in samples if isinstance(s, ClusterSample)]
        # consumers first: a stream row present means its consumer rows are too
        have = _stored(store, "consumer_metrics", [s for s in streams if s.consumers])
        consumer_rows = [row for s in streams if str(s.id) not in have for row in stream_rows(s)[1]]
        if consumer_rows:
            store.insert("consumer_metrics", consumer_rows, CONSUMER_COLUMNS)
        have = _stored(store, "stream_metrics", streams)
        stream_new = [stream_rows(s)[0] for s in streams if str(s.id) not in have]
        if stream_new:
            store.insert("stream_metrics", stream_new, STREAM_COLUMNS)
        have = _stored(store, "cluster_metrics", clusters)
        cluster_new = [row for s in clusters if str(s.id) not in have for row in cluster_rows(s)]
        if cluster_new:
            store.insert("cluster_metrics", cluster_new, CLUSTER_COLUMNS)

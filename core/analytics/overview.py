"""The latest samples per cluster, stream and consumer (the overview, a stream's latency), as
parameterised SQL and JSON-ready records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.db.models import NatsCluster

TOP = 10


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _prefix_clause(prefixes: list[str] | None, params: dict[str, Any]) -> str:
    if prefixes is None:
        return ""
    if not prefixes:
        return " AND 0"
    params.update({f"p{i}": p for i, p in enumerate(prefixes)})
    return (
        " AND ("
        + " OR ".join(f"startsWith(stream_name, {{p{i}:String}})" for i in range(len(prefixes)))
        + ")"
    )


def latest_clusters(ids: list[uuid.UUID], since: datetime) -> tuple[str, dict[str, Any]]:
    return (
        "SELECT cluster_id, argMax(reachable, timestamp), max(timestamp), "
        "sum(connections) FROM (SELECT cluster_id, timestamp, any(reachable) AS reachable, "
        "sum(connections) AS connections FROM cluster_metrics WHERE cluster_id IN "
        "{ids:Array(UUID)} AND timestamp >= {since:DateTime64(3)} GROUP BY cluster_id, "
        "timestamp) GROUP BY cluster_id",
        {"ids": [str(i) for i in ids], "since": _naive(since)},
    )


def latest_streams(
    ids: list[uuid.UUID], since: datetime, prefixes: list[str] | None
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"ids": [str(i) for i in ids], "since": _naive(since)}
    return (
        "SELECT cluster_id, stream_name, argMax(messages_total, timestamp), "
        "argMax(bytes_total, timestamp), argMax(messages_rate, timestamp), "
        "argMax(consumer_count, timestamp), max(timestamp) FROM stream_metrics "
        "WHERE cluster_id IN {ids:Array(UUID)} AND timestamp >= {since:DateTime64(3)}"
        + _prefix_clause(prefixes, params)
        + " GROUP BY cluster_id, stream_name",
        params,
    )


def latest_consumers(
    ids: list[uuid.UUID],
    stream: str | None,
    prefixes: list[str] | None,
    since: datetime | None = None,
) -> tuple[str, dict[str, Any]]:
    since = since or datetime.now(UTC) - timedelta(minutes=10)
    params: dict[str, Any] = {"ids": [str(i) for i in ids], "since": _naive(since)}
    where = "cluster_id IN {ids:Array(UUID)} AND timestamp >= {since:DateTime64(3)}"
    if stream:
        where += " AND stream_name = {stream:String}"
        params["stream"] = stream
    return (
        "SELECT cluster_id, stream_name, consumer_name, argMax(lag, timestamp), "
        "argMax(ack_rate, timestamp), argMax(ack_pending, timestamp), "
        "argMax(pending_count, timestamp), max(timestamp) FROM consumer_metrics WHERE "
        + where
        + _prefix_clause(prefixes, params)
        + " GROUP BY cluster_id, stream_name, consumer_name",
        params,
    )


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def consumer_record(row: tuple[Any, ...]) -> dict[str, Any]:
    cid, stream, name, lag, ack_rate, ack_pending, pending, ts = row
    return {
        "cluster_id": str(cid),
        "stream": stream,
        "consumer": name,
        "lag": int(lag),
        "ack_rate": float(ack_rate),
        "ack_pending": int(ack_pending),
        "pending": int(pending),
        "timestamp": _utc(ts),
    }


def overview(
    registered: dict[uuid.UUID, NatsCluster],
    clusters: list[tuple[Any, ...]],
    streams: list[tuple[Any, ...]],
    consumers: list[tuple[Any, ...]],
    throughput: dict[str, Any],
) -> dict[str, Any]:
    reach = {str(r[0]): bool(r[1]) for r in clusters}
    stream_items = [
        {
            "cluster_id": str(r[0]),
            "stream": r[1],
            "messages": int(r[2]),
            "bytes": int(r[3]),
            "messages_rate": float(r[4]),
            "consumers": int(r[5]),
            "timestamp": _utc(r[6]),
        }
        for r in streams
    ]
    consumer_items = [consumer_record(r) for r in consumers]
    total_rate = sum(s["messages_rate"] for s in stream_items)
    top = sorted(stream_items, key=lambda s: (-s["messages_rate"], -s["messages"]))[:TOP]
    for item in top:
        item["share"] = (item["messages_rate"] / total_rate) if total_rate else None
    points = throughput["series"][0]["points"] if throughput["series"] else []
    return {
        "clusters": {
            "total": len(registered),
            "reachable": sum(reach.values()),
            "unreachable": sum(1 for v in reach.values() if not v),
            "not_sampled": sum(1 for c in registered if str(c) not in reach),
            "items": [
                {"id": str(c.id), "name": c.name, "reachable": reach.get(str(c.id))}
                for c in registered.values()
            ],
        },
        "streams": {
            "total": len(stream_items),
            "messages_rate": total_rate,
            "messages": sum(s["messages"] for s in stream_items),
        },
        "consumers": {
            "total": len(consumer_items),
            "lagging": sum(1 for c in consumer_items if c["lag"] > 0),
            "ack_rate": sum(c["ack_rate"] for c in consumer_items),
        },
        "top_streams": top,
        "consumers_by_lag": sorted(consumer_items, key=lambda c: -c["lag"])[:TOP],
        "throughput": {
            "resolution": throughput["resolution"],
            "step_seconds": throughput["step_seconds"],
            "points": points,
        },
    }


def processing_rates(cluster_id: uuid.UUID, stream: str) -> tuple[str, dict[str, Any]]:
    """Per consumer of the stream: the latest acknowledgement rate and its average over the last
    hour, from the samples (the health score's "processing rate")."""
    since = datetime.now(UTC) - timedelta(hours=1)
    return (
        "SELECT consumer_name, argMax(ack_rate, timestamp), avg(ack_rate), count() "
        "FROM consumer_metrics WHERE cluster_id = {c:UUID} AND stream_name = {s:String} "
        "AND timestamp >= {since:DateTime64(3)} GROUP BY consumer_name",
        {"c": str(cluster_id), "s": stream, "since": _naive(since)},
    )


def rate_ratios(rows: list[tuple[Any, ...]]) -> dict[str, float]:
    """consumer -> current rate over its hour's average, where the average is meaningful (two
    samples or more, something acknowledged)."""
    return {
        name: current / average
        for name, current, average, count in rows
        if count >= 2 and average > 0
    }

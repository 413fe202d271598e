"""Structured metric queries (never SQL from a user) into parameterised ClickHouse SQL.

A query names a metric of the catalogue, filters (cluster ids the caller may read are always
imposed, plus stream / consumer), a time range, an aggregate and optional grouping (by stream or
consumer). The resolution follows the range: raw samples bucketed to at most ~360 points up to 6
hours, the hourly roll-ups up to 14 days, the daily ones beyond, for the metrics that have
roll-ups (the others are bucketed from the raw samples, kept 90 days)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Level = Literal["stream", "consumer", "cluster"]
Aggregate = Literal["avg", "max", "min", "sum", "last"]
RAW_UP_TO = timedelta(hours=6)
HOURLY_UP_TO = timedelta(days=14)
MAX_POINTS = 360


@dataclass(frozen=True)
class Metric:
    level: Level
    column: str  # in the raw table
    hourly: str | None = None  # expression over the roll-up (already aggregated per hour/day)
    description: str = ""


CATALOGUE: dict[str, Metric] = {
    "messages_rate": Metric(
        "stream", "messages_rate", "avgMerge(avg_rate)", "messages in per second"
    ),
    "bytes_rate": Metric("stream", "bytes_rate", None, "bytes in per second"),
    "messages_out_rate": Metric(
        "stream",
        "messages_out_rate",
        None,
        "messages delivered by the stream's consumers per second",
    ),
    "messages": Metric("stream", "messages_total", "max(messages_sum)", "messages stored"),
    "bytes": Metric("stream", "bytes_total", "max(bytes_sum)", "bytes stored"),
    "messages_in": Metric(
        "stream", "messages_in", None, "messages stored since the previous sample"
    ),
    "mirror_lag": Metric("stream", "mirror_lag", None, "a mirror's lag behind its source"),
    "lag": Metric("consumer", "lag", "avgMerge(avg_lag)", "messages not yet processed"),
    "pending": Metric("consumer", "pending_count", None, "messages not yet delivered"),
    "ack_pending": Metric(
        "consumer", "ack_pending", "max(max_ack_pending)", "delivered, not acked"
    ),
    "ack_rate": Metric("consumer", "ack_rate", "avgMerge(avg_ack_rate)", "acks per second"),
    "delivered_rate": Metric("consumer", "delivered_rate", None, "deliveries per second"),
    "redelivered": Metric("consumer", "redelivered", None, "messages redelivered"),
    "lag_trend": Metric("consumer", "lag_trend", None, "change of lag per second"),
    "connections": Metric("cluster", "connections", None, "client connections (varz)"),
    "cpu_percent": Metric("cluster", "cpu_percent", None, "server CPU (varz)"),
    "memory_bytes": Metric("cluster", "memory_bytes", None, "server memory (varz)"),
    "slow_consumers": Metric("cluster", "slow_consumers", None, "slow consumers (varz)"),
    "reachable": Metric("cluster", "reachable", None, "1 when the collector reached the cluster"),
}
RAW_TABLES = {
    "stream": "stream_metrics",
    "consumer": "consumer_metrics",
    "cluster": "cluster_metrics",
}
ROLLUPS = {
    ("stream", "hour"): "stream_metrics_hourly",
    ("stream", "day"): "stream_metrics_daily",
    ("consumer", "hour"): "consumer_metrics_hourly",
    ("consumer", "day"): "consumer_metrics_daily",
}
GROUPS = {
    "stream": "stream_name",
    "consumer": "consumer_name",
    "cluster": "cluster_id",
    "server": "server_name",
}


class QueryError(ValueError):
    """A query that cannot be answered; ``field`` names what to change."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def resolution(since: datetime, until: datetime) -> tuple[str, int]:
    """("raw", bucket seconds) | ("hour", 3600) | ("day", 86400) for the range."""
    span = until - since
    if span <= RAW_UP_TO:
        step = max(1, int(span.total_seconds() // MAX_POINTS) or 1)
        for nice in (1, 5, 10, 15, 30, 60, 120, 300, 600):
            if nice >= step:
                return "raw", nice
        return "raw", 600
    if span <= HOURLY_UP_TO:
        return "hour", 3600
    return "day", 86400


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


@dataclass
class MetricQuery:
    metric: str
    clusters: list[uuid.UUID]  # what the caller may read, intersected with the filter
    since: datetime
    until: datetime
    stream: str | None = None
    consumer: str | None = None
    streams_prefixes: list[str] | None = None  # namespace prefixes the caller is limited to
    group_by: list[str] | None = None
    aggregate: Aggregate = "avg"
    resolution: str | None = None  # raw | hour | day to force one

    def sql(self) -> tuple[str, dict[str, Any], str, int]:
        """(SQL, parameters, resolution, bucket seconds)."""
        if self.metric not in CATALOGUE:
            raise QueryError(
                "metric", f"'{self.metric}' is not a metric; one of: {', '.join(sorted(CATALOGUE))}"
            )
        metric = CATALOGUE[self.metric]
        if self.until <= self.since:
            raise QueryError("until", "the range ends before it starts")
        level, step = resolution(self.since, self.until)
        if self.resolution in ("raw", "hour", "day"):
            level, step = (
                self.resolution,
                {"raw": step if level == "raw" else 3600, "hour": 3600, "day": 86400}[
                    self.resolution
                ],
            )
        groups = []
        for group in self.group_by or []:
            if group not in GROUPS:
                raise QueryError("group_by", f"'{group}' cannot group; one of: {', '.join(GROUPS)}")
            if (
                group in ("consumer",)
                and metric.level != "consumer"
                or group == "server"
                and metric.level != "cluster"
                or group == "stream"
                and metric.level == "cluster"
            ):
                raise QueryError(
                    "group_by",
                    f"{self.metric} is a {metric.level} metric: it cannot be grouped by {group}",
                )
            groups.append(GROUPS[group])
        if self.consumer and metric.level != "consumer":
            raise QueryError(
                "consumer", f"{self.metric} is a {metric.level} metric, not a consumer's"
            )
        if self.stream and metric.level == "cluster":
            raise QueryError("stream", f"{self.metric} is a cluster metric, not a stream's")

        rollup = ROLLUPS.get((metric.level, level)) if metric.hourly else None
        time_col = "timestamp"
        if rollup:
            table, time_col = rollup, ("hour" if level == "hour" else "day")
            value = metric.hourly
            bucket = time_col
        else:
            table = RAW_TABLES[metric.level]
            agg = {"avg": "avg", "max": "max", "min": "min", "sum": "sum", "last": "argMax"}[
                self.aggregate
            ]
            value = (
                f"argMax({metric.column}, timestamp)"
                if agg == "argMax"
                else f"{agg}({metric.column})"
            )
            bucket = f"toStartOfInterval(timestamp, INTERVAL {int(step)} SECOND)"
        params: dict[str, Any] = {
            "clusters": [str(c) for c in self.clusters],
            "since": _naive(self.since),
            "until": _naive(self.until),
        }
        since_expr = "{since:DateTime64(3)}"
        until_expr = "{until:DateTime64(3)}"
        if time_col == "day":
            since_expr, until_expr = (
                "toDate({since:DateTime64(3)})",
                "toDate({until:DateTime64(3)})",
            )
        elif time_col == "hour":
            since_expr = "toStartOfHour({since:DateTime64(3)})"
        where = [
            "cluster_id IN {clusters:Array(UUID)}",
            f"{time_col} >= {since_expr}",
            f"{time_col} <= {until_expr}",
        ]
        if self.stream:
            where.append("stream_name = {stream:String}")
            params["stream"] = self.stream
        if self.consumer:
            where.append("consumer_name = {consumer:String}")
            params["consumer"] = self.consumer
        if self.streams_prefixes is not None and metric.level != "cluster":
            if not self.streams_prefixes:
                where.append("0")
            else:
                where.append(
                    "("
                    + " OR ".join(
                        f"startsWith(stream_name, {{p{i}:String}})"
                        for i in range(len(self.streams_prefixes))
                    )
                    + ")"
                )
                params.update({f"p{i}": p for i, p in enumerate(self.streams_prefixes)})
        select = [f"{bucket} AS t", *groups, f"{value} AS value"]
        group = ", ".join(["t", *groups])
        sql = (
            f"SELECT {', '.join(select)} FROM {table} WHERE {' AND '.join(where)} "
            f"GROUP BY {group} ORDER BY {group} LIMIT 100000"
        )
        return sql, params, level, step

"""The ClickHouse reads behind each kind: the raw samples of one rule's metric over its window
(``stream_metrics``, ``consumer_metrics``, ``cluster_metrics``), and the same hour of day's average
in-rate over the previous 7 days (``stream_metrics_hourly``). Every read is scoped to the rule's
organization and cluster. Synchronous (the ClickHouse client is): call them in a thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.alerts.measure import Point
from core.alerts.rules import Rule
from core.analytics.store import AnalyticsStore

HISTORY_DAYS = 7


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def _params(rule: Rule, now: datetime, for_s: float, grace_s: float) -> dict[str, Any]:
    return {
        "org": str(rule.org_id),
        "cluster": str(rule.cluster_id),
        "stream": rule.stream or "",
        "consumer": rule.consumer or "",
        "lo": _naive(now - timedelta(seconds=for_s + grace_s)),
        "hi": _naive(now),
    }


_WHERE = (
    "org_id = {org:UUID} AND cluster_id = {cluster:UUID} "
    "AND timestamp >= {lo:DateTime64(3)} AND timestamp <= {hi:DateTime64(3)}"
)


def _points(store: AnalyticsStore, sql: str, params: dict[str, Any]) -> list[Point]:
    return [Point(_utc(ts), float(v)) for ts, v in store.query(sql, params) if v is not None]


def consumer_series(
    store: AnalyticsStore, rule: Rule, now: datetime, grace_s: float, column: str = "lag"
) -> list[Point]:
    return _points(
        store,
        f"SELECT timestamp, {column} FROM consumer_metrics WHERE {_WHERE} "
        "AND stream_name = {stream:String} AND consumer_name = {consumer:String} "
        "ORDER BY timestamp",
        _params(rule, now, rule.for_s, grace_s),
    )


def stream_series(
    store: AnalyticsStore,
    rule: Rule,
    now: datetime,
    grace_s: float,
    expression: str,
    extra: str = "",
) -> list[Point]:
    return _points(
        store,
        f"SELECT timestamp, {expression} FROM stream_metrics WHERE {_WHERE} "
        f"AND stream_name = {{stream:String}} {extra} ORDER BY timestamp",
        _params(rule, now, rule.for_s, grace_s),
    )


def storage_series(store: AnalyticsStore, rule: Rule, now: datetime, grace_s: float) -> list[Point]:
    return stream_series(
        store, rule, now, grace_s, "bytes_total * 100.0 / max_bytes", "AND max_bytes > 0"
    )


def mirror_active_ms(
    store: AnalyticsStore, rule: Rule, now: datetime, grace_s: float
) -> tuple[float | None, str]:
    """The newest sample's time since the mirror heard its source, and the server's error."""
    rows = store.query(
        f"SELECT mirror_active_ms, mirror_error FROM stream_metrics WHERE {_WHERE} "
        "AND stream_name = {stream:String} ORDER BY timestamp DESC LIMIT 1",
        _params(rule, now, 0, grace_s),
    )
    return (rows[0][0], rows[0][1]) if rows else (None, "")


def reachable_series(
    store: AnalyticsStore, rule: Rule, now: datetime, grace_s: float
) -> list[Point]:
    """One point per cluster sample: 1 when it was reachable (any of its server rows)."""
    return _points(
        store,
        f"SELECT timestamp, max(reachable) FROM cluster_metrics WHERE {_WHERE} "
        "GROUP BY timestamp ORDER BY timestamp",
        _params(rule, now, rule.for_s, grace_s),
    )


def same_hour_baseline(store: AnalyticsStore, rule: Rule, now: datetime) -> float | None:
    """The average in-rate (messages/s) of the stream in this hour of day over the previous
    ``HISTORY_DAYS`` days; None without any sample then."""
    hour = _naive(now).replace(minute=0, second=0, microsecond=0)
    hours = [hour - timedelta(days=d) for d in range(1, HISTORY_DAYS + 1)]
    rows = store.query(
        "SELECT avgMerge(avg_rate), sum(sample_count) FROM stream_metrics_hourly "
        "WHERE cluster_id = {cluster:UUID} AND stream_name = {stream:String} "
        "AND hour IN {hours:Array(DateTime)}",
        {"cluster": str(rule.cluster_id), "stream": rule.stream or "", "hours": hours},
    )
    if not rows or not rows[0][1]:
        return None
    return float(rows[0][0])

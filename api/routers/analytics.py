"""Metrics history (ClickHouse, from the collectors' samples): any metric of the catalogue over a
range, stream throughput and consumer latency, consumer lag, the overview of the organization's
clusters, and structured queries. Every answer is limited to what the caller may read."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from api.analytics_schemas import AnalyticsQuery, QueryFilters, window
from api.analytics_scope import metrics_scope, read_metrics
from api.deps import Principal, Svc
from api.errors import ProblemError
from core.analytics import overview as overview_rows
from core.analytics.metrics_query import CATALOGUE, MetricQuery, QueryError

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Range = Query("1h", description="the last N minutes, hours or days: '15m', '24h', '7d'")


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def run_query(request: Request, svc: Svc, principal: Principal, q: AnalyticsQuery) -> dict:
    try:
        since, until = window(q.range, q.since, q.until)
    except ValueError as exc:
        raise ProblemError(
            422, f"Invalid input: range: {exc}", errors=[{"field": "range", "message": str(exc)}]
        ) from exc
    scope = await metrics_scope(request, principal, q.filters.cluster_id)
    clusters = list(scope.clusters)
    stream = q.filters.stream
    prefixes = scope.prefixes_for(clusters)
    query = MetricQuery(
        metric=q.metric,
        clusters=clusters,
        since=since,
        until=until,
        stream=stream,
        consumer=q.filters.consumer,
        streams_prefixes=prefixes,
        group_by=list(q.group_by),
        aggregate=q.aggregate,
        resolution=q.resolution,
    )
    try:
        sql, params, level, step = query.sql()
    except QueryError as exc:
        raise ProblemError(
            422,
            f"Invalid input: {exc.field}: {exc}",
            errors=[{"field": exc.field, "message": str(exc)}],
        ) from exc
    rows = await asyncio.to_thread(svc.analytics.query, sql, params) if clusters else []
    series: dict[tuple, list] = {}
    names = list(q.group_by)
    for row in rows:
        key = tuple(str(v) for v in row[1:-1])
        value = row[-1]
        series.setdefault(key, []).append({"t": _utc(row[0]), "value": value})
    return {
        "metric": q.metric,
        "unit": CATALOGUE[q.metric].description,
        "level": CATALOGUE[q.metric].level,
        "resolution": level,
        "step_seconds": step,
        "since": since,
        "until": until,
        "series": [
            {"group": dict(zip(names, key, strict=False)), "points": points}
            for key, points in sorted(series.items())
        ],
    }


@router.get("/metrics")
async def metrics(
    request: Request,
    svc: Svc,
    metric: str = Query(..., description="e.g. messages_rate, lag, ack_rate"),
    cluster_id: uuid.UUID | None = None,
    stream: str | None = Query(None, max_length=255, pattern=r"^[^.*>\s]+$"),
    consumer: str | None = Query(None, max_length=255, pattern=r"^[^.*>\s]+$"),
    range: str | None = Range,
    since: datetime | None = None,
    until: datetime | None = None,
    aggregate: Literal["avg", "max", "min", "sum", "last"] = "avg",
    group_by: list[Literal["stream", "consumer", "cluster", "server"]] = Query([]),
    principal: Principal = Depends(read_metrics()),
) -> dict:
    """One metric over a range; the resolution follows the range."""
    q = _query(
        metric=metric,
        filters=QueryFilters(cluster_id=cluster_id, stream=stream, consumer=consumer),
        range=range,
        since=since,
        until=until,
        aggregate=aggregate,
        group_by=group_by,
    )
    return await run_query(request, svc, principal, q)


def _query(**fields: Any) -> AnalyticsQuery:
    try:
        return AnalyticsQuery(**fields)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [])()
        field = str(errors[0]["loc"][-1]) if errors and errors[0].get("loc") else "query"
        message = errors[0]["msg"].removeprefix("Value error, ") if errors else str(exc)
        raise ProblemError(
            422, f"Invalid input: {field}: {message}", errors=[{"field": field, "message": message}]
        ) from exc


@router.post("/query")
async def query(
    request: Request, svc: Svc, body: AnalyticsQuery, principal: Principal = Depends(read_metrics())
) -> dict:
    """A structured query (metric, filters, group by, range): never SQL."""
    return await run_query(request, svc, principal, body)


@router.get("/streams/{name}/throughput")
async def stream_throughput(
    request: Request,
    svc: Svc,
    name: str,
    cluster_id: uuid.UUID,
    range: str | None = Range,
    since: datetime | None = None,
    until: datetime | None = None,
    aggregate: Literal["avg", "max", "min", "last"] = "avg",
    principal: Principal = Depends(read_metrics()),
) -> dict:
    """Messages and bytes in, and messages out (delivered), per second."""
    return {
        "stream": name,
        "cluster_id": cluster_id,
        **await _side_by_side(
            request,
            svc,
            principal,
            ("messages_rate", "bytes_rate", "messages_out_rate"),
            QueryFilters(cluster_id=cluster_id, stream=name),
            range=range,
            since=since,
            until=until,
            aggregate=aggregate,
        ),
    }


async def _side_by_side(
    request: Request,
    svc: Svc,
    principal: Principal,
    metrics: tuple[str, ...],
    filters: QueryFilters,
    **fields: Any,
) -> dict[str, Any]:
    """Several metrics of one thing over the same range: each metric's points by its name."""
    out: dict[str, Any] = {}
    for metric in metrics:
        result = await run_query(
            request, svc, principal, _query(metric=metric, filters=filters, **fields)
        )
        out.update(
            resolution=result["resolution"],
            step_seconds=result["step_seconds"],
            since=result["since"],
            until=result["until"],
        )
        out[metric] = result["series"][0]["points"] if result["series"] else []
    return out


@router.get("/streams/{name}/latency")
async def stream_latency(
    request: Request,
    svc: Svc,
    name: str,
    cluster_id: uuid.UUID,
    principal: Principal = Depends(read_metrics()),
) -> dict:
    """How far behind each consumer of the stream is, in time: its lag over its ack rate
    (None when it acknowledges nothing)."""
    scope = await metrics_scope(request, principal, cluster_id)
    rows = await asyncio.to_thread(
        svc.analytics.query,
        *overview_rows.latest_consumers([cluster_id], name, scope.prefixes_for([cluster_id])),
    )
    return {
        "stream": name,
        "cluster_id": cluster_id,
        "consumers": [
            {**r, "estimated_delay_s": (r["lag"] / r["ack_rate"]) if r["ack_rate"] else None}
            for r in map(overview_rows.consumer_record, rows)
        ],
    }


@router.get("/consumers/{name}/lag")
async def consumer_lag(
    request: Request,
    svc: Svc,
    name: str,
    cluster_id: uuid.UUID,
    stream: str = Query(..., max_length=255, pattern=r"^[^.*>\s]+$"),
    range: str | None = Range,
    since: datetime | None = None,
    until: datetime | None = None,
    aggregate: Literal["avg", "max", "min", "last"] = "avg",
    principal: Principal = Depends(read_metrics()),
) -> dict:
    """The consumer's lag, with its acknowledgement rate, over the range (each bucket's
    ``aggregate`` of the samples in it)."""
    return {
        "consumer": name,
        "stream": stream,
        "cluster_id": cluster_id,
        **await _side_by_side(
            request,
            svc,
            principal,
            ("lag", "ack_rate", "ack_pending"),
            QueryFilters(cluster_id=cluster_id, stream=stream, consumer=name),
            range=range,
            since=since,
            until=until,
            aggregate=aggregate,
        ),
    }


@router.get("/cluster/overview")
async def cluster_overview(
    request: Request,
    svc: Svc,
    cluster_id: uuid.UUID | None = None,
    range: str | None = Range,
    principal: Principal = Depends(read_metrics()),
) -> dict:
    """The overview page's figures: clusters and their reachability, streams, consumers and
    rates from the latest samples, top streams by rate, consumers by lag, the throughput series."""
    scope = await metrics_scope(request, principal, cluster_id)
    ids = list(scope.clusters)
    prefixes = scope.prefixes_for(ids)
    recent = datetime.now(UTC) - timedelta(minutes=2)
    store = svc.analytics
    clusters = (
        await asyncio.to_thread(store.query, *overview_rows.latest_clusters(ids, recent))
        if ids
        else []
    )
    streams = (
        await asyncio.to_thread(store.query, *overview_rows.latest_streams(ids, recent, prefixes))
        if ids
        else []
    )
    consumers = (
        await asyncio.to_thread(
            store.query, *overview_rows.latest_consumers(ids, None, prefixes, recent)
        )
        if ids
        else []
    )
    throughput = await run_query(
        request,
        svc,
        principal,
        _query(
            metric="messages_rate",
            filters=QueryFilters(cluster_id=cluster_id),
            range=range,
            aggregate="sum",
        ),
    )
    return overview_rows.overview(scope.clusters, clusters, streams, consumers, throughput)

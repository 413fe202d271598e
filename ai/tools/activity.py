"""Read-only tools over what happens around the clusters: metrics history, alerts, recent audit
events and operations, replication, quotas and approval requests. Same rules as ``reads``: the
console's API as the caller, results masked and wrapped as untrusted data."""

from __future__ import annotations

from typing import Any

from ai.tools.base import (
    CLUSTER_ID,
    CONSUMER,
    STREAM,
    Tool,
    ToolContext,
    ToolInputError,
    ToolOutcome,
    bounded,
    cluster_of,
    data,
    get,
    schema,
    text,
)

METRICS = (
    "messages_rate",
    "bytes_rate",
    "messages_out_rate",
    "messages",
    "bytes",
    "mirror_lag",
    "lag",
    "pending",
    "ack_pending",
    "ack_rate",
    "delivered_rate",
    "redelivered",
    "lag_trend",
    "connections",
    "slow_consumers",
    "reachable",
)
RANGE = {"type": "string", "description": "the last N minutes, hours or days: '15m', '6h', '7d'"}


def _items(reply: Any, key: str = "items") -> list[dict[str, Any]]:
    return list(reply.get(key, [])) if isinstance(reply, dict) else list(reply or [])


async def metric_history(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    metric = given.get("metric")
    if metric not in METRICS:
        raise ToolInputError(f"'metric' must be one of {', '.join(METRICS)}")
    cid = cluster_of(ctx, given, required=False)
    stream = text(given.get("stream"), "stream")
    consumer = text(given.get("consumer"), "consumer")
    reply = await get(
        ctx,
        "/api/v1/analytics/metrics",
        metric=metric,
        cluster_id=cid,
        stream=stream,
        consumer=consumer,
        range=text(given.get("range"), "range", limit=8) or "1h",
        aggregate=given.get("aggregate")
        if given.get("aggregate") in ("avg", "max", "min", "sum", "last")
        else None,
    )
    series = reply.get("series", reply.get("points", []))
    return data(
        f"metric {metric}",
        reply,
        f"{metric} history ({reply.get('resolution', '?')} resolution, "
        f"{len(series)} series/point(s))",
    )


async def alerts(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    status = given.get("status") if given.get("status") in ("firing", "resolved") else None
    events = _items(
        await get(
            ctx,
            "/api/v1/alerts/events",
            status=status,
            cluster_id=cluster_of(ctx, given, required=False),
            limit=bounded(given.get("limit"), "limit", 20, 1, 100),
        )
    )
    firing = sum(1 for e in events if e.get("status") == "firing")
    return data("alert events", events, f"{len(events)} alert event(s), {firing} firing")


async def recent_activity(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    reply = await get(
        ctx,
        "/api/v1/audit/logs",
        cluster_id=cluster_of(ctx, given, required=False),
        resource_name=text(given.get("resource_name"), "resource_name"),
        action=text(given.get("action"), "action", limit=100),
        limit=bounded(given.get("limit"), "limit", 20, 1, 100),
    )
    events = [
        {
            k: e.get(k)
            for k in (
                "timestamp",
                "user_email",
                "action",
                "resource_type",
                "resource_name",
                "status",
                "error_message",
                "changes",
            )
        }
        for e in _items(reply)
    ]
    return data("audit events", events, f"{len(events)} recent audit event(s)")


async def operations(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    status = given.get("status")
    reply = await get(
        ctx,
        "/api/v1/operations",
        type=text(given.get("type"), "type", limit=64),
        status=status if isinstance(status, str) else None,
        cluster_id=cluster_of(ctx, given, required=False),
        limit=bounded(given.get("limit"), "limit", 20, 1, 100),
    )
    items = _items(reply)
    return data("operations", items, f"{len(items)} operation(s)")


async def replication(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    mirrors = _items(await get(ctx, "/api/v1/mirrors"))
    pairs = _items(await get(ctx, "/api/v1/dr/pairs"))
    return data(
        "replication",
        {"mirrors": mirrors, "dr_pairs": pairs},
        f"{len(mirrors)} mirror(s), {len(pairs)} DR pair(s)",
    )


async def quotas(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    teams = _items(await get(ctx, "/api/v1/teams"))
    wanted = given.get("team")
    if wanted:
        teams = [t for t in teams if wanted in (t.get("id"), t.get("name"))]
    rows = []
    for team in teams[:20]:
        rows.append(
            {
                "team": team.get("name"),
                "team_id": team.get("id"),
                **await get(ctx, f"/api/v1/teams/{team['id']}/quotas"),
            }
        )
    return data("team quotas", rows, f"quotas of {len(rows)} team(s)")


async def approval_requests(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    status = given.get("status")
    items = _items(
        await get(ctx, "/api/v1/approvals", status=status if isinstance(status, str) else None)
    )
    limit = bounded(given.get("limit"), "limit", 20, 1, 100)
    rows = [
        {
            k: r.get(k)
            for k in (
                "id",
                "title",
                "status",
                "kind",
                "operation",
                "environment",
                "requester_email",
                "created_at",
                "risk_notes",
            )
        }
        for r in items[:limit]
    ]
    return data("approval requests", rows, f"{len(items)} approval request(s)")


def tools() -> list[Tool]:
    limit = {"type": "integer", "minimum": 1, "maximum": 100}
    return [
        Tool(
            "metric_history",
            "The collected history of one metric (rates, lag, ack rate, "
            "storage, mirror lag, server figures) over a range, optionally for one cluster, "
            "stream or consumer.",
            schema(
                ["metric"],
                metric={"type": "string", "enum": list(METRICS)},
                cluster_id=CLUSTER_ID,
                stream=STREAM,
                consumer=CONSUMER,
                range=RANGE,
                aggregate={"type": "string", "enum": ["avg", "max", "min", "sum", "last"]},
            ),
            metric_history,
        ),
        Tool(
            "alerts",
            "Alert events (firing or resolved) with their rule, value and links.",
            schema(
                status={"type": "string", "enum": ["firing", "resolved"]},
                cluster_id=CLUSTER_ID,
                limit=limit,
            ),
            alerts,
        ),
        Tool(
            "recent_activity",
            "Recent audit events (who changed what, when, with what "
            "outcome), newest first; needs the audit-read permission.",
            schema(
                cluster_id=CLUSTER_ID,
                resource_name={"type": "string"},
                action={"type": "string", "description": "e.g. stream.update"},
                limit=limit,
            ),
            recent_activity,
        ),
        Tool(
            "operations",
            "Long-running operations (replays, mirrors, failovers, approvals, "
            "backups, syncs) with status and progress.",
            schema(
                type={"type": "string"},
                status={"type": "string"},
                cluster_id=CLUSTER_ID,
                limit=limit,
            ),
            operations,
        ),
        Tool(
            "replication",
            "Mirrors and disaster-recovery pairs with their state.",
            schema(),
            replication,
        ),
        Tool(
            "quotas",
            "Team quotas with their usage.",
            schema(team={"type": "string", "description": "a team's id or name"}),
            quotas,
        ),
        Tool(
            "approval_requests",
            "Change requests and their status (waiting_approval, approved, rejected, ...).",
            schema(status={"type": "string"}, limit=limit),
            approval_requests,
        ),
    ]

"""Alert events as ``alert_events`` rows (ClickHouse), and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from core.alerts.events import AlertEvent

COLUMNS = [
    "id",
    "org_id",
    "alert_rule_id",
    "cluster_id",
    "timestamp",
    "severity",
    "status",
    "metric_value",
    "threshold_value",
    "message",
    "notified_at",
    "resolved_at",
    "rule_name",
    "kind",
    "stream_name",
    "consumer_name",
    "transition",
    "notify",
    "acknowledged_by",
    "acknowledged_at",
    "body",
]
NIL_CLUSTER = "00000000-0000-0000-0000-000000000000"


def _naive(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return (ts.astimezone(UTC) if ts.tzinfo else ts).replace(tzinfo=None)


def row(e: AlertEvent) -> list[Any]:
    ts = _naive(e.timestamp)
    return [
        e.id,
        e.org_id,
        e.rule_id,
        e.cluster_id or NIL_CLUSTER,
        ts,
        e.severity,
        e.status,
        float(e.value) if e.value is not None else float("nan"),
        e.threshold,
        e.message,
        ts if e.notify else None,
        ts if e.status == "resolved" else None,
        e.rule_name,
        e.kind,
        e.stream or "",
        e.consumer or "",
        e.transition,
        int(e.notify),
        e.acknowledged_by,
        _naive(e.acknowledged_at),
        json.dumps(e.body(), separators=(",", ":")),
    ]


def from_body(body: str) -> AlertEvent:
    return AlertEvent.model_validate_json(body)

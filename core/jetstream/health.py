"""Consumer health per the source design's table (advanced design §2.1): each component scored
healthy (100), warning (60) or critical (20), weighted, and the overall status from the score.

Processing rate is the consumer's latest acknowledgement rate over its average of the last hour,
from the collector's samples (the API computes it from ClickHouse); without two samples yet it is
reported as not measured and its weight is shared among the measured components.
"""

from __future__ import annotations

from typing import Any

SCORES = {"healthy": 100, "warning": 60, "critical": 20}
WEIGHTS = {"lag": 30, "processing_rate": 25, "ack_pending": 20, "redelivery": 15, "connection": 10}


def _band(value: float, warning_from: float, critical_above: float) -> str:
    if value > critical_above:
        return "critical"
    return "warning" if value >= warning_from else "healthy"


def consumer_health(info: dict[str, Any], rate_ratio: float | None = None) -> dict[str, Any]:
    """``info`` is JetStream's CONSUMER.INFO; ``rate_ratio`` the current processing rate over its
    average (None: not measured)."""
    config = info.get("config", {})
    lag = int(info.get("num_pending", 0))
    ack_pending = int(info.get("num_ack_pending", 0))
    max_ack_pending = int(config.get("max_ack_pending") or 0)
    delivered = int((info.get("delivered") or {}).get("consumer_seq", 0))
    redelivered = int(info.get("num_redelivered", 0))
    consuming = bool(info.get("push_bound")) or int(info.get("num_waiting", 0)) > 0

    parts: list[dict[str, Any]] = [
        {"name": "lag", "value": lag, "status": _band(lag, 1000, 10_000)},
        {
            "name": "processing_rate",
            "value": rate_ratio,
            "status": None
            if rate_ratio is None
            else (
                "healthy" if rate_ratio > 0.9 else "warning" if rate_ratio >= 0.5 else "critical"
            ),
        },
    ]
    ack_ratio = ack_pending / max_ack_pending if max_ack_pending > 0 else 0.0
    parts.append(
        {
            "name": "ack_pending",
            "value": ack_pending,
            "ratio": round(ack_ratio, 4),
            "status": _band(ack_ratio, 0.5, 0.8),
        }
    )
    redelivery = redelivered / delivered if delivered else 0.0
    parts.append(
        {
            "name": "redelivery",
            "value": redelivered,
            "ratio": round(redelivery, 4),
            "status": _band(redelivery, 0.01, 0.05),
        }
    )
    if consuming:
        connection = "healthy"
    else:  # nobody pulls or is bound: fine while there is nothing to do
        connection = "critical" if lag > 0 or ack_pending > 0 else "healthy"
    parts.append(
        {
            "name": "connection",
            "value": "active" if consuming else "no client",
            "status": connection,
        }
    )

    measured = [p for p in parts if p["status"] is not None]
    weight = sum(WEIGHTS[p["name"]] for p in measured)
    score = round(sum(SCORES[p["status"]] * WEIGHTS[p["name"]] for p in measured) / weight)
    for part in parts:
        part["weight"] = WEIGHTS[part["name"]]
        part["score"] = SCORES.get(part["status"]) if part["status"] else None
    status = "healthy" if score >= 80 else "warning" if score >= 50 else "critical"
    return {
        "score": score,
        "status": status,
        "paused": bool(info.get("paused")),
        "components": parts,
    }

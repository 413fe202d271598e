"""JetStream JSON for the analyzers' tables, shaped as nats-server 2.15 answers it (taken from a
real server's replies), with the fields a case changes given as keyword arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    """A JetStream timestamp ``seconds`` before NOW, with nanoseconds as the server writes it."""
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def stream(
    name: str = "ORDERS",
    subjects: list[str] | None = None,
    *,
    messages: int = 0,
    bytes_: int = 0,
    max_msgs: int = -1,
    max_bytes: int = -1,
    discard: str = "old",
    last_ts: str | None = None,
    created: str | None = None,
    num_subjects: int = 1,
    **config: Any,
) -> dict[str, Any]:
    return {
        "config": {
            "name": name,
            "subjects": ["orders.>"] if subjects is None else subjects,
            "retention": "limits",
            "max_consumers": -1,
            "max_msgs": max_msgs,
            "max_bytes": max_bytes,
            "max_age": 0,
            "discard": discard,
            "storage": "file",
            "num_replicas": 1,
            **config,
        },
        "created": created or ago(7 * 86400),
        "state": {
            "messages": messages,
            "bytes": bytes_,
            "first_seq": 1 if messages else 0,
            "last_seq": messages,
            "last_ts": last_ts or ("0001-01-01T00:00:00Z" if not messages else ago(5)),
            "num_subjects": num_subjects if messages else 0,
            "consumer_count": 1,
        },
    }


def consumer(
    name: str = "billing",
    *,
    pending: int = 0,
    ack_pending: int = 0,
    redelivered: int = 0,
    delivered_seq: int = 0,
    last_ack: str | None = None,
    last_delivery: str | None = None,
    created: str | None = None,
    waiting: int = 0,
    **config: Any,
) -> dict[str, Any]:
    delivered: dict[str, Any] = {"consumer_seq": delivered_seq, "stream_seq": delivered_seq}
    acked: dict[str, Any] = {"consumer_seq": 0, "stream_seq": 0}
    if last_delivery:
        delivered["last_active"] = last_delivery
    if last_ack:
        acked["last_active"] = last_ack
    return {
        "stream_name": "ORDERS",
        "name": name,
        "created": created or ago(86400),
        "config": {
            "durable_name": name,
            "name": name,
            "deliver_policy": "all",
            "ack_policy": "explicit",
            "ack_wait": 30_000_000_000,
            "max_deliver": -1,
            "replay_policy": "instant",
            "max_waiting": 512,
            "max_ack_pending": 1000,
            **config,
        },
        "delivered": delivered,
        "ack_floor": acked,
        "num_ack_pending": ack_pending,
        "num_redelivered": redelivered,
        "num_waiting": waiting,
        "num_pending": pending,
    }


def history(*lags: float, step_s: int = 5, ack_rate: float = 0.0) -> dict[str, Any]:
    """What GET /api/v1/analytics/consumers/{name}/lag answers (points as JSON)."""
    start = NOW - timedelta(seconds=step_s * len(lags))
    times = [(start + timedelta(seconds=i * step_s)).isoformat() for i in range(len(lags))]
    return {
        "resolution": "raw",
        "step_seconds": step_s,
        "lag": [{"t": t, "value": v} for t, v in zip(times, lags, strict=False)],
        "ack_rate": [{"t": t, "value": ack_rate} for t in times],
        "ack_pending": [{"t": t, "value": 0} for t in times],
    }

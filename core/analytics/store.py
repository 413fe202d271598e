"""The ClickHouse client (clickhouse-connect; ``chdb://`` DSN for the embedded engine) and the
idempotent schema application."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import clickhouse_connect
from clickhouse_connect.driver.client import Client

SCHEMA = Path(__file__).with_name("schema.sql")
TABLES = (
    "stream_metrics",
    "consumer_metrics",
    "cluster_metrics",
    "message_samples",
    "audit_logs",
    "alert_events",
    "stream_metrics_hourly",
    "stream_metrics_daily",
    "consumer_metrics_hourly",
    "consumer_metrics_daily",
)


def schema_statements() -> list[str]:
    lines = [ln for ln in SCHEMA.read_text().splitlines() if not ln.strip().startswith("--")]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]


class AnalyticsStore:
    """One client per process. The client is synchronous (the only kind chdb offers); callers in
    async code run it in a thread, and a lock serialises use of the one connection."""

    def __init__(self, dsn: str):
        if dsn.startswith("chdb://"):
            Path(dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
        self.dsn = dsn
        self._client: Client = clickhouse_connect.get_client(dsn=dsn)
        self._lock = threading.Lock()

    def apply_schema(self) -> None:
        with self._lock:
            for statement in schema_statements():
                self._client.command(statement)

    def insert(self, table: str, rows: list[list[Any]], columns: list[str]) -> None:
        with self._lock:
            self._client.insert(table, rows, column_names=columns)

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            result = self._client.query(sql, parameters=parameters or {})
            # the driver's rows: a list of row sequences, read by position
            return cast("list[tuple[Any, ...]]", result.result_rows)

    def ping(self) -> bool:
        with self._lock:
            return self._client.command("SELECT 1") == 1

    def close(self) -> None:
        with self._lock:
            self._client.close()

"""Reading the audit trail: filters turned into a parameterised ClickHouse query, and rows turned
into JSON-ready records."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.audit import AUDIT_COLUMNS

# filter name -> (column, ClickHouse parameter type, comparison)
FILTERS = {
    "action": ("action", "String", "="),
    "resource_type": ("resource_type", "String", "="),
    "resource_name": ("resource_name", "String", "="),
    "user_email": ("user_email", "String", "="),
    "user_id": ("user_id", "UUID", "="),
    "cluster_id": ("cluster_id", "UUID", "="),
    "status": ("status", "String", "="),
    "since": ("timestamp", "DateTime64(3, 'UTC')", ">="),
    "until": ("timestamp", "DateTime64(3, 'UTC')", "<"),
}


@dataclass
class AuditFilter:
    org_id: uuid.UUID
    values: dict[str, Any]

    def _where(self) -> tuple[list[str], dict[str, Any]]:
        where = ["org_id = {org:UUID}"]
        params: dict[str, Any] = {"org": str(self.org_id)}
        for name, value in self.values.items():
            if value is None:
                continue
            column, kind, op = FILTERS[name]
            where.append(f"{column} {op} {{{name}:{kind}}}")
            params[name] = _param(value)
        return where, params

    def sql(
        self, limit: int, offset: int, after: tuple[datetime, str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A page, newest first: ``offset`` rows skipped, or (keyset) the rows that come after
        ``after`` = (timestamp, id) of the last row of the previous page, which stays exact
        while newer rows arrive."""
        where, params = self._where()
        params.update(limit=limit, offset=offset)
        if after is not None:
            where.append(
                "(timestamp < {after_ts:DateTime64(3, 'UTC')} OR "
                "(timestamp = {after_ts:DateTime64(3, 'UTC')} AND id > {after_id:UUID}))"
            )
            params.update(after_ts=_param(after[0]), after_id=str(after[1]))
        return (
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_logs FINAL "
            f"WHERE {' AND '.join(where)} ORDER BY timestamp DESC, id "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
        ), params

    def count_sql(self) -> tuple[str, dict[str, Any]]:
        where, params = self._where()
        return f"SELECT count() FROM audit_logs FINAL WHERE {' AND '.join(where)}", params


def _param(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def record(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(AUDIT_COLUMNS, row, strict=False))
    item["changes"] = json.loads(item["changes"] or "{}")
    if item["timestamp"].tzinfo is None:  # chdb returns naive datetimes; the column is UTC
        item["timestamp"] = item["timestamp"].replace(tzinfo=UTC)
    ip = item["ip_address"]
    item["ip_address"] = str(ip.ipv4_mapped or ip) if ip is not None else None
    return item

"""The audit trail of the caller's organization, newest first, read from ClickHouse."""

from __future__ import annotations

import asyncio
import json
from datetime import timezone
from typing import Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Principal, Svc, require
from core.audit import AUDIT_COLUMNS

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/logs")
async def audit_logs(
    svc: Svc,
    action: str | None = Query(None, max_length=100, description="e.g. stream.create"),
    resource_type: str | None = Query(None, max_length=100),
    status: Literal["success", "failure", "denied"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(require("audit_logs:read")),
) -> dict:
    where = ["org_id = {org:UUID}"]
    params: dict = {"org": str(principal.org_id), "limit": limit, "offset": offset}
    for name, value in (("action", action), ("resource_type", resource_type), ("status", status)):
        if value is not None:
            where.append(f"{name} = {{{name}:String}}")
            params[name] = value
    sql = (f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_logs FINAL WHERE {' AND '.join(where)} "
           "ORDER BY timestamp DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}")
    rows = await asyncio.to_thread(svc.analytics.query, sql, params)
    items = []
    for row in rows:
        item = dict(zip(AUDIT_COLUMNS, row))
        item["changes"] = json.loads(item["changes"] or "{}")
        if item["timestamp"].tzinfo is None:  # chdb returns naive datetimes; the column is UTC
            item["timestamp"] = item["timestamp"].replace(tzinfo=timezone.utc)
        ip = item["ip_address"]
        item["ip_address"] = str(ip.ipv4_mapped or ip) if ip is not None else None
        items.append(item)
    return {"items": items, "limit": limit, "offset": offset}

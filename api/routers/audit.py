"""The audit trail of the caller's organization, newest first, read from ClickHouse: filtered and
paged, or exported whole as CSV or JSON lines (streamed page by page)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.deps import Principal, Svc, require
from api.errors import ProblemError
from core.analytics.audit_query import AuditFilter, record
from core.audit import AUDIT_COLUMNS

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
EXPORT_PAGE = 1000
# What ClickHouse's DateTime64(3) holds.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2261, 12, 31, tzinfo=timezone.utc)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def audit_filter(
    action: str | None = Query(None, max_length=100, description="e.g. stream.create"),
    resource_type: str | None = Query(None, max_length=100),
    resource_name: str | None = Query(None, max_length=255),
    user_email: str | None = Query(None, max_length=320),
    user_id: uuid.UUID | None = None,
    cluster_id: uuid.UUID | None = None,
    status: Literal["success", "failure", "denied"] | None = None,
    since: datetime | None = Query(None, description="from this time (inclusive)"),
    until: datetime | None = Query(None, description="up to this time (exclusive)"),
    principal: Principal = Depends(require("audit_logs:read")),
) -> AuditFilter:
    for field, value in (("since", since), ("until", until)):
        if value is not None and not (EARLIEST <= _utc(value) <= LATEST):
            raise ProblemError(422, f"Invalid input: {field}: must be between 1970 and 2261",
                               errors=[{"field": field, "message": "must be between 1970 and 2261"}])
    return AuditFilter(principal.org_id, {
        "action": action, "resource_type": resource_type, "resource_name": resource_name,
        "user_email": user_email, "user_id": user_id, "cluster_id": cluster_id, "status": status,
        "since": since, "until": until})


async def _page(svc: Svc, where: AuditFilter, limit: int, offset: int) -> list[dict]:
    sql, params = where.sql(limit, offset)
    return [record(row) for row in await asyncio.to_thread(svc.analytics.query, sql, params)]


@router.get("/logs")
async def audit_logs(svc: Svc, where: AuditFilter = Depends(audit_filter),
                     limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000)) -> dict:
    items = await _page(svc, where, limit, offset)
    return {"items": items, "limit": limit, "offset": offset,
            "next_offset": offset + limit if len(items) == limit else None}


@router.get("/logs/export", response_class=StreamingResponse, responses={200: {"content": {
    "application/x-ndjson": {}, "text/csv": {}}, "description": "the audit records, streamed"}})
async def export_audit_logs(svc: Svc, where: AuditFilter = Depends(audit_filter),
                            format: Literal["csv", "jsonl"] = "jsonl") -> StreamingResponse:
    async def rows() -> AsyncIterator[dict]:
        offset = 0
        while True:
            page = await _page(svc, where, EXPORT_PAGE, offset)
            for item in page:
                yield item
            if len(page) < EXPORT_PAGE:
                return
            offset += EXPORT_PAGE

    async def jsonl() -> AsyncIterator[bytes]:
        async for item in rows():
            yield (json.dumps(item, default=str) + "\n").encode()

    async def as_csv() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=AUDIT_COLUMNS)
        writer.writeheader()
        async for item in rows():
            writer.writerow({**item, "changes": json.dumps(item["changes"], default=str)})
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(as_csv() if format == "csv" else jsonl(), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="audit.{format}"'})

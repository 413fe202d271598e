"""The audit trail of the caller's organization, newest first, read from ClickHouse: filtered and
paged, or exported whole as CSV or JSON lines (streamed page by page; a large export runs as an
operation: ``api.export_start``)."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import Db, Principal, Svc, require
from api.errors import ProblemError, problem_responses
from api.export_start import STARTED, start_export
from core.analytics.audit_query import AuditFilter, record
from core.exports.formats import AUDIT_MEDIA, AuditLines
from core.exports.models import AuditExport, AuditFilters

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
EXPORT_PAGE = 1000
# What ClickHouse's DateTime64(3) holds.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2261, 12, 31, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
            raise ProblemError(
                422,
                f"Invalid input: {field}: must be between 1970 and 2261",
                errors=[{"field": field, "message": "must be between 1970 and 2261"}],
            )
    return AuditFilter(
        principal.org_id,
        {
            "action": action,
            "resource_type": resource_type,
            "resource_name": resource_name,
            "user_email": user_email,
            "user_id": user_id,
            "cluster_id": cluster_id,
            "status": status,
            "since": since,
            "until": until,
        },
    )


async def _page(svc: Svc, where: AuditFilter, limit: int, offset: int) -> list[dict]:
    sql, params = where.sql(limit, offset)
    return [record(row) for row in await asyncio.to_thread(svc.analytics.query, sql, params)]


@router.get("/logs")
async def audit_logs(
    svc: Svc,
    where: AuditFilter = Depends(audit_filter),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict:
    items = await _page(svc, where, limit, offset)
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) == limit else None,
    }


@router.get(
    "/logs/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}, "text/csv": {}},
            "description": "the audit rows, newest first, streamed",
        },
        **STARTED,
        **problem_responses(
            **{
                "403": "Your role does not allow reading the audit log.",
                "422": "Invalid input (a filter, a time out of range).",
                "429": "Too many requests (Retry-After).",
                "503": "The audit store cannot be reached.",
            }
        ),
    },
)
async def export_audit_logs(
    request: Request,
    db: Db,
    svc: Svc,
    where: AuditFilter = Depends(audit_filter),
    format: Literal["csv", "jsonl"] = "jsonl",
    as_operation: bool = Query(
        False, description="run the export as an operation (202) whatever its size"
    ),
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("audit_logs:read")),
) -> Response:
    """The rows the filters select, newest first, streamed page by page. Over
    ``JSC_EXPORT_INLINE_MAX_ROWS`` rows (or ``as_operation=true``) the export runs as an
    operation instead: ``202 {id, workflow_id, status}``, its file at
    ``/api/v1/operations/{id}/download``; it holds the rows stored before it was asked."""
    if as_operation or await _count(svc, where) > svc.settings.export_inline_max_rows:
        moment = datetime.now(UTC)
        until = where.values.get("until")
        values = {**where.values, "until": min(_utc(until), moment) if until else moment}
        export = AuditExport(
            format=format,
            filters=AuditFilters(**values),
            estimated=await _count(svc, AuditFilter(where.org_id, values)),
        )
        return await start_export(
            request, db, svc, principal, export, cluster_id=None, idempotency_key=idempotency_key
        )
    await db.close()

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
        out = AuditLines("jsonl")
        async for item in rows():
            yield out.line(item).encode()

    async def as_csv() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        out = AuditLines("csv")
        buffer.write(out.header())
        async for item in rows():
            buffer.write(out.line(item))
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(
        as_csv() if format == "csv" else jsonl(),
        media_type=AUDIT_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )


async def _count(svc: Svc, where: AuditFilter) -> int:
    sql, params = where.count_sql()
    rows = await asyncio.to_thread(svc.analytics.query, sql, params)
    return int(rows[0][0]) if rows else 0

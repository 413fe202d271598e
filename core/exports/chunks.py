"""Writing one chunk of an export. A chunk is a pure function of its input (the job, its number,
where it starts) and of data that does not change under it (stored messages by sequence, audit
rows before the export's moment), so a retried chunk writes the same bytes under the same key.

A message chunk ends after ``chunk_records`` messages, or once it holds ``CHUNK_BYTES``; an audit
chunk after ``chunk_records`` rows (newest first, continuing after the previous chunk's last row).
The first chunk of a CSV file starts with its header."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from core.analytics.audit_query import AuditFilter, record
from core.exports.formats import AuditLines, MessageLines
from core.exports.models import AuditCursor, AuditExport, ExportChunk, MessageExport
from core.jetstream.messages import StreamReader

CHUNK_BYTES = 8 * 1024 * 1024
HEARTBEAT_EVERY = 500


class ChunkBody:
    """What a chunk holds, before it is stored."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.records = 0
        self.size = 0
        self.exhausted = False

    def add(self, text: str, record: bool = True) -> None:
        self.parts.append(text)
        self.size += len(text)
        self.records += int(record)

    def data(self) -> bytes:
        return "".join(self.parts).encode()


async def message_chunk(
    reader: StreamReader, chunk: ExportChunk, beat: Callable[[int], None] = lambda done: None
) -> tuple[ChunkBody, int]:
    """The chunk's messages from ``chunk.next_seq`` on, and the sequence the next chunk starts
    at."""
    export: MessageExport = chunk.job.request  # type: ignore[assignment]
    lines, body = MessageLines(export.format), ChunkBody()
    if chunk.n == 0:
        body.add(lines.header(), record=False)
    next_seq = chunk.next_seq or export.first_seq
    async with aclosing(reader.scan(next_seq, export.subject, stop_seq=export.last_seq)) as found:
        async for msg in found:
            if export.until is not None and msg.timestamp > export.until:
                body.exhausted = True
                break
            body.add(lines.line(msg))
            next_seq = msg.seq + 1
            if body.records % HEARTBEAT_EVERY == 0:
                beat(body.records)
            if body.records >= chunk.job.chunk_records or body.size >= CHUNK_BYTES:
                break
        else:
            body.exhausted = True
    body.exhausted = body.exhausted or next_seq > export.last_seq
    return body, next_seq


def audit_chunk(
    query: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]], org_id: str, chunk: ExportChunk
) -> tuple[ChunkBody, AuditCursor | None]:
    """The chunk's audit rows (``query``: run a parameterised ClickHouse query, answer the rows),
    and the last one's cursor."""
    export: AuditExport = chunk.job.request  # type: ignore[assignment]
    where = AuditFilter(uuid.UUID(org_id), export.filters.model_dump())
    after = (chunk.after.timestamp, chunk.after.id) if chunk.after else None
    sql, params = where.sql(chunk.job.chunk_records, 0, after)
    items = [record(row) for row in query(sql, params)]
    lines, body = AuditLines(export.format), ChunkBody()
    if chunk.n == 0:
        body.add(lines.header(), record=False)
    for item in items:
        body.add(lines.line(item))
    body.exhausted = len(items) < chunk.job.chunk_records
    last = items[-1] if items else None
    cursor = AuditCursor(timestamp=last["timestamp"], id=str(last["id"])) if last else chunk.after
    return body, cursor

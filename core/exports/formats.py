"""The lines of an export, the same whether streamed inline or written in chunks: a message as
JSON lines or CSV (``core.jetstream.messages.export_record``), an audit row as JSON lines or CSV
(``core.audit.AUDIT_COLUMNS``). A CSV file's header is the first chunk's first line."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from core.audit import AUDIT_COLUMNS
from core.jetstream.messages import CSV_COLUMNS, StoredMessage, export_record

Format = Literal["jsonl", "csv"]
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
AUDIT_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


class MessageLines:
    """Messages as lines of one format."""

    def __init__(self, format: Format):
        self.format = format
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self) -> str:
        if self.format != "csv":
            return ""
        self._writer.writerow(CSV_COLUMNS)
        return self._take()

    def line(self, msg: StoredMessage) -> str:
        record = export_record(msg)
        if self.format == "csv":
            self._writer.writerow(
                [
                    json.dumps(record["headers"]) if c == "headers" else record[c]
                    for c in CSV_COLUMNS
                ]
            )
            return self._take()
        return json.dumps(record, ensure_ascii=False) + "\n"


class AuditLines:
    """Audit rows (``core.analytics.audit_query.record``) as lines of one format."""

    def __init__(self, format: Format):
        self.format = format
        self._buffer = io.StringIO()
        self._writer = csv.DictWriter(self._buffer, fieldnames=AUDIT_COLUMNS)

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self) -> str:
        if self.format != "csv":
            return ""
        self._writer.writeheader()
        return self._take()

    def line(self, item: dict[str, Any]) -> str:
        if self.format == "csv":
            self._writer.writerow({**item, "changes": json.dumps(item["changes"], default=str)})
            return self._take()
        return json.dumps(item, default=str) + "\n"

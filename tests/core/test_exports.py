"""Pure parts of exports: the workflow's one input keeps its request's kind through the data
converter's JSON, file names, the lines of each format, and the audit query's keyset page."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

from core.analytics.audit_query import AuditFilter
from core.exports.formats import AuditLines, MessageLines
from core.exports.models import AuditExport, AuditFilters, ExportJob, MessageExport
from core.jetstream.messages import CSV_COLUMNS, StoredMessage
from core.operations import OperationContext

CONTEXT = OperationContext(operation_id=str(uuid.uuid4()), org_id=str(uuid.uuid4()), type="export")
MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_the_job_keeps_its_request_kind_through_json():
    messages = MessageExport(
        cluster_id=uuid.uuid4(), stream="orders", format="csv", first_seq=3, last_seq=9, estimated=7
    )
    audit = AuditExport(filters=AuditFilters(action="stream.create", until=MOMENT), estimated=2)
    for request in (messages, audit):
        job = ExportJob(context=CONTEXT, request=request, chunk_records=5)
        again = ExportJob.model_validate(json.loads(job.model_dump_json()))
        assert again == job and type(again.request) is type(request)
    assert messages.filename() == "orders-3-9.csv" and audit.filename() == "audit.jsonl"
    empty = messages.model_copy(update={"first_seq": 10, "last_seq": 9})
    assert empty.filename() == "orders-10-9.csv"


def test_message_lines_are_one_record_each_with_a_csv_header():
    msg = StoredMessage(
        seq=4,
        subject="a.b",
        time="2026-01-01T00:00:00.000000001Z",
        headers={"N": ["4"]},
        data=b"\x00\x01",
    )
    assert MessageLines("jsonl").header() == ""
    record = json.loads(MessageLines("jsonl").line(msg))
    assert record["seq"] == 4 and record["encoding"] == "base64"
    lines = MessageLines("csv")
    rows = list(csv.reader(io.StringIO(lines.header() + lines.line(msg) + lines.line(msg))))
    assert rows[0] == list(CSV_COLUMNS) and len(rows) == 3 and rows[1] == rows[2]


def test_audit_lines_match_the_columns():
    item = {
        "id": uuid.uuid4(),
        "org_id": uuid.uuid4(),
        "user_id": None,
        "user_email": "a@b",
        "timestamp": MOMENT,
        "action": "x.y",
        "resource_type": "x",
        "resource_id": "1",
        "resource_name": "n",
        "cluster_id": None,
        "ip_address": "::1",
        "user_agent": "t",
        "request_id": "r",
        "changes": {"k": 1},
        "status": "success",
        "error_message": None,
    }
    assert json.loads(AuditLines("jsonl").line(item))["changes"] == {"k": 1}
    lines = AuditLines("csv")
    rows = list(csv.DictReader(io.StringIO(lines.header() + lines.line(item))))
    assert json.loads(rows[0]["changes"]) == {"k": 1} and rows[0]["action"] == "x.y"


def test_the_audit_keyset_page_continues_after_the_last_row():
    where = AuditFilter(uuid.uuid4(), {"action": "a", "until": MOMENT, "since": None})
    first, params = where.sql(50, 0)
    assert "after_ts" not in first and params["until"] == MOMENT.replace(tzinfo=None)
    after_id = str(uuid.uuid4())
    page, params = where.sql(50, 0, after=(MOMENT, after_id))
    assert "timestamp < {after_ts:DateTime64(3, 'UTC')}" in page and "id > {after_id:UUID}" in page
    assert params["after_ts"] == MOMENT.replace(tzinfo=None) and params["after_id"] == after_id
    count, params = where.count_sql()
    assert count.startswith("SELECT count() FROM audit_logs FINAL WHERE") and "LIMIT" not in count

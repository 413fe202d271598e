"""One audit event, one ClickHouse row, however late it is retried. The ``audit_logs`` key holds the
event's time, so a record retried after the stream's de-duplication window (a worker killed after
publishing, an attempt minutes later) must carry the same time: that of the workflow's decision
(the activity's first scheduling), not of the attempt."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.operations import audit_event_of
from core.analytics.store import AnalyticsStore
from core.audit import AUDIT_COLUMNS
from core.operations import OperationContext, OperationUpdate


def test_a_record_retried_later_is_one_row(tmp_path):
    scheduled = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    first = dataclasses.replace(
        ActivityEnvironment().info,
        attempt=1,
        scheduled_time=scheduled,
        current_attempt_scheduled_time=scheduled,
    )
    later = dataclasses.replace(
        first, attempt=4, current_attempt_scheduled_time=scheduled + timedelta(minutes=9)
    )
    change = OperationUpdate(
        context=OperationContext(
            operation_id=str(uuid.uuid4()), org_id=str(uuid.uuid4()), type="replay"
        ),
        status="completed",
        audit_action="operation.completed",
        result={"replayed": 3},
    )
    events = [audit_event_of(change, info) for info in (first, later)]
    assert events[0] == events[1]

    store = AnalyticsStore(f"chdb://{tmp_path / 'ch'}")
    store.apply_schema()
    for event in events:  # two deliveries, beyond JetStream's window: two inserts, two parts
        store.insert("audit_logs", [event.row()], AUDIT_COLUMNS)
    rows = store.query(
        "SELECT count() FROM audit_logs FINAL WHERE id = {id:UUID}", {"id": str(events[0].id)}
    )
    assert rows == [(1,)]
    # What an attempt's own clock did before: the same event twice in the table.
    retimed = events[0].model_copy(update={"id": uuid.uuid4()})
    for minutes in (0, 9):
        store.insert(
            "audit_logs",
            [
                retimed.model_copy(
                    update={"timestamp": scheduled + timedelta(minutes=minutes)}
                ).row()
            ],
            AUDIT_COLUMNS,
        )
    rows = store.query(
        "SELECT count() FROM audit_logs FINAL WHERE id = {id:UUID}", {"id": str(retimed.id)}
    )
    assert rows == [(2,)]
    store.close()

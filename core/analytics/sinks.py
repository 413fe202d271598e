"""What the ingesters do with a batch of messages: turn each into rows and insert them.

A sink validates one message (``ValueError``: it can never be stored, the ingester terminates it)
and inserts a batch (an exception: the whole batch is redelivered, so an insert must store a
message at most once even when it sees it again)."""

from __future__ import annotations

import json
from typing import Protocol

from core.alerts.events import AlertEvent
from core.alerts.rows import COLUMNS as ALERT_COLUMNS
from core.alerts.rows import row as alert_row
from core.analytics.store import AnalyticsStore
from core.audit import AUDIT_COLUMNS, AuditEvent
from core.events import SUBJECT_PREFIX


class Sink(Protocol):
    def validate(self, subject: str, data: bytes) -> None: ...

    def insert(self, store: AnalyticsStore, batch: list[tuple[str, bytes]]) -> None: ...


ALERT_SUBJECT = f"{SUBJECT_PREFIX}.alert"


class EventsSink:
    """``JSC_EVENTS``: audit records into ``audit_logs``, alert events into ``alert_events`` (both
    ReplacingMergeTrees on the event id, read with FINAL, so a redelivered record is kept once)."""

    def validate(self, subject: str, data: bytes) -> None:
        if subject == f"{SUBJECT_PREFIX}.audit":
            AuditEvent.model_validate_json(data)
        elif subject == ALERT_SUBJECT:
            AlertEvent.model_validate_json(data)

    def insert(self, store: AnalyticsStore, batch: list[tuple[str, bytes]]) -> None:
        audit = [
            AuditEvent.model_validate(json.loads(data)).row()
            for subject, data in batch
            if subject == f"{SUBJECT_PREFIX}.audit"
        ]
        if audit:
            store.insert("audit_logs", audit, AUDIT_COLUMNS)
        alerts = [
            alert_row(AlertEvent.model_validate_json(data))
            for subject, data in batch
            if subject == ALERT_SUBJECT
        ]
        if alerts:
            store.insert("alert_events", alerts, ALERT_COLUMNS)

"""Moves events from the ``JSC_EVENTS`` stream into ClickHouse: one durable pull consumer, shared
by every process that runs an ingester, acking a batch only after it is inserted."""

from __future__ import annotations

import asyncio
import json
import logging

from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig

from core.analytics.store import AnalyticsStore
from core.audit import AuditEvent, AUDIT_COLUMNS
from core.events import STREAM, SUBJECT_PREFIX, ensure_stream

log = logging.getLogger(__name__)
DURABLE = "clickhouse-ingester"


class Ingester:
    def __init__(self, nc: NATS, store: AnalyticsStore, batch: int = 500):
        self.nc, self.store, self.batch = nc, store, batch
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await ensure_stream(self.nc)
        js = self.nc.jetstream()
        self._sub = await js.pull_subscribe(
            f"{SUBJECT_PREFIX}.>", durable=DURABLE, stream=STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=5000),
        )
        self._task = asyncio.create_task(self._run(), name="clickhouse-ingester")

    async def _run(self) -> None:
        while True:
            try:
                msgs = await self._sub.fetch(self.batch, timeout=1)
            except NatsTimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection trouble: nats-py reconnects; try again
                log.warning("ingester fetch failed: %s", exc)
                await asyncio.sleep(1)
                continue
            msgs = await self._drop_malformed(msgs)
            try:
                await asyncio.to_thread(self._insert, msgs)
            except Exception as exc:
                log.error("ingester insert failed, %d events will be redelivered: %s", len(msgs), exc)
                for msg in msgs:
                    await msg.nak(delay=2)
                continue
            for msg in msgs:
                await msg.ack()

    async def _drop_malformed(self, msgs):
        """An event that can never be stored is terminated (and logged), not retried forever."""
        good = []
        for msg in msgs:
            try:
                if msg.subject == f"{SUBJECT_PREFIX}.audit":
                    AuditEvent.model_validate_json(msg.data)
                good.append(msg)
            except ValueError as exc:
                log.error("dropping malformed event on %s: %s", msg.subject, exc)
                await msg.term()
        return good

    def _insert(self, msgs) -> None:
        audit = [AuditEvent.model_validate(json.loads(m.data)).row()
                 for m in msgs if m.subject == f"{SUBJECT_PREFIX}.audit"]
        if audit:
            self.store.insert("audit_logs", audit, AUDIT_COLUMNS)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

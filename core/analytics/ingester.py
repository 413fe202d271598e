"""Moves events from an internal JetStream stream into ClickHouse: one durable pull consumer per
kind of event (audit and alert events from ``JSC_EVENTS``, metric samples from ``JSC_LIVE``),
shared by every process that runs that ingester, acking a batch only after it is inserted. What a
message becomes (which rows of which tables) is its sink's business (``core.analytics.sinks``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig

from core.analytics.sinks import EventsSink, Sink
from core.analytics.store import AnalyticsStore
from core.events import STREAM, SUBJECT_PREFIX, ensure_stream

log = logging.getLogger(__name__)
DURABLE = "clickhouse-ingester"


class Ingester:
    """Runs under its own supervisor: whatever breaks a round (the connection, an ack, the durable
    consumer deleted under it) is logged, the subscription is made again and the loop restarts;
    ``problem()`` says what is wrong meanwhile (``/readyz`` reports it)."""

    def __init__(
        self,
        nc: NATS,
        store: AnalyticsStore,
        batch: int = 500,
        *,
        sink: Sink | None = None,
        stream: str = STREAM,
        subject: str = f"{SUBJECT_PREFIX}.>",
        durable: str = DURABLE,
        ensure: Callable[[NATS], Awaitable[None]] = ensure_stream,
    ):
        self.nc, self.store, self.batch = nc, store, batch
        self.sink = sink or EventsSink()
        self.stream, self.subject, self.durable, self.ensure = stream, subject, durable, ensure
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        self.last_error: str | None = None  # set while failing, cleared by a good round

    async def start(self) -> None:
        await self._subscribe()
        self._task = asyncio.create_task(self._supervise(), name=f"ingester:{self.durable}")

    async def _subscribe(self) -> None:
        await self.ensure(self.nc)
        js = self.nc.jetstream()
        self._sub = await js.pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=self.stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=5000),
        )

    def problem(self) -> str | None:
        """None while it ingests; else what stops it."""
        if self._task is None:
            return "not started"
        if self._task.done():
            return "stopped"
        return self.last_error

    async def _supervise(self) -> None:
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - restart, whatever it was
                self.restarts += 1
                self.last_error = f"restarting after: {exc or type(exc).__name__}"
                log.exception("ingester failed; restarting (%d)", self.restarts)
            await asyncio.sleep(1)
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001 - gone with the connection
                pass
            try:
                await self._subscribe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                self.last_error = f"cannot subscribe: {exc or type(exc).__name__}"
                log.warning("ingester cannot subscribe yet: %s", exc)

    async def _run(self) -> None:
        failures = idle = 0
        while True:
            try:
                msgs = await self._sub.fetch(self.batch, timeout=1)
            except NatsTimeoutError:
                idle += 1
                if idle % 5 == 0:  # quiet, or is the consumer gone? (raises NotFoundError)
                    await self._sub.consumer_info()
                failures, self.last_error = 0, None
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection trouble: nats-py reconnects; try again
                failures += 1
                self.last_error = f"fetch failed: {exc or type(exc).__name__}"
                log.warning("ingester fetch failed (%d): %s", failures, exc)
                if failures >= 3:  # the consumer itself may be gone: subscribe again
                    raise
                await asyncio.sleep(1)
                continue
            failures = idle = 0
            self.last_error = None
            msgs = await self._drop_malformed(msgs)
            try:
                await asyncio.to_thread(self._insert, msgs)
            except Exception as exc:
                log.error(
                    "ingester insert failed, %d events will be redelivered: %s", len(msgs), exc
                )
                self.last_error = f"insert failed: {exc}"
                for msg in msgs:
                    await msg.nak(delay=2)
                continue
            for msg in msgs:  # an ack lost here is redelivered: the row is stored once anyway
                await msg.ack()

    async def _drop_malformed(self, msgs: list[Msg]) -> list[Msg]:
        """An event that can never be stored is terminated (and logged), not retried forever."""
        good = []
        for msg in msgs:
            try:
                self.sink.validate(msg.subject, msg.data)
                good.append(msg)
            except ValueError as exc:
                log.error("dropping malformed event on %s: %s", msg.subject, exc)
                await msg.term()
        return good

    def _insert(self, msgs: list[Msg]) -> None:
        self.sink.insert(self.store, [(m.subject, m.data) for m in msgs])

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

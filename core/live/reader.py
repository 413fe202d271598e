"""Reading ``JSC_LIVE`` for one client connection: an ordered JetStream consumer of its own.

Where it starts:
- after a known event id (the stream sequence a client last saw: ``Last-Event-ID``): every message
  after it, in order, so a client that reconnects (to any replica) misses nothing and repeats
  nothing;
- else the last message of each subject the filters cover (the latest sample of each cluster and
  stream, an operation's latest state) up to the stream's last sequence when it connects, read by
  a short-lived consumer of its own, then live from the next sequence. The live consumer always
  starts at a sequence, so a re-created ordered consumer (after a missed heartbeat, a reconnect)
  resumes exactly where it was.

The consumer is ephemeral and in memory, deleted when the connection ends (and removed by the
server soon after a connection that vanished):
nothing is shared between connections or replicas, so no coordination is needed.

Each connection has a bounded queue. A client that does not keep up leaves its queue full; when it
stays full for ``slow_after_s`` the reader marks it ``dropped`` (the endpoint closes the connection;
the client resumes with its last event id) and stops taking messages, so it never holds up anyone
else: JetStream keeps what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from core.live.subjects import STREAM

log = logging.getLogger(__name__)
IDLE_HEARTBEAT_S = 5.0  # the server's heartbeat to the ordered consumer (gap and stall detection)
INACTIVE_THRESHOLD_S = 30.0  # the server removes a consumer nobody listens to after this


@dataclass(frozen=True)
class LiveMessage:
    seq: int  # the JSC_LIVE stream sequence: the event id
    subject: str
    data: bytes


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)


def disjoint_filters(filters: list[str]) -> list[str]:
    """The filters without those another one covers (a consumer's filters may not overlap)."""
    unique = sorted(set(filters))
    return [f for f in unique if not any(other != f and _covers(other, f) for other in unique)]


def _covers(wide: str, narrow: str) -> bool:
    """Whether every subject ``narrow`` matches is matched by ``wide`` (for the forms of
    ``core.live.subjects``: literal tokens, ``*`` and a final ``>``)."""
    want, got = wide.split("."), narrow.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got):
            return False
        if token == "*":
            if got[i] == ">":
                return False
        elif token != got[i]:
            return False
    return len(want) == len(got)


class LiveReader:
    """``await reader.start()``, then ``await reader.next(timeout)`` until ``reader.dropped``;
    ``await reader.close()`` in the end."""

    def __init__(
        self,
        nc: NATS,
        filters: list[str],
        *,
        after: int | None,
        queue_size: int = 1000,
        slow_after_s: float = 5.0,
    ):
        if not filters:
            raise ValueError("a live reader needs at least one subject filter")
        self.nc, self.filters, self.after = nc, disjoint_filters(filters), after
        self.queue: asyncio.Queue[LiveMessage] = asyncio.Queue(maxsize=queue_size)
        self.slow_after_s = slow_after_s
        self.dropped = asyncio.Event()
        self.last_seq = after or 0
        self._sub: JetStreamContext.PushSubscription | None = None
        self._ready = asyncio.Event()  # the snapshot is queued: live messages may follow
        self._snapshot_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe from the resume point (or from now, after a snapshot of the latest message of
        each subject): raises when ``JSC_LIVE`` cannot be read."""
        js = self.nc.jetstream(timeout=5)
        if self.after is not None:
            begin = self.after + 1
            self._ready.set()
        else:
            begin = (await js.stream_info(STREAM)).state.last_seq + 1
            self._snapshot_task = asyncio.create_task(self._snapshot(begin - 1))
        config = ConsumerConfig(
            inactive_threshold=INACTIVE_THRESHOLD_S,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=begin,
        )
        if len(self.filters) > 1:
            config.filter_subjects = self.filters
        self._sub = await js.subscribe(
            self.filters[0],
            stream=STREAM,
            cb=self._take,
            ordered_consumer=True,
            config=config,
            idle_heartbeat=IDLE_HEARTBEAT_S,
        )
        # nats-py re-creates an ordered consumer from the last sequence it delivered, 0 before
        # the first: it would start over from the stream's beginning; start from ours instead.
        jsi = getattr(getattr(self._sub, "_sub", None), "_jsi", None)
        if jsi is not None and getattr(jsi, "_sseq", 0) < begin - 1:
            jsi._sseq = begin - 1

    async def _snapshot(self, upto: int) -> None:
        """The latest message of each subject up to ``upto``, queued before anything live."""
        js = self.nc.jetstream(timeout=5)
        sub = None
        try:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
                ack_policy=AckPolicy.NONE,
                mem_storage=True,
                inactive_threshold=INACTIVE_THRESHOLD_S,
            )
            if len(self.filters) > 1:
                config.filter_subjects = self.filters
            sub = await js.pull_subscribe(self.filters[0], stream=STREAM, config=config)
            pending = (await sub.consumer_info()).num_pending or 0
            while pending > 0 and not self.dropped.is_set():
                for msg in await sub.fetch(min(pending, 256), timeout=5):
                    seq = msg.metadata.sequence.stream
                    if seq > upto:  # newer than the snapshot: the live consumer has it
                        pending = 0
                        break
                    pending = msg.metadata.num_pending
                    await self._queue(LiveMessage(seq, msg.subject, msg.data))
        except Exception as exc:  # the client still gets everything live
            log.warning("live reader of %s: no latest-message snapshot: %r", self.filters, exc)
        finally:
            self._ready.set()
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                    await js.delete_consumer(STREAM, sub._consumer)

    async def _take(self, msg: Msg) -> None:
        await self._ready.wait()  # the snapshot first (JetStream holds the rest meanwhile)
        seq = msg.metadata.sequence.stream
        if seq <= self.last_seq:  # a re-created ordered consumer never repeats; be sure anyway
            return
        await self._queue(LiveMessage(seq, msg.subject, msg.data))

    async def _queue(self, item: LiveMessage) -> None:
        if self.dropped.is_set():
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            try:
                await asyncio.wait_for(self.queue.put(item), self.slow_after_s)
            except TimeoutError:
                log.info(
                    "live reader of %s: client too slow (%d events waiting); dropping it",
                    self.filters,
                    self.queue.qsize(),
                )
                self.dropped.set()
                return
        self.last_seq = max(self.last_seq, item.seq)

    async def next(self, timeout: float) -> LiveMessage | None:
        """The next message, or None when none came within ``timeout`` (time for a heartbeat)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        """Unsubscribe and delete the consumer (else the server keeps it for
        ``INACTIVE_THRESHOLD_S``); best effort: the server forgets it anyway."""
        if self._snapshot_task is not None:
            self._snapshot_task.cancel()
            await asyncio.gather(self._snapshot_task, return_exceptions=True)
        if self._sub is not None:
            sub, self._sub = self._sub, None
            try:
                await sub.unsubscribe()
                await self.nc.jetstream(timeout=2).delete_consumer(STREAM, sub._consumer)
            except Exception:
                log.debug("live reader: unsubscribe failed", exc_info=True)

"""The replay pipeline: batched reads from the source, asynchronous publishes with a bounded window
of outstanding acknowledgements, an optional rate limit, and a checkpoint that only ever covers
messages the destination has acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.replay.destination import MessageMapper, MissingRedriveHeader, classify
from core.replay.models import MAX_FAILURES_KEPT, ReplayCheckpoint, ReplayChunk
from core.replay.publisher import AsyncPublisher
from core.replay.source import SourceMessage

WINDOW = 2048  # outstanding acknowledgements
ACK_TIMEOUT_S = 10.0
HEARTBEAT_EVERY_S = 0.25


class RateLimiter:
    """Paces calls to ``rate`` per second on average; catches up at most 50 ms of lag."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now + 0.002:
            await asyncio.sleep(self.next - now)
        self.next = max(self.next, now - 0.05) + self.interval


@dataclass
class _Pending:
    seq: int
    size: int
    token: int  # 0: nothing to wait for (a skipped or failed message)
    subject: str = ""


class RateMeter:
    """Messages per second over the last few seconds, from (time, done) samples."""

    def __init__(self, span_s: float = 3.0):
        self.span_s = span_s
        self.samples: deque[tuple[float, int]] = deque()

    def rate(self, done: int) -> float | None:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.span_s:
            self.samples.popleft()
        first_t, first_done = self.samples[0]
        return round((done - first_done) / (now - first_t), 1) if now - first_t > 0.2 else None


class ChunkRunner:
    """Runs one chunk of a replay: from ``checkpoint.next_seq`` for at most ``max_seconds``.

    The checkpoint is heartbeated every ``HEARTBEAT_EVERY_S`` by a task of its own, so a slow
    read never starves it. ``skip`` holds source sequences a crashed attempt already stored; until
    the checkpoint has passed the last of them, the destination position it records stays where
    the check began, so a crash in between checks them again instead of losing them. ``fence``
    is called before every publish and raises when this attempt may no longer write."""

    def __init__(
        self,
        chunk: ReplayChunk,
        reader: Any,
        publisher: AsyncPublisher,
        heartbeat: Callable[[ReplayCheckpoint], None],
        skip: set[int] | None = None,
        expected_stream: str | None = None,
        fence: Callable[[], None] = lambda: None,
    ):
        self.chunk, self.reader, self.publisher = chunk, reader, publisher
        self.heartbeat, self.skip, self.fence = heartbeat, skip or set(), fence
        self.hold_dest_until = max(self.skip, default=0)
        self.mapper = MessageMapper(chunk.request, chunk.operation_id, expected_stream)
        self.cp = chunk.checkpoint.model_copy(deep=True)
        self.window: deque[_Pending] = deque()
        self.limiter = RateLimiter(chunk.request.rate_limit)
        self.meter = RateMeter()

    async def run(self) -> tuple[ReplayCheckpoint, bool]:
        """Returns the checkpoint and whether the range is exhausted."""
        started = time.monotonic()
        exhausted = True
        beating = asyncio.create_task(self._beat())
        try:
            async for msg in self.reader.read(self.cp.next_seq, self.chunk.plan.last_seq):
                await self._submit(msg)
                await self._settle(block=len(self.window) >= WINDOW)
                if time.monotonic() - started >= self.chunk.max_seconds:
                    exhausted = False
                    break
            await self._settle(drain=True)
        finally:
            beating.cancel()
            await self.reader.close()
        if exhausted:
            self.cp.next_seq = max(self.cp.next_seq, self.chunk.plan.last_seq + 1)
        self._beat_once()
        return self.cp, exhausted

    def _beat_once(self) -> None:
        self.cp.rate_per_s = self.meter.rate(self.cp.done)
        self.heartbeat(self.cp)

    async def _beat(self) -> None:
        while True:
            self._beat_once()
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    async def _submit(self, msg: SourceMessage) -> None:
        if msg.seq in self.skip:  # stored by an attempt that crashed after publishing it
            self.window.append(_Pending(msg.seq, len(msg.data), 0))
            return
        try:
            subject = self.mapper.subject(msg)
        except MissingRedriveHeader as exc:
            self.cp.failed += 1
            if len(self.cp.failures) < MAX_FAILURES_KEPT:
                self.cp.failures.append(
                    {"seq": msg.seq, "subject": msg.subject, "reason": str(exc)}
                )
            self.window.append(_Pending(msg.seq, -1, 0))
            return
        if self.limiter.interval:
            await self.limiter.wait()
        self.fence()
        token = await self.publisher.publish(subject, msg.data, self.mapper.headers(msg))
        self.window.append(_Pending(msg.seq, len(msg.data), token, subject))

    async def _settle(self, block: bool = False, drain: bool = False) -> None:
        """Retire acknowledged messages from the front of the window, in source order."""
        window, publisher, cp = self.window, self.publisher, self.cp
        while window:
            head = window[0]
            if head.token:
                ack = publisher.take(head.token)
                try:
                    if ack is None:
                        if not (block or drain):
                            return
                        ack = await publisher.ack(head.token, ACK_TIMEOUT_S)
                    elif isinstance(ack, Exception):
                        raise ack
                except Exception as exc:
                    raise classify(head.seq, exc, head.subject) from exc
                if head.seq > self.hold_dest_until and ack.seq > cp.dest_seqs.get(ack.stream, 0):
                    cp.dest_seqs[ack.stream] = ack.seq
            window.popleft()
            cp.next_seq = head.seq + 1
            if head.size >= 0:
                cp.done += 1
                cp.bytes += head.size
            block = False

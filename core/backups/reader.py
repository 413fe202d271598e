"""Reading a sequence range of a stream exactly as stored: subject, raw header bytes (repeated
names and their order kept), payload, sequence and the timestamp in nanoseconds.

nats-py parses headers into a dict (losing repeated names) and timestamps into microseconds, so
the messages of a reader are taken off the connection before nats-py builds its ``Msg``: a
``RawTap`` (one per connection, installed once) hands the raw ``MSG``/``HMSG`` parts of the
subscriptions registered with it to their handler, and passes everything else on unchanged. It
relies on nats-py's ``Client._process_msg(sid, subject, reply, data, headers)`` (nats-py 2.16,
pinned in pyproject.toml; tests/backups cover it).

Limits streams are read through an ephemeral pull consumer that acknowledges nothing (AckNone,
in memory, removed at the end and by the server when idle), two pull requests in flight so the
network and the encoding overlap, and the caller's pace bounding what is buffered. Work-queue
and interest streams must not be read by a consumer (work queues refuse one that does not
acknowledge, and acknowledgements of an interest stream's consumer remove messages): they are
read one message at a time with ``STREAM.MSG.GET`` (``next_by_subj``), slower but exact.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client as NATS

from core.jetstream.api import JetStreamApi, JetStreamError

INACTIVE_THRESHOLD_NS = 60 * 1_000_000_000
PULL_EXPIRES_NS = 2 * 1_000_000_000
BATCH_BYTES = 4 * 1024 * 1024
STALL_S = 60.0  # nothing at all (not even a request's expiry) for this long: the read failed


class ReadFailed(Exception):
    """The server stopped answering, or the stream or the reader's consumer went away."""


@dataclass(frozen=True, slots=True)
class RawMessage:
    seq: int
    subject: bytes
    timestamp: int  # ns since the epoch
    header: bytes  # b"" when the message has none
    payload: bytes


# -- the tap -----------------------------------------------------------------------------------

Handler = Callable[[bytes, bytes, bytes, bytes | None], None]


class RawTap:
    """Raw messages of registered subscriptions, taken before nats-py parses them."""

    def __init__(self, nc: NATS):
        self.handlers: dict[int, Handler] = {}
        original = nc._process_msg

        async def process(
            sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
        ) -> None:
            handler = self.handlers.get(sid)
            if handler is None:
                # nats-py annotates ``headers`` as bytes but passes None for a message without
                await original(sid, subject, reply, data, headers)  # type: ignore[arg-type]
                return
            nc.stats["in_msgs"] += 1
            nc.stats["in_bytes"] += len(data)
            handler(subject, reply, data, headers)

        nc._process_msg = process  # type: ignore[method-assign]

    @classmethod
    def of(cls, nc: NATS) -> RawTap:
        tap = nc.__dict__.get("_jsc_raw_tap")
        if tap is None:
            tap = nc.__dict__["_jsc_raw_tap"] = cls(nc)
        return tap


def status_of(headers: bytes | None) -> tuple[str, str] | None:
    """``(code, description)`` of a status message (``NATS/1.0 408 Request Timeout``)."""
    if not headers or len(headers) < 12 or headers[8:9] != b" ":
        return None
    line = headers[9 : headers.find(b"\r\n")].decode("utf-8", "replace")
    code, _, description = line.partition(" ")
    return code, description


def ack_fields(reply: bytes) -> tuple[int, int, int]:
    """(stream sequence, timestamp ns, pending) of a JetStream delivery's reply subject, v1
    (``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>``) or v2 (with
    domain and account hash first, a random token last)."""
    tokens = reply.split(b".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[7]), int(tokens[8])
    if len(tokens) >= 12:
        return int(tokens[7]), int(tokens[9]), int(tokens[10])
    raise ReadFailed(f"not a JetStream delivery: {reply[:120]!r}")


# -- readers -----------------------------------------------------------------------------------


async def read_range(
    js: JetStreamApi,
    stream: str,
    first_seq: int,
    last_seq: int,
    *,
    retention: str | None = None,
    avg_size: int = 1024,
) -> AsyncIterator[list[RawMessage]]:
    """Batches of the messages with ``first_seq <= seq <= last_seq``, in order. ``retention``
    (the stream's; looked up when not given) picks the reader; ``avg_size`` sizes the batches."""
    if last_seq < first_seq:
        return
    if retention is None:
        info = await js.stream_info(stream)
        retention = info["config"].get("retention", "limits")
        state = info["state"]
        if state.get("messages"):
            avg_size = max(1, int(state.get("bytes", 0)) // int(state["messages"]))
    if retention == "limits":
        reader = ConsumerRangeReader(js, stream, first_seq, last_seq, avg_size)
        async for batch in reader.batches():
            yield batch
    else:
        async for batch in msg_get_range(js, stream, first_seq, last_seq):
            yield batch


class ConsumerRangeReader:
    """The range through an ephemeral AckNone pull consumer, two pulls in flight."""

    IN_FLIGHT = 2

    def __init__(
        self, js: JetStreamApi, stream: str, first_seq: int, last_seq: int, avg_size: int = 1024
    ):
        self.js, self.stream = js, stream
        self.first_seq, self.last_seq = first_seq, last_seq
        self.batch = max(16, min(20_000, BATCH_BYTES // max(64, avg_size + 64)))
        self.name = f"jsc-backup-{uuid.uuid4().hex[:12]}"
        self._ready: asyncio.Queue[Any] = asyncio.Queue()
        self._requests: collections.deque[list[Any]] = collections.deque()  # [token, remaining]
        self._current: list[RawMessage] = []
        self._done = False
        self._tokens = 0

    def _on_message(
        self,
        subject: bytes,
        reply: bytes,
        data: bytes,
        headers: bytes | None,
    ) -> None:
        if self._done:
            return
        status = status_of(headers)
        if status is not None:
            code, description = status
            if code == "100":  # heartbeat
                return
            token = subject.rsplit(b".", 1)[-1]
            if code in ("404", "408", "409") and description in (
                "No Messages",
                "Request Timeout",
                "Message Size Exceeds MaxBytes",
                "",
            ):
                for request in list(self._requests):
                    if request[0] == token:
                        self._requests.remove(request)
                        self._ready.put_nowait(("idle", self._take()))
                return
            self._done = True
            self._ready.put_nowait(("error", f"{code} {description}".strip()))
            return
        seq, ts, pending = ack_fields(reply)
        if seq > self.last_seq:
            self._finish()
            return
        self._current.append(RawMessage(seq, subject, ts, headers or b"", data))
        if seq >= self.last_seq or pending == 0:
            self._finish()
            return
        if self._requests:
            self._requests[0][1] -= 1
            if self._requests[0][1] <= 0:
                self._requests.popleft()
                self._ready.put_nowait(("batch", self._take()))

    def _take(self) -> list[RawMessage]:
        batch, self._current = self._current, []
        return batch

    def _finish(self) -> None:
        self._done = True
        self._ready.put_nowait(("end", self._take()))

    async def _pull(self, inbox: str) -> None:
        self._tokens += 1
        token = str(self._tokens)
        self._requests.append([token.encode(), self.batch])
        body = json.dumps({"batch": self.batch, "expires": PULL_EXPIRES_NS}).encode()
        await self.js.nc.publish(
            f"{self.js.prefix}.CONSUMER.MSG.NEXT.{self.stream}.{self.name}",
            body,
            reply=f"{inbox}.{token}",
        )

    async def batches(self) -> AsyncIterator[list[RawMessage]]:
        config = {
            "name": self.name,
            "ack_policy": "none",
            "mem_storage": True,
            "num_replicas": 1,
            "inactive_threshold": INACTIVE_THRESHOLD_NS,
            "replay_policy": "instant",
            "max_waiting": 16,
        }
        if self.first_seq > 1:
            config.update(deliver_policy="by_start_sequence", opt_start_seq=self.first_seq)
        else:
            config["deliver_policy"] = "all"
        nc = self.js.nc
        tap = RawTap.of(nc)
        inbox = nc.new_inbox()
        sub = await nc.subscribe(f"{inbox}.*")
        tap.handlers[sub._id] = self._on_message
        try:
            await self.js.consumer_create(self.stream, config, action="create")
            while True:
                while len(self._requests) < self.IN_FLIGHT and not self._done:
                    await self._pull(inbox)
                try:
                    async with asyncio.timeout(STALL_S):  # not wait_for: it can swallow a cancel
                        kind, payload = await self._ready.get()
                except TimeoutError:
                    raise ReadFailed(f"reading stream '{self.stream}' stalled") from None
                if kind == "error":
                    raise ReadFailed(f"reading stream '{self.stream}' failed: {payload}")
                if payload:
                    yield payload
                if kind == "end":
                    return
                if kind == "idle" and not payload and await self._nothing_pending():
                    self._done = True
                    return
        finally:
            self._done = True
            tap.handlers.pop(sub._id, None)
            try:
                await sub.unsubscribe()
            except Exception:  # the connection may be gone; the server forgets it too
                pass
            try:
                await self.js.consumer_delete(self.stream, self.name)
            except Exception:  # removed by the server when idle anyway
                pass

    async def _nothing_pending(self) -> bool:
        info = await self.js.consumer_info(self.stream, self.name)
        return int(info.get("num_pending", 0)) == 0 and not self._current


async def msg_get_range(
    js: JetStreamApi, stream: str, first_seq: int, last_seq: int, batch: int = 256
) -> AsyncIterator[list[RawMessage]]:
    """The range with ``STREAM.MSG.GET`` (``next_by_subj``: gaps cost nothing), one message per
    request; for streams a consumer must not read."""
    seq, out = first_seq, []
    while seq <= last_seq:
        try:
            reply = await js.request(f"STREAM.MSG.GET.{stream}", {"seq": seq, "next_by_subj": ">"})
        except JetStreamError as exc:
            if exc.code == 404 and exc.err_code != 10059:  # no message at or after seq
                break
            raise
        message = reply["message"]
        got = int(message["seq"])
        if got > last_seq:
            break
        out.append(
            RawMessage(
                got,
                message["subject"].encode(),
                time_ns(message["time"]),
                base64.b64decode(message.get("hdrs") or ""),
                base64.b64decode(message.get("data") or ""),
            )
        )
        if len(out) >= batch:
            yield out
            out = []
        seq = got + 1
    if out:
        yield out


def time_ns(text: str) -> int:
    """An RFC 3339 time of the server, with its nanoseconds, as ns since the epoch."""
    head, _, rest = text.partition(".")
    if not rest:
        head, zone = head[:19], head[19:]
        frac = ""
    else:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, zone = rest[:digits], rest[digits:]
    base = datetime.fromisoformat(head[:19] + (zone if zone not in ("Z", "") else "+00:00"))
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    seconds = (base - _EPOCH) // timedelta(seconds=1)
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def ns_of(when: datetime) -> int:
    """A datetime (naive: UTC) as ns since the epoch."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(microseconds=1) * 1000  # integers: no float rounding


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

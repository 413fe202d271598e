"""Reading a sequence range of a stream without leaving durable state behind.

Limits streams are read in batches through an ephemeral pull consumer that never acks (AckNone,
in memory, removed at the end and by the server after 10 s of inactivity). Interest and work-queue
streams must not be read by a consumer (its acks would remove messages, and work queues refuse
AckNone), so they are read with the stream's MSG.GET API, many requests in flight when there is
no subject filter.

A range ends only when the server says so: the reader's last sequence was reached, or the
consumer has nothing more pending, or MSG.GET finds nothing further. A fetch that times out (a
busy server, a large backlog) is asked about again, never taken as the end.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, NamedTuple

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.messages import parse_header_block

BATCH = 1000  # messages per fetch
FETCH_TIMEOUT_S = 1.0
IN_FLIGHT = 64  # MSG.GET requests outstanding when reading without a filter
INACTIVE_THRESHOLD_NS = 10 * 1_000_000_000  # removed by the server when idle this long


class SourceMessage(NamedTuple):
    seq: int
    subject: str
    data: bytes
    headers: dict[str, str] | None
    time: datetime | str


def subject_matches(subject: str, pattern: str) -> bool:
    s, p = subject.split("."), pattern.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(s) == len(p)


async def first_seq_at(js: JetStreamApi, stream: str, when: datetime) -> int | None:
    """The first sequence stored at or after ``when`` (None: nothing that late)."""
    try:
        reply = await js.request(f"STREAM.MSG.GET.{stream}", {"start_time": when.isoformat()})
    except JetStreamError as exc:
        if exc.not_found or exc.code == 404:
            return None
        raise
    message = reply["message"]
    # Past the last message the server answers with the first one: that is "nothing that late".
    if _parse_time(message["time"]) < when:
        return None
    return int(message["seq"])


def _parse_time(value: str) -> datetime:
    """RFC 3339 with up to nanoseconds, as the server writes it."""
    head, _, frac = value.rstrip("Z").partition(".")
    micro = (frac + "000000")[:6] if frac else "000000"
    return datetime.fromisoformat(f"{head}.{micro}+00:00")


class ConsumerReader:
    """Batches through an ephemeral AckNone pull consumer (limits streams only).

    ``headers_only`` delivers headers and the payload's size (``Nats-Msg-Size``) without the
    payload: enough to find which messages a crashed attempt stored."""

    def __init__(
        self,
        js: JetStreamApi,
        stream: str,
        subjects: list[str],
        batch: int = BATCH,
        headers_only: bool = False,
        fetch_timeout: float = FETCH_TIMEOUT_S,
    ):
        self.js, self.stream, self.subjects, self.batch = js, stream, subjects, batch
        self.headers_only, self.fetch_timeout = headers_only, fetch_timeout
        self.name = f"jsc-replay-{uuid.uuid4().hex[:12]}"
        self._sub: JetStreamContext.PullSubscription | None = None

    async def read(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        config: dict[str, Any] = {
            "name": self.name,
            "deliver_policy": "by_start_sequence",
            "opt_start_seq": start_seq,
            "ack_policy": "none",
            "mem_storage": True,
            "num_replicas": 1,
            "inactive_threshold": INACTIVE_THRESHOLD_NS,
            "replay_policy": "instant",
            "max_waiting": 8,
        }
        if self.headers_only:
            config["headers_only"] = True
        if len(self.subjects) == 1:
            config["filter_subject"] = self.subjects[0]
        elif self.subjects:
            config["filter_subjects"] = self.subjects
        await self.js.consumer_create(self.stream, config, action="create")
        jsctx = self.js.nc.jetstream(domain=self.js.domain)
        self._sub = await jsctx.pull_subscribe_bind(consumer=self.name, stream=self.stream)
        yielded = start_seq - 1
        while True:
            try:
                msgs = await self._sub.fetch(self.batch, timeout=self.fetch_timeout)
            except (TimeoutError, NatsTimeoutError):  # nats-py raises either
                # Slow is not finished: only the server's pending count says the range is done.
                if await self._nothing_pending(yielded):
                    return
                continue
            for msg in msgs:
                meta = msg.metadata
                seq = meta.sequence.stream
                if seq > last_seq:
                    return
                yield SourceMessage(seq, msg.subject, msg.data, msg.headers, meta.timestamp)
                yielded = seq
                if meta.num_pending == 0:
                    return

    async def _nothing_pending(self, yielded: int) -> bool:
        """Nothing left to deliver, and nothing delivered that has not reached us yet."""
        info = await self.js.request(f"CONSUMER.INFO.{self.stream}.{self.name}")
        delivered = int((info.get("delivered") or {}).get("stream_seq", 0))
        return int(info.get("num_pending", 0)) == 0 and delivered <= yielded

    async def close(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # already gone with its connection
                pass
        try:
            await self.js.consumer_delete(self.stream, self.name)
        except Exception:  # never created, or already removed by the server; nothing remains
            pass


class MsgGetReader:
    """MSG.GET: safe on every retention policy. Without a subject filter the sequences to ask for
    are known, so ``IN_FLIGHT`` requests are outstanding at a time; with one, each answer names
    the next sequence to ask for."""

    def __init__(self, js: JetStreamApi, stream: str, subjects: list[str]):
        self.js, self.stream, self.subjects = js, stream, subjects

    async def read(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        reads = self._pipelined if not self.subjects else self._by_subject
        async for msg in reads(start_seq, last_seq):
            yield msg

    async def _get(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            reply = await self.js.request(f"STREAM.MSG.GET.{self.stream}", payload)
        except JetStreamError as exc:
            if exc.not_found:
                return None
            raise
        message: dict[str, Any] = reply["message"]
        return message

    async def _pipelined(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        seq = start_seq
        while seq <= last_seq:
            upto = min(last_seq, seq + IN_FLIGHT - 1)
            answers = await asyncio.gather(*(self._get({"seq": s}) for s in range(seq, upto + 1)))
            for msg in answers:
                if msg is not None:  # a deleted sequence
                    yield _from_msg_get(msg)
            seq = upto + 1

    async def _by_subject(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        by_subject = self.subjects[0] if len(self.subjects) == 1 else ">"
        seq = start_seq
        while seq <= last_seq:
            msg = await self._get({"seq": seq, "next_by_subj": by_subject})
            if msg is None:  # nothing further matches
                return
            seq = int(msg["seq"])
            if seq > last_seq:
                return
            if any(subject_matches(msg["subject"], p) for p in self.subjects):
                yield _from_msg_get(msg)
            seq += 1

    async def close(self) -> None:
        return None


def _from_msg_get(msg: dict[str, Any]) -> SourceMessage:
    return SourceMessage(
        int(msg["seq"]),
        msg["subject"],
        base64.b64decode(msg.get("data") or ""),
        parse_headers(msg.get("hdrs")),
        msg["time"],
    )


def parse_headers(hdrs_b64: str | None) -> dict[str, str]:
    """MSG.GET's base64 header block as {name: last value}."""
    if not hdrs_b64:
        return {}
    return {
        name: values[-1] for name, values in parse_header_block(base64.b64decode(hdrs_b64)).items()
    }


async def open_reader(
    js: JetStreamApi, stream: str, subjects: list[str], headers_only: bool = False
) -> ConsumerReader | MsgGetReader:
    info = await js.stream_info(stream)
    if info["config"].get("retention", "limits") == "limits":
        return ConsumerReader(js, stream, subjects, headers_only=headers_only)
    return MsgGetReader(js, stream, subjects)

"""Reading a sequence range of a stream without leaving durable state behind.

Limits streams are read in batches through an ephemeral pull consumer that never acks (AckNone,
in memory, removed at the end and by the server after 10 s of inactivity). Interest and work-queue
streams must not be read by a consumer (its acks would remove messages, and work queues refuse
AckNone), so they are read message by message with the stream's MSG.GET API.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import AsyncIterator, NamedTuple

from nats.errors import TimeoutError as NatsTimeoutError

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.messages import parse_header_block

BATCH = 1000  # messages per fetch
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
    """Batches through an ephemeral AckNone pull consumer (limits streams only)."""

    def __init__(self, js: JetStreamApi, stream: str, subjects: list[str], batch: int = BATCH):
        self.js, self.stream, self.subjects, self.batch = js, stream, subjects, batch
        self.name = f"jsc-replay-{uuid.uuid4().hex[:12]}"
        self._sub = None

    async def read(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        config: dict = {"name": self.name, "deliver_policy": "by_start_sequence",
                        "opt_start_seq": start_seq, "ack_policy": "none", "mem_storage": True,
                        "num_replicas": 1, "inactive_threshold": INACTIVE_THRESHOLD_NS,
                        "replay_policy": "instant", "max_waiting": 8}
        if len(self.subjects) == 1:
            config["filter_subject"] = self.subjects[0]
        elif self.subjects:
            config["filter_subjects"] = self.subjects
        await self.js.consumer_create(self.stream, config, action="create")
        jsctx = self.js.nc.jetstream(domain=self.js.domain)
        self._sub = await jsctx.pull_subscribe_bind(consumer=self.name, stream=self.stream)
        while True:
            try:
                msgs = await self._sub.fetch(self.batch, timeout=1)
            except NatsTimeoutError:
                return  # nothing more to read
            for msg in msgs:
                meta = msg.metadata
                seq = meta.sequence.stream
                if seq > last_seq:
                    return
                yield SourceMessage(seq, msg.subject, msg.data, msg.headers, meta.timestamp)
                if meta.num_pending == 0:
                    return

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
    """One MSG.GET per message: safe on every retention policy, slower."""

    def __init__(self, js: JetStreamApi, stream: str, subjects: list[str]):
        self.js, self.stream, self.subjects = js, stream, subjects

    async def read(self, start_seq: int, last_seq: int) -> AsyncIterator[SourceMessage]:
        by_subject = self.subjects[0] if len(self.subjects) == 1 else ">"
        seq = start_seq
        while seq <= last_seq:
            try:
                reply = await self.js.request(f"STREAM.MSG.GET.{self.stream}",
                                              {"seq": seq, "next_by_subj": by_subject})
            except JetStreamError as exc:
                if exc.not_found:
                    return
                raise
            msg = reply["message"]
            seq = int(msg["seq"])
            if seq > last_seq:
                return
            if not self.subjects or any(subject_matches(msg["subject"], p) for p in self.subjects):
                yield SourceMessage(seq, msg["subject"], base64.b64decode(msg.get("data") or ""),
                                    parse_headers(msg.get("hdrs")), msg["time"])
            seq += 1

    async def close(self) -> None:
        return None


def parse_headers(hdrs_b64: str | None) -> dict[str, str]:
    """MSG.GET's base64 header block as {name: last value}."""
    if not hdrs_b64:
        return {}
    return {name: values[-1] for name, values in parse_header_block(base64.b64decode(hdrs_b64)).items()}


async def open_reader(js: JetStreamApi, stream: str, subjects: list[str]):
    info = await js.stream_info(stream)
    if info["config"].get("retention", "limits") == "limits":
        return ConsumerReader(js, stream, subjects)
    return MsgGetReader(js, stream, subjects)

"""How far a console mirror has caught up, measured where the truth is.

A mirror's own ``mirror.lag`` reads 0 while its consumer is paused or its source unreachable, so
progress is read from both ends: the source consumer's ``num_pending`` (not delivered yet) and
``num_ack_pending`` (delivered, not yet acknowledged by the mirror's flow control, which happens
about a second after storing), and the mirror stream's own state (what it holds, and its last
sequence: a mirror keeps its source's sequence numbers).

A mirror has **caught up** when nothing is pending at the source and everything delivered is
stored (its last sequence reached the consumer's last delivered one) or acknowledged. A mirror
started with ``new`` on an idle source has caught up at once: nothing is pending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication.steps import Measurement, MirrorRef


def reading(mirror_id: str, consumer: dict[str, Any], stream: dict[str, Any]) -> Measurement:
    """A measurement from the source consumer's info and the mirror stream's info."""
    state = stream.get("state") or {}
    copied, last = int(state.get("messages", 0)), int(state.get("last_seq", 0))
    delivered = consumer.get("delivered") or {}
    delivered_seq = int(delivered.get("stream_seq", 0))
    pending, unacked = int(consumer.get("num_pending", 0)), int(consumer.get("num_ack_pending", 0))
    stored_all = last >= delivered_seq
    caught_up = pending == 0 and (unacked == 0 or stored_all)
    unstored = 0
    if not caught_up and not stored_all:  # delivered but not stored: at most what is unacked
        unstored = max(0, min(unacked, int(delivered.get("consumer_seq", 0)) - copied))
    remaining = pending + unstored
    if not caught_up and remaining == 0:
        remaining = max(unacked, 1)
    return Measurement(
        mirror_id=mirror_id,
        copied=copied,
        bytes=int(state.get("bytes", 0)),
        remaining=remaining,
        caught_up=caught_up,
        paused=bool(consumer.get("paused")),
        delivered_seq=delivered_seq,
        target_last_seq=last,
    )


async def measure(source: JetStreamApi, target: JetStreamApi, ref: MirrorRef) -> Measurement:
    """Read both ends at once; a consumer or stream that no longer exists is ``gone`` (removed
    by someone meanwhile: there is nothing left to wait for)."""
    consumer_read: dict[str, Any] | BaseException | None
    stream_read: dict[str, Any] | BaseException | None
    consumer_read, stream_read = await asyncio.gather(
        _or_none(source.consumer_info(ref.source_stream, ref.consumer)),
        _or_none(target.stream_info(ref.target_stream)),
        return_exceptions=True,
    )
    if isinstance(consumer_read, BaseException):
        raise consumer_read
    if isinstance(stream_read, BaseException):
        raise stream_read
    consumer, stream = consumer_read, stream_read
    if consumer is None or stream is None:
        return Measurement(mirror_id=ref.mirror_id, gone=True)
    found = reading(ref.mirror_id, consumer, stream)
    if found.caught_up:
        found.caught_up_in_s = round(max(0.0, time.time() - ref.created_at), 3)
    return found


async def _or_none(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return await call
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise

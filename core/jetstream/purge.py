"""What a purge would remove, without removing anything: the messages counted exactly from the
server's own counters, the bytes exact for a whole-stream purge and estimated (average size)
otherwise."""

from __future__ import annotations

import uuid
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError


async def count_from(js: JetStreamApi, stream: str, seq: int, subject: str | None) -> int | None:
    """Messages at or after ``seq`` (matching ``subject``), from a consumer's pending count. The
    consumer is never pulled from (nothing is delivered or acked) and is deleted at once.
    None when the stream refuses such a consumer (a work queue with an overlapping one)."""
    name = f"jsc-purge-preview-{uuid.uuid4().hex[:10]}"
    config = {
        "name": name,
        "deliver_policy": "by_start_sequence",
        "opt_start_seq": seq,
        "ack_policy": "explicit",
        "mem_storage": True,
        "num_replicas": 1,
        "inactive_threshold": 5_000_000_000,
    }
    if subject:
        config["filter_subject"] = subject
    try:
        info = await js.consumer_create(stream, config, action="create")
    except JetStreamError:  # e.g. a work queue refusing an overlapping consumer
        return None
    try:
        return int(info.get("num_pending", 0))
    finally:
        try:
            await js.consumer_delete(stream, name)
        except JetStreamError:
            pass


async def preview_purge(js: JetStreamApi, stream: str, request: dict[str, Any]) -> dict[str, Any]:
    subject, seq, keep = request.get("filter"), request.get("seq"), request.get("keep")
    info = (
        await js.stream_info(stream, subjects_filter=subject)
        if subject
        else await js.stream_info(stream)
    )
    state = info["state"]
    total = sum((state.get("subjects") or {}).values()) if subject else int(state["messages"])
    estimated = bool(subject or seq or keep is not None)
    if seq:
        after = await count_from(js, stream, seq, subject)
        if after is None:
            after = min(total, max(0, int(state["last_seq"]) - seq + 1))
        messages = max(0, total - after)
    elif keep is not None:
        messages = max(0, total - keep)
    else:
        messages = total
    average = int(state["bytes"]) / int(state["messages"]) if int(state["messages"]) else 0
    size = int(state["bytes"]) if not estimated else round(messages * average)
    return {"messages": messages, "bytes": size, "bytes_estimated": estimated}

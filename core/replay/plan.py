"""Resolving a replay request to a sequence range, and the dry run that counts it."""

from __future__ import annotations

from collections.abc import Callable

from core.jetstream.api import JetStreamApi
from core.jetstream.purge import count_from
from core.replay.models import DryRunResult, ReplayPlan, ReplayRequest
from core.replay.source import first_seq_at, open_reader


async def plan_replay(js: JetStreamApi, request: ReplayRequest) -> ReplayPlan:
    """[first_seq, last_seq] of the request: sequences are inclusive, ``end_time`` is exclusive,
    and the range stops at the stream's last message when the plan is made."""
    info = await js.stream_info(request.stream)
    state = info["state"]
    first, last = max(int(state["first_seq"]), 1), int(state["last_seq"])
    if request.start_seq:
        first = max(first, request.start_seq)
    if request.end_seq:
        last = min(last, request.end_seq)
    if request.start_time:
        at = await first_seq_at(js, request.stream, request.start_time)
        first = max(first, at) if at is not None else last + 1
    if request.end_time:
        at = await first_seq_at(js, request.stream, request.end_time)
        if at is not None:
            last = min(last, at - 1)
    span = max(0, last - first + 1)
    estimate = span
    if request.subjects and span:
        estimate = await _count_in_range(js, request.stream, request.subjects, first, last) or 0
    return ReplayPlan(first_seq=first, last_seq=last, estimated_total=min(span, estimate))


async def _count_in_range(js: JetStreamApi, stream: str, subjects: list[str], first: int,
                          last: int) -> int:
    """Messages matching ``subjects`` in [first, last], exact where the stream allows counting
    consumers; otherwise the filters' counts over the whole stream (an upper bound)."""
    total = 0
    for pattern in subjects:
        from_first = await count_from(js, stream, first, pattern)
        after_last = await count_from(js, stream, last + 1, pattern)
        if from_first is None or after_last is None:
            info = await js.stream_info(stream, subjects_filter=pattern)
            total += sum((info["state"].get("subjects") or {}).values())
        else:
            total += from_first - after_last
    return total


async def dry_run(js: JetStreamApi, request: ReplayRequest, plan: ReplayPlan,
                  progress: Callable[[int], None] = lambda n: None) -> DryRunResult:
    """Counts the messages and payload bytes the replay would copy; publishes nothing."""
    count = size = 0
    first = last = None
    reader = await open_reader(js, request.stream, request.subjects)
    try:
        async for msg in reader.read(plan.first_seq, plan.last_seq):
            count += 1
            size += len(msg.data)
            first = first or msg.seq
            last = msg.seq
            if count % 1000 == 0:
                progress(count)
    finally:
        await reader.close()
    duration = round(count / request.rate_limit, 3) if request.rate_limit else None
    return DryRunResult(count=count, bytes=size, first_seq=first, last_seq=last,
                        estimated_duration_s=duration)

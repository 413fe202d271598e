"""Resolving a replay request to a sequence range, and the dry run that counts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    estimate, exact = span, True
    if (
        span
        and (first, last) == (int(state["first_seq"]), int(state["last_seq"]))
        and not request.subjects
    ):
        estimate = int(state["messages"])  # the whole stream: deleted sequences do not count
    elif span and not request.subjects:
        from_first = await count_from(js, request.stream, first, None)
        after_last = await count_from(js, request.stream, last + 1, None)
        if from_first is not None and after_last is not None:
            estimate = from_first - after_last
        else:
            exact = False  # counts sequences, deleted ones included
    elif span:
        estimate, exact = await _count_in_range(js, request.stream, request.subjects, first, last)
    return ReplayPlan(
        first_seq=first, last_seq=last, estimated_total=min(span, estimate), exact=exact
    )


async def explain_missing(
    js: JetStreamApi, stream: str, plan: ReplayPlan, copied: int
) -> dict[str, Any] | None:
    """Why a finished replay copied fewer messages than its plan counted (None: it did not).
    The source is the only thing that can have changed: messages were removed before they were
    read, by the stream's limits or a purge (its first sequence moved past them), or deleted."""
    missing = plan.estimated_total - copied
    if missing <= 0:
        return None
    if not plan.exact:
        return {
            "count": missing,
            "reason": "the plan's count was an upper bound (the source "
            "could not be counted exactly); nothing was left unread",
        }
    try:
        state = (await js.stream_info(stream))["state"]
    except Exception:  # the source is gone: that is the reason
        state = None
    if state is None:
        reason = "the source stream was deleted or could not be read before they were copied"
    elif int(state["first_seq"]) > plan.first_seq:
        reason = (
            f"removed from the source before they were read (its first sequence is now "
            f"{state['first_seq']}: limits such as max_age or max_msgs, or a purge)"
        )
    else:
        reason = "deleted from the source before they were read"
    return {"count": missing, "reason": reason}


async def _count_in_range(
    js: JetStreamApi, stream: str, subjects: list[str], first: int, last: int
) -> tuple[int, bool]:
    """Messages matching ``subjects`` in [first, last], exact where the stream allows counting
    consumers; otherwise the filters' counts over the whole stream (an upper bound)."""
    total, exact = 0, True
    for pattern in subjects:
        from_first = await count_from(js, stream, first, pattern)
        after_last = await count_from(js, stream, last + 1, pattern)
        if from_first is None or after_last is None:
            info = await js.stream_info(stream, subjects_filter=pattern)
            total += sum((info["state"].get("subjects") or {}).values())
            exact = False
        else:
            total += from_first - after_last
    return total, exact


async def dry_run(
    js: JetStreamApi,
    request: ReplayRequest,
    plan: ReplayPlan,
    progress: Callable[[int], None] = lambda n: None,
) -> DryRunResult:
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
    return DryRunResult(
        count=count, bytes=size, first_seq=first, last_seq=last, estimated_duration_s=duration
    )

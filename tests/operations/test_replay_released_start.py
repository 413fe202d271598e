"""A replay started the way releases before ``ReplayInput`` started one (positional
``[context, request, carry]``: a run still going across the upgrade) completes with the current
code, and its continued runs, started with the one typed input, complete it."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.replay.models import ReplayCarry
from tests.operations.conftest import (
    fill,
    make_stream,
    read_all,
    source_seqs,
    start_replay_with,
    wait_operation,
)
from tests.operations.test_replay_continue_as_new import run_histories
from tests.workflows.recorded import replay_failure
from workflows.worker import WORKFLOWS


async def test_a_replay_started_positionally_completes_and_continues_typed(
    api, admin_headers, hub_cluster, hub_nc, stack, db_sessions, names
):
    total = 3_000
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"r-{src}.>"])
    await fill(js, [f"{src}.a"], total)
    op_id = await start_replay_with(
        stack,
        db_sessions,
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 2000,
            "destination": {"stream": dst, "subject_prefix": f"r-{src}"},
        },
        ReplayCarry(chunks_per_run=1, chunk_seconds=0.5),
        released=True,
    )

    op = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, timeout=300)
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == total, op["result"]
    seen = source_seqs(await read_all(hub_nc, dst))
    assert sorted(seen) == list(range(1, total + 1)) and set(seen.values()) == {1}

    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    histories = await run_histories(client, f"replay-{op_id}")
    assert len(histories) >= 2, f"{len(histories)} runs: it never continued as new"
    first = histories[0].events[0].workflow_execution_started_event_attributes.input.payloads
    later = histories[1].events[0].workflow_execution_started_event_attributes.input.payloads
    assert (len(first), len(later)) == (3, 1)  # positional, then one ReplayInput
    for history in histories:
        assert await replay_failure(history, WORKFLOWS) is None
    assert histories[-1].events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED

"""A replay long enough to continue as new several times (the threshold lowered to one chunk
per run) completes with the right count, pause and resume work across runs, and Temporal's
replayer accepts every run's history, including the one committed beside this file."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.replay.models import ReplayCarry
from tests.operations.conftest import (
    fill,
    make_stream,
    read_all,
    source_seqs,
    start_replay_with,
    wait_operation,
)
from workflows.worker import WORKFLOWS

HISTORY = Path(__file__).with_name("histories") / "replay_continued_as_new.json"


async def run_histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of the workflow, first to last, following the continue-as-new chain."""
    latest = await client.get_workflow_handle(workflow_id).describe()
    run_id = latest.raw_description.workflow_execution_info.first_run_id or latest.run_id
    histories = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return histories


async def test_a_replay_continues_as_new_and_finishes(
    api, admin_headers, hub_cluster, hub_nc, stack, db_sessions, names
):
    total = 9_000
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"c-{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], total)
    op_id = await start_replay_with(
        stack,
        db_sessions,
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 1000,
            "destination": {"stream": dst, "subject_prefix": f"c-{src}"},
        },
        ReplayCarry(chunks_per_run=1, chunk_seconds=0.5),
    )
    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    workflow_id = f"replay-{op_id}"

    async def runs() -> int:
        description = await client.get_workflow_handle(workflow_id).describe()
        first = description.raw_description.workflow_execution_info.first_run_id
        return 0 if first == description.run_id else 1

    # Pause once the workflow has continued as new, resume, and let it finish.
    deadline = asyncio.get_running_loop().time() + 180
    while not await runs():
        assert asyncio.get_running_loop().time() < deadline, "never continued as new"
        await asyncio.sleep(0.1)
    reply = api.post(f"/api/v1/operations/{op_id}/pause", headers=admin_headers)
    assert reply.status_code == 200, reply.text
    paused = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, ("paused",), 120)
    assert paused["progress"]["done"] < total, paused
    api.post(f"/api/v1/operations/{op_id}/resume", headers=admin_headers)
    op = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, timeout=300)
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == total and op["result"]["planned"] == total, op["result"]
    seen = source_seqs(await read_all(hub_nc, dst))
    assert sorted(seen) == list(range(1, total + 1)) and set(seen.values()) == {1}

    histories = await run_histories(client, workflow_id)
    assert len(histories) >= 3, f"{len(histories)} runs"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    for history in histories:
        await replayer.replay_workflow(history)
    # A committed history is never re-recorded (tests/workflows/recorded.py): a new one is
    # written only when asked and when none is there yet.
    if os.environ.get("JSC_RECORD_HISTORIES") and not HISTORY.exists():
        HISTORY.write_text(json.dumps(json.loads(histories[0].to_json()), indent=1))


async def test_the_committed_continued_history_replays():
    assert HISTORY.exists(), f"the committed history {HISTORY} is missing: restore it from git"
    history = WorkflowHistory.from_json("recorded-continued", json.loads(HISTORY.read_text()))
    result = await Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure

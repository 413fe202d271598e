"""ReplayWorkflow's determinism: a real run with pause and resume is replayed by Temporal's
replayer, and so is the history recorded from such a run and committed beside this file (and
``tests/workflows/histories/replay_single_input.json``, the version started with one
``ReplayInput``)."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.operations.conftest import fill, make_stream, start_replay, wait_operation
from tests.workflows.recorded import record_new
from workflows.worker import WORKFLOWS

HISTORY = Path(__file__).with_name("histories") / "replay_pause_resume.json"


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)


async def test_a_paused_and_resumed_replay_replays_deterministically(
    api, admin_headers, stack, hub_cluster, hub_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"h-{src}.>"])
    await fill(js, [f"{src}.a"], 12_000)  # two chunks at 2,000/s: the pause falls between them
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 2000,
            "destination": {"stream": dst, "subject_prefix": f"h-{src}"},
        },
    )["id"]
    wait_operation(api, admin_headers, op_id, until=("running",))
    api.post(f"/api/v1/operations/{op_id}/pause", headers=admin_headers)
    wait_operation(api, admin_headers, op_id, until=("paused",), timeout=30)
    api.post(f"/api/v1/operations/{op_id}/resume", headers=admin_headers)
    op = wait_operation(api, admin_headers, op_id, timeout=60)
    assert op["status"] == "completed" and op["result"]["replayed"] == 12_000

    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    history = await client.get_workflow_handle(f"replay-{op_id}").fetch_history()
    await replayer().replay_workflow(history)
    # A committed history is never re-recorded (tests/workflows/recorded.py): the first release's
    # is beside this file; the version started with one ``ReplayInput`` is recorded, when asked,
    # with the other workflows' histories.
    record_new(history, "replay_single_input.json")


async def test_the_committed_replay_history_replays():
    assert HISTORY.exists(), f"the committed history {HISTORY} is missing: restore it from git"
    history = WorkflowHistory.from_json("recorded-replay", json.loads(HISTORY.read_text()))
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure

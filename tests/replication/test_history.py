"""MirrorWorkflow's determinism: a real run's history replays with the current code, and the
first release's history is committed (``tests/workflows/histories/mirror.json``, recorded from
this test once with JSC_RECORD_HISTORIES=1; ``tests/workflows/test_histories.py`` replays it), as is
the one-typed-input version's (``mirror_single_input.json``, what this test records now)."""

from __future__ import annotations

from tests.replication.conftest import (
    fill,
    history_of,
    mirror_body,
    start_mirror,
    target_name,
    wait_operation,
)
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


async def test_a_mirror_run_replays(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a", f"{stream}.b"], 50)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, filter_subjects=[f"{stream}.a"]),
    )
    assert wait_operation(api, admin_headers, started["id"])["status"] == "completed"
    history = await history_of(stack, started["workflow_id"])
    assert await replay_failure(history, WORKFLOWS) is None
    record_new(history, "mirror_single_input.json")

"""FailoverWorkflow's determinism: a real planned failover's history replays with the current
code (the committed ``failover_planned.json`` and ``failover_single_input.json``, the version
started with one ``FailoverInput``, are replayed by ``tests/workflows``; set
JSC_RECORD_HISTORIES=1 to record a new version under a new name)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.fixtures import unique
from tests.replication.failover_setup import (
    drop_streams,
    make_pair,
    start_failover,
    wait_mirrored,
    wait_operation,
)
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


async def test_a_planned_failover_replays(
    api, admin_headers, stack, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, admin_org_id
):
    stream = unique("HIST")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, admin_org_id, hub_cluster["id"], dr_cluster["id"], [stream]
    )
    try:
        await hub_nc.jetstream().publish(f"{stream}.orders", b"x")
        await wait_mirrored(dr_nc, stream, 1)
        started = start_failover(
            api,
            admin_headers,
            {"pair_id": pair.id, "target_cluster_id": dr_cluster["id"], "mode": "planned"},
        )
        op = await wait_operation(api, admin_headers, started["id"])
        assert op["status"] == "completed", op
        client = await Client.connect(
            stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
        )
        history = await client.get_workflow_handle(started["workflow_id"]).fetch_history()
        assert await replay_failure(history, WORKFLOWS) is None
        record_new(history, "failover_single_input.json")
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])

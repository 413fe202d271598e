"""The schedule ``jsc-cluster-health`` keeps every cluster's status current: a cluster nobody
opened reads healthy (or unreachable) in lists, not ``unknown``. The test stack sweeps every 15 s
(JSC_CLUSTER_HEALTH_INTERVAL_S)."""

from __future__ import annotations

import socket

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.cluster_health_schedule import SCHEDULE_ID
from tests.api.orgs import add_cluster, signup
from tests.waiting import wait_until
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


def _closed_port() -> int:
    with socket.socket() as sock:  # a loopback port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_every_cluster_status_is_kept_current(api, stack):
    owner = signup(api)
    live = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    dead = api.post(
        "/api/v1/clusters",
        headers=owner.headers,
        json={
            "name": "gone",
            "environment": "development",
            "server_urls": [f"nats://127.0.0.1:{_closed_port()}"],
        },
    )
    assert dead.status_code == 201, dead.text
    dead = dead.json()

    def statuses():
        items = api.get("/api/v1/clusters", headers=owner.headers).json()["items"]
        return {c["id"]: c["status"] for c in items}

    # only lists are read: nobody opens the clusters' pages or asks their health
    wait_until(
        lambda: statuses() == {live["id"]: "healthy", dead["id"]: "unreachable"},
        "both clusters' statuses from the schedule",
        timeout=240,
    )

    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    description = await client.get_schedule_handle(SCHEDULE_ID).describe()
    assert description.schedule.action.workflow == "ClusterHealthSweepWorkflow"
    runs = [
        r
        async for r in client.list_workflows(
            "WorkflowType = 'ClusterHealthSweepWorkflow' AND ExecutionStatus = 'Completed'"
        )
    ]
    assert runs
    history = await client.get_workflow_handle(runs[0].id, run_id=runs[0].run_id).fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    record_new(history, "cluster_health_sweep.json")

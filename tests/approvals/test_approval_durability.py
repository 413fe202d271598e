"""A request waits across a restart of both the API and the worker: the wait is a Temporal
workflow, not a process. After the restart, an approval still applies the change, and the run's
history replays (the committed ones are replayed by tests/workflows/test_histories.py)."""

from __future__ import annotations

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.approvals.setup import consumer_exists, consumer_path, production_org
from tests.fixtures import unique
from tests.workflows.recorded import record_new
from workflows.worker import WORKFLOWS


def wait_ready(api: httpx.Client) -> None:
    import time

    deadline = time.monotonic() + 60
    while True:
        try:
            if api.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not come back"
        time.sleep(0.3)


async def test_a_waiting_request_survives_api_and_worker_restarts(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    second = org.member("admin", "second")
    stream = unique("DUR")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        asked = api.post(
            consumer_path(org, stream),
            headers=org.admin.headers,
            json={"durable_name": "after-restart"},
        )
        assert asked.status_code == 202, asked.text
        rid = asked.json()["request_id"]

        for name in ("worker", "api"):
            stack.stop_service(name)
        for name in ("worker", "api"):
            stack.start_service(name)
        wait_ready(api)

        assert org.request(rid)["status"] == "waiting_approval"
        approved = org.act(second, rid, "approve", "fine after the restart")
        assert approved.status_code == 200, approved.text
        done = org.wait_status(rid, "executed")
        assert done["result"]["applied"]["name"] == "after-restart"
        assert await consumer_exists(hub_nc, stream, "after-restart")

        client = await Client.connect(
            stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
        )
        operation = api.get(
            f"/api/v1/operations/{asked.json()['operation_id']}", headers=org.admin.headers
        ).json()
        history = await client.get_workflow_handle(operation["workflow_id"]).fetch_history()
        await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(
            history
        )
        record_new(history, "approval_single_input.json")
    finally:
        await hub_nc.jetstream().delete_stream(stream)

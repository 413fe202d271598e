"""No operation or approval request is left without its workflow. The row, the workflow's start
and the audit event commit together (an outbox); a start that could not happen (Temporal down, the
API killed right after the commit) is made by the outbox drainer of whichever API runs, and a
retried POST with the same ``Idempotency-Key`` gets the same operation."""

from __future__ import annotations

from tests.approvals.setup import consumer_exists, consumer_path, production_org
from tests.durability.faults import api_ready, stopped, wait_until
from tests.fixtures import unique
from tests.operations.conftest import fill, make_stream, wait_operation


async def test_a_replay_accepted_while_temporal_is_down_runs_once_it_is_back(
    api, admin_headers, stack, hub_cluster, hub_nc
):
    src, dst = unique("orph-src"), unique("orph-dst")
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"o-{src}.>"])
    await fill(js, [f"{src}.a"], 50)
    body = {
        "cluster_id": hub_cluster["id"],
        "stream": src,
        "destination": {"stream": dst, "subject_prefix": f"o-{src}"},
    }
    key = {**admin_headers, "Idempotency-Key": unique("key")}
    with stopped(stack, "temporal"):
        first = api.post("/api/v1/operations/replay", json=body, headers=key)
        assert first.status_code == 202, first.text
        stack.kill("api")  # and the process that committed it dies: its drainer with it
        wait_until(lambda: api_ready(api), "the API to come back")
        again = api.post("/api/v1/operations/replay", json=body, headers=key)
        assert again.status_code == 202, again.text
        assert again.json()["id"] == first.json()["id"]
    op = wait_operation(api, admin_headers, first.json()["id"], timeout=120)
    assert op["status"] == "completed" and op["result"]["replayed"] == 50, op
    retried = api.post("/api/v1/operations/replay", json=body, headers=key)
    assert retried.json()["id"] == first.json()["id"] and retried.json()["status"] == "completed"
    assert (await js.stream_info(dst)).state.messages == 50  # one replay, not two


async def test_an_approval_request_opened_while_temporal_is_down_still_decides(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    second = org.member("admin", "second")
    stream = unique("ORPH")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        with stopped(stack, "temporal"):
            asked = api.post(
                consumer_path(org, stream),
                headers=org.admin.headers,
                json={"durable_name": "orphan-free"},
            )
            assert asked.status_code == 202, asked.text
        rid, op_id = asked.json()["request_id"], asked.json()["operation_id"]
        wait_until(
            lambda: (
                api.get(f"/api/v1/operations/{op_id}", headers=org.admin.headers).json()["status"]
                == "waiting_approval"
            ),
            "the approval workflow to start",
        )
        approved = org.act(second, rid, "approve", "after the outage")
        assert approved.status_code == 200, approved.text
        org.wait_status(rid, "executed", timeout=60)
        assert await consumer_exists(hub_nc, stream, "orphan-free")
    finally:
        await hub_nc.jetstream().delete_stream(stream)

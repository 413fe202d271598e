"""A production pair's failover is a change like any other: it waits for approval (202
``waiting_approval``), a second admin approves it and it runs; a viewer or an editor cannot start
one (403, ``replication:failover`` is the admins'), and no organization sees another's pair."""

from __future__ import annotations

import uuid

from core.jetstream.api import JetStreamApi
from core.operations import request_operation_id
from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.replication.failover_setup import (
    drop_streams,
    make_pair,
    start_failover,
    steps_of,
    wait_mirrored,
    wait_operation,
)


async def test_a_production_failover_waits_for_approval(
    api, stack, hub_nc, dr_nc, db_sessions, make_member
):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    dr = api.post(
        "/api/v1/clusters",
        headers=org.admin.headers,
        json={
            "name": unique("prod-dr"),
            "environment": "production",
            "server_urls": [stack.env["JSC_DR_URL"]],
            "jetstream_domain": "dr",
        },
    )
    assert dr.status_code == 201, dr.text
    dr_id = dr.json()["id"]
    stream = unique("PRODFO")
    pair = await make_pair(
        hub_nc, dr_nc, db_sessions, org.admin.org_id, org.cluster_id, dr_id, [stream]
    )
    body = {"pair_id": pair.id, "target_cluster_id": dr_id}
    try:
        await hub_nc.jetstream().publish(f"{stream}.orders", b"x")
        await wait_mirrored(dr_nc, stream, 1)
        for role in ("viewer", "editor", "operator"):
            who = org.member(role)
            refused = start_failover(api, who.headers, body, expect=403)
            assert "failover" in refused["detail"], refused
        stranger, _, _ = await make_member("admin", org="new")
        start_failover(api, stranger, body, expect=404)  # another organization's pair

        pending = start_failover(api, org.admin.headers, body)
        assert pending["status"] == "waiting_approval" and pending["request_id"], pending
        assert any("Production Changes" in r for r in pending["reasons"])
        request = org.request(pending["request_id"])
        assert request["spec"]["kind"] == "failover"
        assert request["spec"]["config"]["measured"]["streams"][0]["lag_messages"] == 0
        hub = JetStreamApi(hub_nc, "hub")
        assert (await hub.stream_info(stream))["config"]["subjects"] == [f"{stream}.>"]

        own = org.act(org.admin, pending["request_id"], "approve")
        assert own.status_code == 403  # no self-approval
        second = org.member("admin", "second")
        assert org.act(second, pending["request_id"], "approve").status_code == 200
        org.wait_status(pending["request_id"], "executed", timeout=60)
        op_id = str(request_operation_id(pending["request_id"], "failover"))
        op = await wait_operation(api, org.admin.headers, op_id)
        assert op["status"] == "completed" and op["type"] == "failover", op
        approve = next(s for s in op["progress"]["steps"] if s["name"] == "approve")
        assert approve["status"] == "done" and "change request" in approve["detail"]
        assert steps_of(op)["promote"] == "done"
        assert op["result"]["active_cluster_id"] == dr_id
        assert (await hub.stream_info(stream))["config"]["subjects"] == [f"_JSC_FENCED.{stream}"]
        assert uuid.UUID(op["id"]) == uuid.UUID(op_id)
    finally:
        await drop_streams(hub_nc, [stream])
        await drop_streams(dr_nc, [stream])

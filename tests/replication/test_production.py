"""A mirror into a production cluster is a change like any other: it waits for approval (202
waiting_approval, nothing created), and once another admin approves it runs as its own mirror
operation, started by the approval workflow with the change's config as a plain dict. Removing
it is a production stream delete: it waits as well, and once approved its source consumer goes
with its stream."""

from __future__ import annotations

from core.jetstream.api import JetStreamApi
from tests.api.orgs import signup
from tests.approvals.setup import Org
from tests.fixtures import unique
from tests.replication.conftest import (
    exists,
    fill,
    read_stream,
    target_name,
    wait_operation,
    wait_until,
)


def register(api, admin, url: str, domain: str, environment: str) -> dict:
    reply = api.post(
        "/api/v1/clusters",
        headers=admin.headers,
        json={
            "name": unique(domain),
            "environment": environment,
            "server_urls": [url],
            "jetstream_domain": domain,
        },
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_a_production_mirror_waits_for_approval_then_runs(
    api, stack, hub_nc, dr_nc, source, cleanup
):
    admin = signup(api)  # an organization of its own, with the design's policies seeded
    hub = register(api, admin, stack.env["JSC_HUB_URL"], "hub", "development")
    dr = register(api, admin, stack.env["JSC_DR_URL"], "dr", "production")
    org = Org(api, admin, dr["id"])
    second = org.member("admin", "second")

    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a", f"{stream}.b"], 40)
    target = target_name(cleanup, dr_nc)
    asked = api.post(
        "/api/v1/operations/mirror",
        headers=admin.headers,
        json={
            "source_cluster_id": hub["id"],
            "source_stream": stream,
            "target_cluster_id": dr["id"],
            "target_stream": target,
        },
    )
    assert asked.status_code == 202, asked.text
    pending = asked.json()
    assert pending["status"] == "waiting_approval" and pending["request_id"], pending
    assert target in pending["title"]
    assert not await exists(dr_nc, target)
    assert api.get("/api/v1/mirrors", headers=admin.headers).json()["items"] == []

    approved = org.act(second, pending["request_id"], "approve")
    assert approved.status_code == 200, approved.text
    done = org.wait_status(pending["request_id"], "executed", timeout=60)
    op_id = done["result"]["operation_id"]
    op = wait_until(
        lambda: (
            (r := api.get(f"/api/v1/operations/{op_id}", headers=admin.headers)).status_code == 200
            and r.json()
        ),
        "the mirror operation to exist",
    )
    assert op["type"] == "mirror"
    op = wait_operation(api, admin.headers, op_id)
    assert op["status"] == "completed", op
    [made] = op["result"]["mirrors"]
    assert made["caught_up"] and made["messages_copied"] == 40
    assert await read_stream(dr_nc, target) == await read_stream(hub_nc, stream)
    [row] = api.get("/api/v1/mirrors", headers=admin.headers).json()["items"]
    assert (row["id"], row["state"], row["operation_id"]) == (made["mirror_id"], "active", op_id)

    # removing it is a production stream delete: it waits too, then takes the consumer with it
    consumer = row["consumer_name"]
    asked = api.delete(f"/api/v1/mirrors/{row['id']}", headers=admin.headers)
    assert asked.status_code == 202 and asked.json()["status"] == "waiting_approval", asked.text
    assert await exists(dr_nc, target)
    assert org.act(second, asked.json()["request_id"], "approve").status_code == 200
    org.wait_status(asked.json()["request_id"], "executed", timeout=60)
    assert not await exists(dr_nc, target)
    consumers = [c["name"] for c in await JetStreamApi(hub_nc).consumer_list(stream)]
    assert consumer not in consumers
    removed = api.get(f"/api/v1/mirrors/{row['id']}", headers=admin.headers).json()
    assert removed["state"] == "removed"


async def test_a_pair_with_a_production_standby_makes_its_mirrors_once_approved(
    api, stack, hub_nc, dr_nc, source, cleanup
):
    admin = signup(api)
    hub = register(api, admin, stack.env["JSC_HUB_URL"], "hub", "development")
    dr = register(api, admin, stack.env["JSC_DR_URL"], "dr", "production")
    org = Org(api, admin, dr["id"])
    second = org.member("admin", "second")
    first, other = await source(), await source()
    for stream in (first, other):
        await fill(hub_nc.jetstream(), [f"{stream}.a"], 6)
        cleanup(dr_nc, stream)

    reply = api.post(
        "/api/v1/dr/pairs",
        headers=admin.headers,
        json={
            "name": unique("prod-pair"),
            "primary_cluster_id": hub["id"],
            "standby_cluster_id": dr["id"],
            "streams": [{"stream": first}, {"stream": other}],
        },
    )
    assert reply.status_code == 201, reply.text
    pair = reply.json()
    approval = pair["approval"]
    assert (
        approval["status"] == "waiting_approval"
        and pair["operation_id"] == approval["operation_id"]
    )
    assert not await exists(dr_nc, first) and not await exists(dr_nc, other)

    assert org.act(second, approval["request_id"], "approve").status_code == 200
    done = org.wait_status(approval["request_id"], "executed", timeout=60)
    op = wait_operation(api, admin.headers, done["result"]["operation_id"])
    assert op["status"] == "completed", op
    assert {
        (m["target_stream"], m["caught_up"], m["messages_copied"]) for m in op["result"]["mirrors"]
    } == {(first, True, 6), (other, True, 6)}
    rows = api.get("/api/v1/mirrors", params={"pair_id": pair["id"]}, headers=admin.headers).json()[
        "items"
    ]
    assert {r["target_stream"] for r in rows} == {first, other}

"""DR pairs through the API: creating one makes the missing mirrors in one operation (a standby
stream that already mirrors its stream is not missing; one of that name that is something else
is a refusal, before anything is made), and the pair is read, changed and deleted (its mirrors
stay). Its active side is announced from its creation (the ``jsc_dr_active`` key on both
clusters, as far as they can be reached) and its key is purged when it is deleted."""

from __future__ import annotations

import json

from nats.js.errors import KeyNotFoundError

from core.jetstream.api import JetStreamApi
from core.replication.active_side import BUCKET
from stack.ports import HOST, free_port
from tests.fixtures import register, unique, wait_for_audit
from tests.replication.conftest import fill, read_stream, target_name, wait_operation


def pair_body(hub_cluster, dr_cluster, streams: list[dict], **extra) -> dict:
    return {
        "name": unique("payments-dr"),
        "primary_cluster_id": hub_cluster["id"],
        "standby_cluster_id": dr_cluster["id"],
        "streams": streams,
        **extra,
    }


async def test_a_pair_makes_its_missing_mirrors_in_one_operation(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    js = hub_nc.jetstream()
    orders, refunds, ledger = await source(), await source(), await source()
    for i, stream in enumerate((orders, refunds, ledger)):
        await fill(js, [f"{stream}.x", f"{stream}.y"], 20 + 10 * i)
    ledger_copy = target_name(cleanup, dr_nc)
    refunds_copy = target_name(cleanup, dr_nc)
    cleanup(dr_nc, orders)
    # the ledger is mirrored already, by someone else: it is not missing
    await JetStreamApi(dr_nc).stream_create(
        {
            "name": ledger_copy,
            "mirror": {"name": ledger, "external": {"api": "$JS.hub.API", "deliver": ""}},
        }
    )

    reply = api.post(
        "/api/v1/dr/pairs",
        headers=admin_headers,
        json=pair_body(
            hub_cluster,
            dr_cluster,
            [
                {"stream": orders},
                {"stream": refunds, "mirror_stream": refunds_copy},
                {"stream": ledger, "mirror_stream": ledger_copy},
            ],
            rpo_seconds=2,
            description="payments",
        ),
    )
    assert reply.status_code == 201, reply.text
    pair = reply.json()
    assert pair["operation_id"] and pair["approval"] is None
    assert sorted(pair["missing_mirrors"]) == sorted([orders, refunds_copy])
    assert pair["active_cluster_id"] == hub_cluster["id"]
    assert (pair["rpo_seconds"], pair["rto_seconds"]) == (2, 30)
    assert pair["streams"][0] == {"stream": orders, "mirror_stream": orders}

    op = wait_operation(api, admin_headers, pair["operation_id"])
    assert op["status"] == "completed", op
    made = op["result"]["mirrors"]
    assert {m["target_stream"] for m in made} == {orders, refunds_copy}
    assert all(m["caught_up"] for m in made), made
    assert {m["target_stream"]: m["messages_copied"] for m in made} == {
        orders: 20,
        refunds_copy: 30,
    }
    for stream, copy in ((orders, orders), (refunds, refunds_copy)):
        assert await read_stream(dr_nc, copy) == await read_stream(hub_nc, stream)

    rows = api.get("/api/v1/mirrors", params={"pair_id": pair["id"]}, headers=admin_headers).json()[
        "items"
    ]
    assert {r["target_stream"] for r in rows} == {orders, refunds_copy}
    assert {r["state"] for r in rows} == {"active"}

    read = api.get(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers)
    assert read.status_code == 200 and read.json()["name"] == pair["name"]
    assert pair["id"] in [
        p["id"] for p in api.get("/api/v1/dr/pairs", headers=admin_headers).json()["items"]
    ]
    patched = api.patch(
        f"/api/v1/dr/pairs/{pair['id']}",
        headers=admin_headers,
        json={"rto_seconds": 12, "description": "payments, EU"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["rto_seconds"], patched.json()["rpo_seconds"]) == (12, 2)

    assert api.delete(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers).status_code == 204
    assert api.get(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers).status_code == 404
    kept = [api.get(f"/api/v1/mirrors/{r['id']}", headers=admin_headers).json() for r in rows]
    assert {(m["state"], m["pair_id"]) for m in kept} == {("active", None)}


async def test_a_standby_stream_that_is_not_a_mirror_is_refused_naming_it(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    first, second = await source(), await source()
    cleanup(dr_nc, first)
    taken = target_name(cleanup, dr_nc)
    await dr_nc.jetstream().add_stream(name=taken, subjects=[f"{taken}.>"])
    body = pair_body(
        hub_cluster, dr_cluster, [{"stream": first}, {"stream": second, "mirror_stream": taken}]
    )
    reply = api.post("/api/v1/dr/pairs", headers=admin_headers, json=body)
    assert reply.status_code == 409, reply.text
    assert f"'{taken}'" in reply.json()["detail"] and "not a mirror" in reply.json()["detail"]
    names = [p["name"] for p in api.get("/api/v1/dr/pairs", headers=admin_headers).json()["items"]]
    assert body["name"] not in names
    dr_streams = [s["config"]["name"] for s in await JetStreamApi(dr_nc).stream_list()]
    assert first not in dr_streams
    assert await JetStreamApi(hub_nc).consumer_list(first) == []


async def test_pair_input_is_checked(api, admin_headers, hub_cluster, dr_cluster, source):
    stream = await source()
    same = pair_body(hub_cluster, hub_cluster, [{"stream": stream}])
    reply = api.post("/api/v1/dr/pairs", headers=admin_headers, json=same)
    assert reply.status_code == 422 and "must differ" in reply.json()["detail"], reply.text
    twice = pair_body(hub_cluster, dr_cluster, [{"stream": stream}, {"stream": stream}])
    reply = api.post("/api/v1/dr/pairs", headers=admin_headers, json=twice)
    assert reply.status_code == 422 and "more than once" in reply.json()["detail"], reply.text
    missing = pair_body(hub_cluster, dr_cluster, [{"stream": "NO_SUCH_STREAM"}])
    reply = api.post("/api/v1/dr/pairs", headers=admin_headers, json=missing)
    assert reply.status_code == 404 and "NO_SUCH_STREAM" in reply.json()["detail"], reply.text

    recorded = pair_body(
        hub_cluster, dr_cluster, [{"stream": stream}], create_missing_mirrors=False
    )
    first = api.post("/api/v1/dr/pairs", headers=admin_headers, json=recorded)
    assert first.status_code == 201 and first.json()["operation_id"] is None, first.text
    again = api.post("/api/v1/dr/pairs", headers=admin_headers, json=recorded)
    assert again.status_code == 409 and "already exists" in again.json()["detail"], again.text
    api.delete(f"/api/v1/dr/pairs/{first.json()['id']}", headers=admin_headers)


async def kv_value(nc, pair_id: str) -> dict | None:
    """The pair's value in ``jsc_dr_active`` read as a nats-py client reads it (None: no key)."""
    kv = await nc.jetstream().key_value(BUCKET)
    try:
        entry = await kv.get(pair_id)
    except KeyNotFoundError:  # absent, deleted or purged
        return None
    return json.loads(entry.value)


async def test_a_pair_announces_its_active_side_from_the_start_and_forgets_it(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source
):
    stream = await source()
    reply = api.post(
        "/api/v1/dr/pairs",
        headers=admin_headers,
        json=pair_body(hub_cluster, dr_cluster, [{"stream": stream}], create_missing_mirrors=False),
    )
    assert reply.status_code == 201, reply.text
    pair = reply.json()
    assert pair["announced"] == {hub_cluster["id"]: True, dr_cluster["id"]: True}
    assert pair["announce_errors"] == {}
    for nc in (hub_nc, dr_nc):  # the same first value on both clusters
        value = await kv_value(nc, pair["id"])
        assert value is not None
        assert (value["active_cluster_id"], value["active_domain"], value["epoch"]) == (
            hub_cluster["id"],
            "hub",
            0,
        )
        assert value["streams"] == [stream] and value["pair_name"] == pair["name"]
        assert value["pair_id"] == pair["id"] and value["operation_id"] is None

    # A client following the README starts before any failover: its watch finds the value.
    watcher = await (await dr_nc.jetstream().key_value(BUCKET)).watch(pair["id"])
    try:
        entry = await watcher.updates(timeout=5)
        assert (
            entry is not None and json.loads(entry.value)["active_cluster_id"] == hub_cluster["id"]
        )
    finally:
        await watcher.stop()

    assert api.delete(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers).status_code == 204
    for nc in (hub_nc, dr_nc):
        assert await kv_value(nc, pair["id"]) is None
    event = wait_for_audit(api, admin_headers, action="dr_pair.delete", resource_id=pair["id"])
    assert event["changes"]["active_side_removed"] == {
        hub_cluster["id"]: "removed",
        dr_cluster["id"]: "removed",
    }


async def test_a_pair_whose_standby_is_unreachable_says_where_it_was_announced(
    api, admin_headers, hub_cluster, hub_nc, source
):
    """Nothing listens where the standby is registered: the pair is recorded (it makes no
    mirror), announced on the primary only, and the answer says so."""
    stream = await source()
    gone = register(
        api, admin_headers, f"nats://{HOST}:{free_port()}", name=unique("gone"), domain="gone"
    )
    pair = None
    try:
        body = pair_body(hub_cluster, gone, [{"stream": stream}])
        making = api.post("/api/v1/dr/pairs", headers=admin_headers, json=body)
        assert making.status_code == 503, making.text  # its mirrors need the standby
        reply = api.post(
            "/api/v1/dr/pairs",
            headers=admin_headers,
            json={**body, "create_missing_mirrors": False},
        )
        assert reply.status_code == 201, reply.text
        pair = reply.json()
        assert pair["announced"] == {hub_cluster["id"]: True, gone["id"]: False}
        assert "cannot be reached" in pair["announce_errors"][gone["id"]], pair
        assert list(pair["announce_errors"]) == [gone["id"]]
        value = await kv_value(hub_nc, pair["id"])
        assert value["active_cluster_id"] == hub_cluster["id"] and value["epoch"] == 0

        assert (
            api.delete(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers).status_code == 204
        )
        pair = None
        assert await kv_value(hub_nc, reply.json()["id"]) is None
        event = wait_for_audit(
            api, admin_headers, action="dr_pair.delete", resource_id=reply.json()["id"]
        )
        removed = event["changes"]["active_side_removed"]
        assert removed[hub_cluster["id"]] == "removed" and removed[gone["id"]] != "removed"
    finally:
        if pair is not None:
            api.delete(f"/api/v1/dr/pairs/{pair['id']}", headers=admin_headers)
        api.delete(f"/api/v1/clusters/{gone['id']}", headers=admin_headers)

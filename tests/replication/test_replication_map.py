"""GET /api/v1/replication on the real two-domain stack, outside in.

In an organization of its own (its own registrations of the hub and dr servers, so that other
tests' registrations of the same servers change nothing), on hub a stream ``ORD`` with, around
it: a console-style durable mirror on dr (consumer on hub + ``mirrors`` row + DR pair), a plain
mirror on dr made with nats-py (not the console's), a mirror on dr of a hub stream that does not
exist, and a stream on hub that sources ``ORD``. The map finds them all, counts lag on the source
(paused replication, a stopped dr server), says when a link is broken and when the pair's RPO
cannot be vouched for, recovers after dr restarts, shows another organization none of it, and is
readable with ``replication:read`` only."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from nats.js.api import ExternalStream, StreamConfig, StreamSource

from core.jetstream.api import JetStreamApi
from core.replication.mirrors import pause_consumer, resume_consumer
from tests.fixtures import register, unique
from tests.replication.map_setup import (
    MAP,
    cluster,
    console_mirror,
    dr_pair,
    edge,
    forget_rows,
    pair,
    read_map,
    wait_map,
)

pytestmark = pytest.mark.timeout(600)
FIRST = 20


@pytest.fixture(scope="module")
async def world(api, stack, make_member, db_sessions, hub_nc, dr_nc):
    headers, _, org_id = await make_member("admin", org="new")
    hub_cluster = register(api, headers, stack.env["JSC_HUB_URL"], domain="hub")
    dr_cluster = register(api, headers, stack.env["JSC_DR_URL"], domain="dr", environment="staging")
    tag = uuid.uuid4().hex[:8]
    names = {
        "src": f"ORD_{tag}",
        "subject": f"map{tag}.orders",
        "console": f"ORD_{tag}_DR",
        "foreign": f"ORD_{tag}_PLAIN",
        "ghost": f"GHOST_{tag}",
        "agg": f"AGG_{tag}",
    }
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    await hub.stream_create({"name": names["src"], "subjects": [f"map{tag}.>"]})
    for i in range(FIRST):
        await hub_nc.request(names["subject"], f"order {i}".encode(), timeout=5)
    the_pair = await dr_pair(
        db_sessions,
        org_id,
        hub_cluster,
        dr_cluster,
        unique("map-pair"),
        [{"stream": names["src"], "mirror_stream": names["console"]}],
    )
    row = await console_mirror(
        db_sessions,
        org_id,
        hub,
        dr,
        hub_cluster,
        dr_cluster,
        names["src"],
        names["console"],
        pair_id=the_pair.id,
    )
    dr_js = dr_nc.jetstream(domain="dr")
    await dr_js.add_stream(
        StreamConfig(
            name=names["foreign"],
            mirror=StreamSource(name=names["src"], external=ExternalStream(api="$JS.hub.API")),
        )
    )
    await dr_js.add_stream(
        StreamConfig(
            name=names["ghost"],
            mirror=StreamSource(name=f"NOPE_{tag}", external=ExternalStream(api="$JS.hub.API")),
        )
    )
    await hub.stream_create({"name": names["agg"], "sources": [{"name": names["src"]}]})
    yield {
        "names": names,
        "pair": the_pair,
        "row": row,
        "hub": hub,
        "dr": dr,
        "org_id": org_id,
        "headers": headers,
        "hub_cluster": hub_cluster,
        "dr_cluster": dr_cluster,
    }
    for js, stream in (
        (dr, names["console"]),
        (dr, names["foreign"]),
        (dr, names["ghost"]),
        (hub, names["agg"]),
        (hub, names["src"]),
    ):
        try:
            await js.stream_delete(stream)
        except Exception:  # already gone, or dr not back: nothing else depends on it
            pass
    await forget_rows(db_sessions, row, the_pair)


def in_sync(view: dict, stream: str, last_seq: int) -> bool:
    found = edge(view, stream)
    return bool(
        found
        and found["status"] == "in_sync"
        and found["lag_messages"] == 0
        and found["target_last_seq"] == last_seq
    )


async def test_every_edge_is_found_with_its_source_and_owner(api, world):
    n, admin_headers = world["names"], world["headers"]
    hub_id, dr_id = world["hub_cluster"]["id"], world["dr_cluster"]["id"]
    view = await wait_map(
        api,
        admin_headers,
        "both mirrors and the source in sync",
        lambda v: (
            in_sync(v, n["console"], FIRST)
            and in_sync(v, n["foreign"], FIRST)
            and (edge(v, n["agg"], "source") or {}).get("status") == "in_sync"
        ),
    )

    console = edge(view, n["console"])
    assert console["managed"] is True and console["mirror_id"] == str(world["row"].id)
    assert console["pair_id"] == str(world["pair"].id)
    assert (
        console["source_cluster_id"],
        console["source_domain"],
        console["source_stream"],
        console["target_cluster_id"],
    ) == (hub_id, "hub", n["src"], dr_id)
    assert console["lag_seconds"] == 0 and console["source_last_seq"] == FIRST
    assert console["error"] is None and console["filter_subjects"] == []

    plain = edge(view, n["foreign"])
    assert (plain["managed"], plain["mirror_id"], plain["pair_id"]) == (False, None, None)
    assert (plain["source_cluster_id"], plain["source_domain"], plain["target_cluster_id"]) == (
        hub_id,
        "hub",
        dr_id,
    )

    sourced = edge(view, n["agg"], "source")
    assert (
        sourced["source_cluster_id"],
        sourced["target_cluster_id"],
        sourced["source_stream"],
        sourced["managed"],
        sourced["lag_messages"],
    ) == (hub_id, hub_id, n["src"], False, 0)

    ghost = edge(view, n["ghost"])
    assert ghost["status"] == "error" and "stream not found" in ghost["error"]

    assert cluster(view, hub_id)["reachable"] and cluster(view, dr_id)["reachable"]
    protected = pair(view, world["pair"].id)
    assert (
        protected["rpo_ok"],
        protected["data_at_risk_messages"],
        protected["worst_lag_seconds"],
    ) == (True, 0, 0)
    assert protected["streams"] == [
        {
            "stream": n["src"],
            "mirror_stream": n["console"],
            "status": "in_sync",
            "lag_messages": 0,
            "lag_seconds": 0,
        }
    ]

    # Only what replicates from or to dr: not the source stream inside hub.
    only_dr = read_map(api, admin_headers, cluster_id=dr_id)
    targets = {e["target_stream"] for e in only_dr["edges"]}
    assert {n["console"], n["foreign"], n["ghost"]} <= targets and n["agg"] not in targets
    assert {c["id"] for c in only_dr["clusters"]} == {hub_id, dr_id}
    missing = api.get(MAP, headers=admin_headers, params={"cluster_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert api.get(MAP, headers=admin_headers, params={"cluster_id": "dr"}).status_code == 422


async def test_a_paused_mirror_lags_by_what_the_source_holds(api, world, hub_nc):
    n, row, hub, admin_headers = world["names"], world["row"], world["hub"], world["headers"]
    await pause_consumer(hub, n["src"], row.consumer_name)
    for i in range(5):
        await hub_nc.request(n["subject"], f"while paused {i}".encode(), timeout=5)
    try:
        view = await wait_map(
            api,
            admin_headers,
            "the console mirror paused, 5 behind",
            lambda v: (
                edge(v, n["console"])["status"] == "paused"
                and edge(v, n["console"])["lag_messages"] == 5
            ),
        )
        paused = edge(view, n["console"])
        # The mirror's own lag reads 0 while paused: these come from the source.
        assert paused["lag_seconds"] > 0 and paused["target_last_seq"] == FIRST
        assert paused["source_last_seq"] == FIRST + 5
        assert pair(view, world["pair"].id)["data_at_risk_messages"] == 5
        # The plain mirror of the same source is not paused.
        await wait_map(
            api,
            admin_headers,
            "the plain mirror in sync",
            lambda v: in_sync(v, n["foreign"], FIRST + 5),
        )
    finally:
        await resume_consumer(hub, n["src"], row.consumer_name)
    rates: list = []

    def caught_up(v: dict) -> bool:
        rates.append(edge(v, n["console"])["catch_up_rate_per_s"])
        return in_sync(v, n["console"], FIRST + 5) and any(r and r > 0 for r in rates)

    view = await wait_map(
        api, admin_headers, "the console mirror caught up, with a rate", caught_up
    )
    assert pair(view, world["pair"].id)["rpo_ok"] is True


async def test_a_stopped_dr_server_is_a_broken_link_counted_on_the_source(
    api, admin_headers, world, stack, dr_cluster, hub_nc, dr_nc
):
    n, headers = world["names"], world["headers"]
    hub_id, dr_id = world["hub_cluster"]["id"], world["dr_cluster"]["id"]
    before = await wait_map(
        api,
        headers,
        "both mirrors in sync before dr stops",
        lambda v: in_sync(v, n["console"], FIRST + 5) and in_sync(v, n["foreign"], FIRST + 5),
    )
    assert edge(before, n["console"])["status"] == "in_sync"
    stack.stop_service("dr")
    try:
        for i in range(7):
            await hub_nc.request(n["subject"], f"while dr is down {i}".encode(), timeout=5)
        view = await wait_map(
            api,
            headers,
            "dr down, both mirrors 7 behind",
            lambda v: (
                not cluster(v, dr_id)["reachable"]
                and all(
                    edge(v, s)["status"] == "broken_link" and edge(v, s)["lag_messages"] == 7
                    for s in (n["console"], n["foreign"])
                )
            ),
            timeout=45,
        )
        assert cluster(view, dr_id)["error"] and cluster(view, hub_id)["reachable"]
        console = edge(view, n["console"])
        assert console["target_last_seq"] == FIRST + 5 and console["source_last_seq"] == FIRST + 12
        assert "target cluster cannot be reached" in console["error"]
        assert console["managed"] and console["lag_seconds"] > 0
        plain = edge(view, n["foreign"])
        assert not plain["managed"] and plain["lag_messages"] == 7  # remembered, counted on hub
        at_risk = pair(view, world["pair"].id)
        assert at_risk["rpo_ok"] in (False, None) and at_risk["data_at_risk_messages"] == 7

        for i in range(3):
            await hub_nc.request(n["subject"], f"still down {i}".encode(), timeout=5)
        grown = await wait_map(
            api,
            headers,
            "the lag growing while dr is down",
            lambda v: edge(v, n["console"])["lag_messages"] == 10,
            timeout=45,
        )
        assert edge(grown, n["console"])["lag_seconds"] >= console["lag_seconds"]
        assert pair(grown, world["pair"].id)["data_at_risk_messages"] == 10
    finally:
        stack.start_service("dr")
    total = FIRST + 15
    view = await wait_map(
        api,
        headers,
        "dr back and both mirrors caught up",
        lambda v: (
            cluster(v, dr_id)["reachable"]
            and in_sync(v, n["console"], total)
            and in_sync(v, n["foreign"], total)
        ),
        timeout=120,
    )
    assert pair(view, world["pair"].id)["rpo_ok"] is True
    # The stack is whole again for the tests after this one: the API's pooled dr connections (of
    # this organization and of the session's shared dr registration) and the session's own dr
    # client all answer.
    deadline = time.monotonic() + 120
    while not dr_nc.is_connected:
        assert time.monotonic() < deadline, "the test's dr connection did not come back"
        await asyncio.sleep(0.2)
    assert (await world["dr"].stream_info(n["console"]))["state"]["last_seq"] == total
    for cid, who in ((dr_id, headers), (dr_cluster["id"], admin_headers)):
        streams = api.get(f"/api/v1/clusters/{cid}/streams", headers=who)
        assert streams.status_code == 200, streams.text
    while api.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the stack did not come back ready"
        await asyncio.sleep(0.3)


async def test_another_organization_sees_none_of_it(api, world, make_member, stack):
    n, hub_cluster, dr_cluster = world["names"], world["hub_cluster"], world["dr_cluster"]
    other, _, _ = await make_member("admin", org="new")
    assert read_map(api, other) == {"clusters": [], "edges": [], "pairs": []}
    # The other organization registers the very same dr server: it sees the streams there, but
    # not whose they are, nor the first organization's hub (only the domain it is read through).
    own_dr = register(api, other, stack.env["JSC_DR_URL"], domain="dr")
    reply = api.get(MAP, headers=other)
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert [c["id"] for c in view["clusters"]] == [own_dr["id"]] and view["pairs"] == []
    seen = edge(view, n["console"])
    assert (
        seen["source_cluster_id"],
        seen["source_domain"],
        seen["managed"],
        seen["mirror_id"],
        seen["pair_id"],
        seen["target_cluster_id"],
    ) == (None, "hub", False, None, None, own_dr["id"])
    for secret in (
        hub_cluster["id"],
        hub_cluster["name"],
        dr_cluster["id"],
        str(world["row"].id),
        str(world["pair"].id),
        world["pair"].name,
    ):
        assert secret not in reply.text
    refused = api.get(MAP, headers=other, params={"cluster_id": dr_cluster["id"]})
    assert refused.status_code == 404
    api.delete(f"/api/v1/clusters/{own_dr['id']}", headers=other)


async def test_who_may_read_the_map(api, world, make_member):
    n, admin_headers = world["names"], world["headers"]
    viewer, _, _ = await make_member("viewer", org=world["org_id"])
    assert edge(read_map(api, viewer), n["console"])["managed"] is True
    key = api.post(
        "/api/v1/api-keys",
        headers=admin_headers,
        json={"name": unique("no-replication"), "scopes": ["clusters:read:*"]},
    )
    assert key.status_code == 201, key.text
    refused = api.get(MAP, headers={"X-API-Key": key.json()["key"]})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "replication" in refused.json()["detail"]
    assert api.get(MAP).status_code == 401
    api.delete(f"/api/v1/api-keys/{key.json()['id']}", headers=admin_headers)

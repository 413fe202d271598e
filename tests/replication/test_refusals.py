"""Mirrors the API refuses, before anything is created on any cluster: a source stream or cluster
that does not exist (404), a target name taken (409), and a link that cannot carry the mirror,
found out by a probe through it (409 with the probe's reason): a standalone JetStream server
(domain ``edge``) linked to nothing cannot be mirrored into dr."""

from __future__ import annotations

import uuid

from core.jetstream.api import JetStreamApi
from tests.replication.conftest import fill, mirror_body, target_name


def refused(api, headers, body: dict, status: int) -> dict:
    reply = api.post("/api/v1/operations/mirror", json=body, headers=headers)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    return reply.json()


def mirrors_to(api, headers, cluster_id: str, stream: str) -> list:
    items = api.get("/api/v1/mirrors", params={"cluster_id": cluster_id}, headers=headers).json()[
        "items"
    ]
    return [m for m in items if m["target_stream"] == stream]


async def test_a_missing_source_stream_is_404(
    api, admin_headers, hub_cluster, dr_cluster, dr_nc, cleanup
):
    target = target_name(cleanup, dr_nc)
    problem = refused(
        api, admin_headers, mirror_body(hub_cluster, dr_cluster, "NO_SUCH_STREAM", target), 404
    )
    assert "NO_SUCH_STREAM" in problem["detail"] and "does not exist" in problem["detail"]
    assert mirrors_to(api, admin_headers, dr_cluster["id"], target) == []


async def test_an_unknown_cluster_is_404(api, admin_headers, hub_cluster, source):
    stream = await source()
    body = mirror_body(hub_cluster, {"id": str(uuid.uuid4())}, stream, "X")
    assert "No cluster" in refused(api, admin_headers, body, 404)["detail"]


async def test_a_taken_target_name_is_409(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 3)
    target = target_name(cleanup, dr_nc)
    await dr_nc.jetstream().add_stream(name=target, subjects=[f"{target}.>"])
    problem = refused(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target), 409)
    assert f"'{target}' already exists on cluster '{dr_cluster['name']}'" in problem["detail"]
    consumers = await JetStreamApi(hub_nc).consumer_list(stream)
    assert consumers == []
    assert (await JetStreamApi(dr_nc).stream_info(target))["config"].get("mirror") is None


async def test_a_link_that_cannot_carry_the_mirror_is_409_with_the_probes_reason(
    api, admin_headers, edge_server, edge_cluster, dr_cluster, dr_nc, cleanup
):
    import nats

    edge = await nats.connect(edge_server)
    try:
        stream = "EDGE_ORDERS"
        await edge.jetstream().add_stream(name=stream, subjects=["edge.orders.>"])
        await fill(edge.jetstream(), ["edge.orders.a"], 5)
        target = target_name(cleanup, dr_nc)
        problem = refused(
            api, admin_headers, mirror_body(edge_cluster, dr_cluster, stream, target), 409
        )
        assert problem["reason"] and "$JS.edge.API" in problem["reason"], problem
        assert "cannot carry the mirror" in problem["detail"]
        # nothing on either side, and no mirror recorded
        assert await JetStreamApi(edge, "edge").consumer_list(stream) == []
        assert not [
            s for s in await JetStreamApi(dr_nc).stream_list() if s["config"]["name"] == target
        ]
        assert mirrors_to(api, admin_headers, dr_cluster["id"], target) == []
        operations = api.get(
            "/api/v1/operations",
            params={"type": "mirror", "cluster_id": dr_cluster["id"]},
            headers=admin_headers,
        ).json()["items"]
        assert not [o for o in operations if o["input"]["mirrors"][0]["target_stream"] == target]
    finally:
        await edge.close()


async def test_a_source_without_a_domain_in_another_cluster_is_refused(
    api, admin_headers, stack, dr_cluster, dr_nc, source, cleanup
):
    from tests.fixtures import register, unique

    plain = register(api, admin_headers, stack.env["JSC_HUB_URL"], name=unique("nodomain"))
    try:
        stream = await source()
        target = target_name(cleanup, dr_nc)
        problem = refused(api, admin_headers, mirror_body(plain, dr_cluster, stream, target), 409)
        assert "no JetStream domain registered" in problem["reason"]
    finally:
        api.delete(f"/api/v1/clusters/{plain['id']}", headers=admin_headers)


def test_invalid_requests_name_the_field(api, admin_headers, hub_cluster, dr_cluster):
    body = mirror_body(
        hub_cluster,
        dr_cluster,
        "S",
        "T",
        filter_subjects=["S.a"],
        subject_transforms=[{"src": "S.a", "dest": "x"}],
    )
    problem = refused(api, admin_headers, body, 422)
    assert "either 'filter_subjects' or 'subject_transforms'" in problem["detail"]
    problem = refused(api, admin_headers, mirror_body(hub_cluster, hub_cluster, "S", "S"), 422)
    assert "cannot mirror itself" in problem["detail"]
    problem = refused(
        api, admin_headers, mirror_body(hub_cluster, dr_cluster, "S", "T", start={"seq": 0}), 422
    )
    assert "start" in problem["detail"]

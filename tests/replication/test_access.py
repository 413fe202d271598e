"""Who may do what with mirrors and DR pairs: another organization sees none of them and cannot
use the clusters behind them (404, nothing confirmed); a viewer reads, an operator also pauses and
resumes, an editor also creates; refusals are 403 and audited."""

from __future__ import annotations

import pytest

from tests.fixtures import unique, wait_for_audit
from tests.replication.conftest import (
    fill,
    mirror_body,
    mirror_row,
    start_mirror,
    target_name,
    wait_operation,
)


@pytest.fixture
async def made(api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup):
    """A mirror and a DR pair of the admin's organization."""
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 3)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target))
    wait_operation(api, admin_headers, started["id"])
    pair = api.post(
        "/api/v1/dr/pairs",
        headers=admin_headers,
        json={
            "name": unique("pair"),
            "primary_cluster_id": hub_cluster["id"],
            "standby_cluster_id": dr_cluster["id"],
            "streams": [{"stream": stream, "mirror_stream": target}],
        },
    )
    assert pair.status_code == 201 and pair.json()["operation_id"] is None, pair.text
    yield {
        "stream": stream,
        "target": target,
        "mirror_id": started["mirror_id"],
        "pair_id": pair.json()["id"],
        "op_id": started["id"],
    }
    api.delete(f"/api/v1/dr/pairs/{pair.json()['id']}", headers=admin_headers)


async def test_another_organization_sees_and_uses_nothing_of_ours(
    api, admin_headers, made, make_member, hub_cluster, dr_cluster
):
    other, _, _ = await make_member("admin", org="new")
    mirror, pair = made["mirror_id"], made["pair_id"]
    for method, path in (
        ("GET", f"/api/v1/mirrors/{mirror}"),
        ("POST", f"/api/v1/mirrors/{mirror}/pause"),
        ("POST", f"/api/v1/mirrors/{mirror}/resume"),
        ("DELETE", f"/api/v1/mirrors/{mirror}"),
        ("GET", f"/api/v1/dr/pairs/{pair}"),
        ("PATCH", f"/api/v1/dr/pairs/{pair}"),
        ("DELETE", f"/api/v1/dr/pairs/{pair}"),
        ("GET", f"/api/v1/operations/{made['op_id']}"),
    ):
        reply = api.request(
            method, path, headers=other, json={} if method in ("POST", "PATCH", "DELETE") else None
        )
        assert reply.status_code == 404, (method, path, reply.status_code, reply.text)
    assert api.get("/api/v1/mirrors", headers=other).json()["items"] == []
    assert (
        api.get("/api/v1/mirrors", params={"cluster_id": dr_cluster["id"]}, headers=other).json()[
            "items"
        ]
        == []
    )
    assert api.get("/api/v1/dr/pairs", headers=other).json()["items"] == []

    # our clusters are not theirs to mirror from or to, nor to pair
    body = mirror_body(hub_cluster, dr_cluster, made["stream"], unique("THEIRS"))
    reply = api.post("/api/v1/operations/mirror", headers=other, json=body)
    assert reply.status_code == 404 and "No cluster" in reply.json()["detail"], reply.text
    reply = api.post(
        "/api/v1/dr/pairs",
        headers=other,
        json={
            "name": unique("theirs"),
            "primary_cluster_id": hub_cluster["id"],
            "standby_cluster_id": dr_cluster["id"],
            "streams": [{"stream": made["stream"]}],
        },
    )
    assert reply.status_code == 404, reply.text
    # still ours, untouched
    assert mirror_row(api, admin_headers, mirror)["state"] == "active"
    assert api.get(f"/api/v1/dr/pairs/{pair}", headers=admin_headers).status_code == 200


async def test_roles(
    api, admin_headers, made, make_member, hub_cluster, dr_cluster, dr_nc, cleanup
):
    viewer, _, _ = await make_member("viewer")
    operator, _, _ = await make_member("operator")
    editor, _, _ = await make_member("editor")
    mirror = made["mirror_id"]

    for who in (viewer, operator, editor, admin_headers):
        assert api.get(f"/api/v1/mirrors/{mirror}", headers=who).status_code == 200
        assert api.get(f"/api/v1/dr/pairs/{made['pair_id']}", headers=who).status_code == 200

    body = mirror_body(hub_cluster, dr_cluster, made["stream"], target_name(cleanup, dr_nc))
    for who in (viewer, operator):
        reply = api.post("/api/v1/operations/mirror", headers=who, json=body)
        assert reply.status_code == 403 and "replication" in reply.json()["detail"], reply.text
    reply = api.post(f"/api/v1/mirrors/{mirror}/pause", headers=viewer)
    assert reply.status_code == 403, reply.text
    wait_for_audit(
        api,
        admin_headers,
        action="replication.update",
        status="denied",
        resource_name=f"/api/v1/mirrors/{mirror}/pause",
    )

    reply = api.post(f"/api/v1/mirrors/{mirror}/pause", headers=operator)
    assert reply.status_code == 200 and reply.json()["state"] == "paused", reply.text
    reply = api.post(f"/api/v1/mirrors/{mirror}/resume", headers=operator)
    assert reply.status_code == 200 and reply.json()["state"] == "active", reply.text
    wait_for_audit(api, admin_headers, action="mirror.pause", resource_id=mirror)
    for who in (viewer, operator, editor):
        assert api.delete(f"/api/v1/mirrors/{mirror}", headers=who).status_code == 403
        assert api.delete(f"/api/v1/dr/pairs/{made['pair_id']}", headers=who).status_code == 403

    started = start_mirror(api, editor, body)
    assert wait_operation(api, editor, started["id"])["status"] == "completed"
    assert mirror_row(api, editor, started["mirror_id"])["state"] == "active"

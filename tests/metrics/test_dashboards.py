"""Dashboards: saved per user, private unless shared, clonable; each role and two organizations."""

from __future__ import annotations

from tests.fixtures import wait_for_audit

WIDGET = {
    "title": "Orders in",
    "query": {"metric": "messages_rate", "filters": {"stream": "ORDERS"}, "range": "24h"},
}


async def test_dashboards_per_user_shared_and_cloned(api, make_member, admin_headers):
    alice, alice_id, org = await make_member("editor")
    bob, _, _ = await make_member("member", org=org)
    viewer, _, _ = await make_member("viewer", org=org)
    operator, _, _ = await make_member("operator", org=org)
    stranger, _, _ = await make_member("admin", org="new")

    made = api.post(
        "/api/v1/dashboards", headers=alice, json={"name": "Orders", "widgets": [WIDGET]}
    )
    assert made.status_code == 201, made.text
    board = made.json()
    assert (
        board["owner_id"] == str(alice_id)
        and board["widgets"][0]["query"]["metric"] == "messages_rate"
    )
    wait_for_audit(api, admin_headers, action="dashboard.create", resource_id=board["id"])

    # private: bob (own scope) neither sees nor changes it; the viewer (read *) reads it
    assert board["id"] not in [
        d["id"] for d in api.get("/api/v1/dashboards", headers=bob).json()["items"]
    ]
    assert api.get(f"/api/v1/dashboards/{board['id']}", headers=bob).status_code == 404
    assert api.get(f"/api/v1/dashboards/{board['id']}", headers=viewer).status_code == 200
    assert api.post("/api/v1/dashboards", headers=viewer, json={"name": "x"}).status_code == 403
    assert api.get("/api/v1/dashboards", headers=operator).status_code == 403
    assert api.get(f"/api/v1/dashboards/{board['id']}", headers=stranger).status_code == 404

    shared = api.patch(f"/api/v1/dashboards/{board['id']}", headers=alice, json={"shared": True})
    assert shared.status_code == 200 and shared.json()["shared"] is True
    assert api.get(f"/api/v1/dashboards/{board['id']}", headers=bob).status_code == 200
    assert (
        api.patch(
            f"/api/v1/dashboards/{board['id']}", headers=bob, json={"name": "mine now"}
        ).status_code
        == 404
    )
    clone = api.post(f"/api/v1/dashboards/{board['id']}/clone", headers=bob, json={})
    assert clone.status_code == 201, clone.text
    copy = clone.json()
    assert copy["name"] == "Orders (copy)" and copy["shared"] is False
    assert copy["widgets"] == board["widgets"] and copy["id"] != board["id"]
    assert (
        api.post(f"/api/v1/dashboards/{board['id']}/clone", headers=stranger, json={}).status_code
        == 404
    )

    # an admin of the organization may remove anyone's; the owner's own delete works too
    assert api.delete(f"/api/v1/dashboards/{copy['id']}", headers=alice).status_code == 404
    assert api.delete(f"/api/v1/dashboards/{copy['id']}", headers=bob).status_code == 204
    assert api.delete(f"/api/v1/dashboards/{board['id']}", headers=admin_headers).status_code in (
        204,
        404,
    )


def test_a_widget_must_be_a_known_query(api, admin_headers):
    reply = api.post(
        "/api/v1/dashboards",
        headers=admin_headers,
        json={"name": "bad", "widgets": [{"title": "x", "query": {"metric": "sql: drop table"}}]},
    )
    assert reply.status_code == 422 and "metric" in reply.text

"""Alert rules through the API: each role of an organization, another organization that can
neither see nor touch them (404), every field validated with its name (422), audited changes,
``POST /alerts/test`` storing nothing, snoozing and acknowledging."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures import register, unique, wait_for_audit

ROLES = ("admin", "editor", "viewer", "operator", "member")
CAN = {
    "admin": {"read", "create", "update", "delete"},
    "editor": {"read", "create", "update"},
    "viewer": {"read"},
    "operator": {"read"},
    "member": {"read"},
}


@pytest.fixture
async def org(api, stack, make_member):
    """An organization with the hub registered and a member of each role: (cluster, {role:
    headers}, org id)."""
    admin, _, org_id = await make_member("admin", org="new")
    cluster = register(api, admin, stack.env["JSC_HUB_URL"], name=unique("hub"), domain="hub")
    people = {"admin": admin}
    for role in ROLES[1:]:
        people[role] = (await make_member(role, org=org_id))[0]
    return cluster, people, org_id


def lag_rule(cluster: dict, **extra) -> dict:
    return {
        "name": unique("lag"),
        "kind": "consumer_lag",
        "cluster_id": cluster["id"],
        "stream": "ORDERS",
        "consumer": "billing",
        "threshold": 100,
        "for": "5m",
        **extra,
    }


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_does_what_it_may(api, org, role):
    cluster, people, _ = org
    me = people[role]
    theirs = api.post("/api/v1/alerts/rules", headers=people["admin"], json=lag_rule(cluster))
    assert theirs.status_code == 201, theirs.text
    rid = theirs.json()["id"]

    listed = api.get("/api/v1/alerts/rules", headers=me)
    assert listed.status_code == 200 and rid in [r["id"] for r in listed.json()["items"]]
    assert api.get(f"/api/v1/alerts/rules/{rid}", headers=me).status_code == 200

    created = api.post("/api/v1/alerts/rules", headers=me, json=lag_rule(cluster))
    assert created.status_code == (201 if "create" in CAN[role] else 403), created.text
    changed = api.patch(f"/api/v1/alerts/rules/{rid}", headers=me, json={"threshold": 250})
    assert changed.status_code == (200 if "update" in CAN[role] else 403), changed.text
    snoozed = api.post(f"/api/v1/alerts/rules/{rid}/snooze", headers=me, json={"for": "1h"})
    assert snoozed.status_code == (200 if "update" in CAN[role] else 403), snoozed.text
    deleted = api.delete(f"/api/v1/alerts/rules/{rid}", headers=me)
    assert deleted.status_code == (204 if "delete" in CAN[role] else 403), deleted.text


async def test_a_rule_round_trip_is_audited(api, org):
    cluster, people, _ = org
    admin = people["admin"]
    body = lag_rule(cluster, channels=["in_app"], severity="critical", cooldown="30m")
    created = api.post("/api/v1/alerts/rules", headers=admin, json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert {
        k: rule[k]
        for k in (
            "kind",
            "stream",
            "consumer",
            "threshold",
            "for",
            "cooldown",
            "severity",
            "channels",
            "enabled",
        )
    } == {
        "kind": "consumer_lag",
        "stream": "ORDERS",
        "consumer": "billing",
        "threshold": 100,
        "for": "5m",
        "cooldown": "30m",
        "severity": "critical",
        "channels": ["in_app"],
        "enabled": True,
    }
    assert rule["state"]["status"] == "ok"
    wait_for_audit(api, admin, action="alert_rule.create", resource_id=rule["id"])

    changed = api.patch(
        f"/api/v1/alerts/rules/{rule['id']}",
        headers=admin,
        json={"threshold": 500, "for": "10m", "enabled": False},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["threshold"], changed.json()["for"], changed.json()["enabled"]) == (
        500,
        "10m",
        False,
    )
    record = wait_for_audit(api, admin, action="alert_rule.update", resource_id=rule["id"])
    assert record["changes"]["before"]["threshold"] == 100

    snoozed = api.post(
        f"/api/v1/alerts/rules/{rule['id']}/snooze", headers=admin, json={"for": "1h"}
    )
    assert snoozed.status_code == 200 and snoozed.json()["state"]["snoozed_until"], snoozed.text
    wait_for_audit(api, admin, action="alert_rule.snooze", resource_id=rule["id"])

    # another kind: the targets of the old one are not carried over
    rekind = api.patch(
        f"/api/v1/alerts/rules/{rule['id']}",
        headers=admin,
        json={"kind": "storage_pct", "stream": "ORDERS", "threshold": 90},
    )
    assert rekind.status_code == 200 and rekind.json()["consumer"] is None, rekind.text

    assert api.delete(f"/api/v1/alerts/rules/{rule['id']}", headers=admin).status_code == 204
    wait_for_audit(api, admin, action="alert_rule.delete", resource_id=rule["id"])
    assert api.get(f"/api/v1/alerts/rules/{rule['id']}", headers=admin).status_code == 404


async def test_another_organization_sees_and_touches_nothing(api, org, stack, make_member):
    cluster, people, _ = org
    rule = api.post("/api/v1/alerts/rules", headers=people["admin"], json=lag_rule(cluster)).json()
    stranger, _, _ = await make_member("admin", org="new")
    mine = register(api, stranger, stack.env["JSC_HUB_URL"], name=unique("hub"), domain="hub")
    rid = rule["id"]
    assert rid not in [
        r["id"] for r in api.get("/api/v1/alerts/rules", headers=stranger).json()["items"]
    ]
    for reply in (
        api.get(f"/api/v1/alerts/rules/{rid}", headers=stranger),
        api.patch(f"/api/v1/alerts/rules/{rid}", headers=stranger, json={"threshold": 1}),
        api.post(f"/api/v1/alerts/rules/{rid}/snooze", headers=stranger, json={"for": "1h"}),
        api.post(f"/api/v1/alerts/rules/{rid}/acknowledge", headers=stranger),
        api.post("/api/v1/alerts/test", headers=stranger, json={"rule_id": rid}),
        api.delete(f"/api/v1/alerts/rules/{rid}", headers=stranger),
        # a rule on the other organization's cluster: 404 before anything else
        api.post("/api/v1/alerts/rules", headers=stranger, json=lag_rule(cluster, threshold=-5)),
        api.patch(
            f"/api/v1/alerts/rules/{rid}", headers=people["admin"], json={"cluster_id": mine["id"]}
        ),
    ):
        assert reply.status_code == 404, reply.text
    assert (
        api.get(f"/api/v1/alerts/rules/{rid}", headers=people["admin"]).json()["threshold"] == 100
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "nope"}, "kind"),
        ({"threshold": "lots"}, "threshold"),
        ({"threshold": -1}, "threshold"),
        ({"for": "5 minutes"}, "for"),
        ({"for": "30d"}, "for"),
        ({"cooldown": "soon"}, "cooldown"),
        ({"severity": "dire"}, "severity"),
        ({"channels": ["email"]}, "channels"),
        ({"channels": [f"webhook:{uuid.uuid4()}"]}, "channels"),
        ({"consumer": None}, "consumer"),
        ({"stream": "has space"}, "stream"),
        ({"name": ""}, "name"),
        ({"cluster_id": None}, "cluster_id"),
        ({"team_id": str(uuid.uuid4())}, "team_id"),
        ({"kind": "storage_pct", "threshold": 150}, "threshold"),
        ({"kind": "stream_idle", "consumer": None, "for": "0s"}, "for"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_rules_name_the_field(api, org, change, field):
    cluster, people, _ = org
    body = {k: v for k, v in {**lag_rule(cluster), **change}.items() if v is not None}
    if "team_id" in change:  # a team that does not exist is a 404 only once the rule is valid
        body = {**body, "kind": "server_health", "threshold": 0}
        body.pop("stream"), body.pop("consumer")
    reply = api.post("/api/v1/alerts/rules", headers=people["admin"], json=body)
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert problem["detail"].startswith("Invalid input:")


async def test_the_test_route_evaluates_without_storing(api, org):
    cluster, people, _ = org
    admin = people["admin"]
    body = {**lag_rule(cluster), "for": "0s"}
    del body["name"]
    body["name"] = "never stored"
    reply = api.post("/api/v1/alerts/test", headers=people["viewer"], json={"rule": body})
    assert reply.status_code == 200, reply.text
    got = reply.json()
    assert got["threshold"] == 100 and got["would_fire"] is False and got["known"] is False
    assert "no recent samples" in got["detail"]
    names = [r["name"] for r in api.get("/api/v1/alerts/rules", headers=admin).json()["items"]]
    assert "never stored" not in names
    both = api.post(
        "/api/v1/alerts/test", headers=admin, json={"rule": body, "rule_id": str(uuid.uuid4())}
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "rule_id"


async def test_events_are_scoped_and_filters_validated(api, org):
    _, people, _ = org
    reply = api.get("/api/v1/alerts/events", headers=people["member"])
    assert reply.status_code == 200 and reply.json()["items"] == [], reply.text
    for params, field in (
        ({"status": "exploded"}, "status"),
        ({"limit": 0}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"rule_id": "x"}, "rule_id"),
    ):
        bad = api.get("/api/v1/alerts/events", headers=people["admin"], params=params)
        assert bad.status_code == 422 and field in bad.json()["detail"], bad.text
    missing = api.post(
        f"/api/v1/alerts/events/{uuid.uuid4()}/acknowledge", headers=people["editor"]
    )
    assert missing.status_code == 404, missing.text

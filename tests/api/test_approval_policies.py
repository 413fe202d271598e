"""Approval policies through the API: seeded for every organization, versioned on change, managed
by admins only, invisible to another organization."""

from __future__ import annotations

from tests.api.orgs import invite, random_id, signup
from tests.fixtures import unique

BASE = "/api/v1/approval-policies"
SEEDED = ["Large Quota Requests", "Production Changes", "Development Self-Service"]


def _policy(name: str, **extra) -> dict:
    return {
        "name": name,
        "priority": 50,
        "description": "test policy",
        "triggers": {"environments": ["production"], "kinds": ["stream"]},
        "groups": [{"name": "Admins", "count": 1, "roles": ["admin"]}],
        "sla_hours": 2,
        **extra,
    }


def test_seeded_policies_are_listed_for_the_admins_organization(api, admin_headers):
    reply = api.get(BASE, headers=admin_headers)
    assert reply.status_code == 200, reply.text
    names = [p["name"] for p in reply.json()["items"]]
    assert [n for n in names if n in SEEDED] == SEEDED  # ordered by priority
    first = reply.json()["items"][names.index("Large Quota Requests")]
    assert first["version"] == 1 and first["is_current"]
    assert first["definition"]["groups"][0]["roles"] == ["admin"]


def test_a_new_organization_starts_with_the_seed_policies(api):
    owner = signup(api)
    items = api.get(BASE, headers=owner.headers).json()["items"]
    assert [p["name"] for p in items] == SEEDED


def test_create_read_update_versions_delete(api):
    owner = signup(api)
    h = owner.headers
    created = api.post(BASE, headers=h, json=_policy("Prod streams"))
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["version"] == 1 and policy["definition"]["triggers"]["kinds"] == ["stream"]
    pid = policy["id"]
    assert api.get(f"{BASE}/{pid}", headers=h).json()["name"] == "Prod streams"

    updated = api.patch(
        f"{BASE}/{pid}", headers=h, json={"priority": 5, "triggers": {"environments": ["staging"]}}
    )
    assert updated.status_code == 200, updated.text
    v2 = updated.json()
    assert v2["id"] == pid and v2["version"] == 2 and v2["priority"] == 5
    assert v2["definition"]["triggers"] == {
        **policy["definition"]["triggers"],
        "environments": ["staging"],
    }  # merged
    assert v2["definition"]["sla_hours"] == 2  # kept
    versions = api.get(f"{BASE}/{pid}/versions", headers=h).json()["items"]
    assert [(v["version"], v["is_current"], v["priority"]) for v in versions] == [
        (2, True, 5),
        (1, False, 50),
    ]
    assert versions[1]["definition"] == policy["definition"]  # version 1 kept as it was
    listed = api.get(BASE, headers=h).json()["items"]
    assert [p["name"] for p in listed][0] == "Prod streams"  # priority 5 comes first
    assert sum(p["id"] == pid for p in listed) == 1

    assert api.delete(f"{BASE}/{pid}", headers=h).status_code == 204
    assert api.get(f"{BASE}/{pid}", headers=h).status_code == 404
    assert api.get(f"{BASE}/{pid}/versions", headers=h).status_code == 404
    assert all(p["id"] != pid for p in api.get(BASE, headers=h).json()["items"])


def test_invalid_definitions_are_422_naming_the_field(api):
    owner = signup(api)
    h = owner.headers
    bad = api.post(
        BASE, headers=h, json=_policy(unique("bad"), triggers={"environments": ["moon"]})
    )
    assert bad.status_code == 422 and "triggers.environments" in bad.json()["detail"], bad.text
    extra = api.post(BASE, headers=h, json=_policy(unique("bad"), colour="red"))
    assert extra.status_code == 422 and "colour" in extra.json()["detail"], extra.text
    pid = api.post(BASE, headers=h, json=_policy(unique("ok"))).json()["id"]
    patch = api.patch(f"{BASE}/{pid}", headers=h, json={"groups": [{"name": "g", "count": 0}]})
    assert patch.status_code == 422 and "groups.0.count" in patch.json()["detail"], patch.text
    assert [v["version"] for v in api.get(f"{BASE}/{pid}/versions", headers=h).json()["items"]] == [
        1
    ]


def test_duplicate_name_is_409(api):
    owner = signup(api)
    h = owner.headers
    again = api.post(BASE, headers=h, json=_policy("Production Changes"))
    assert again.status_code == 409 and "Production Changes" in again.json()["detail"]
    pid = api.post(BASE, headers=h, json=_policy(unique("mine"))).json()["id"]
    rename = api.patch(f"{BASE}/{pid}", headers=h, json={"name": "Production Changes"})
    assert rename.status_code == 409, rename.text


def test_viewer_cannot_create_and_another_organization_sees_404(api):
    owner = signup(api)
    viewer = invite(api, owner, "viewer")
    assert api.post(BASE, headers=viewer.headers, json=_policy(unique("v"))).status_code == 403
    pid = api.get(BASE, headers=owner.headers).json()["items"][0]["id"]
    assert (
        api.patch(f"{BASE}/{pid}", headers=viewer.headers, json={"priority": 1}).status_code == 403
    )
    assert api.delete(f"{BASE}/{pid}", headers=viewer.headers).status_code == 403
    other = signup(api)
    assert api.get(f"{BASE}/{pid}", headers=other.headers).status_code == 404
    assert (
        api.patch(f"{BASE}/{pid}", headers=other.headers, json={"priority": 1}).status_code == 404
    )
    assert api.delete(f"{BASE}/{pid}", headers=other.headers).status_code == 404
    assert api.get(f"{BASE}/{random_id()}", headers=owner.headers).status_code == 404
    assert api.get(f"{BASE}/{pid}", headers=owner.headers).status_code == 200

"""Who may approve, and which environment a change is judged in, do not depend on names anyone can
change (issue 10, part C2), outside-in through the HTTP API against the real stack, each test in
organizations of its own (signed up through the API, so the design's three policies are seeded):

- renaming a role to ``team_lead`` or a team to ``platform``/``finance`` grants no approval power,
  and renaming the real ones keeps it (policies refer to roles and teams by id, shown by name);
- one server registered twice (development and production, as the demo does) is judged by the
  strictest environment of its registrations, whichever registration a change goes through, and
  so is a registration that addresses that server's JetStream domain through another server.
"""

from __future__ import annotations

import pytest

from core.policy import GB
from tests.api.orgs import Account, invite, signup
from tests.approvals.setup import Org, consumer_path, production_org
from tests.fixtures import unique, wait_for_audit


def rename(org: Org, kind: str, ref: str, name: str) -> None:
    reply = org.api.patch(f"/api/v1/{kind}/{ref}", headers=org.admin.headers, json={"name": name})
    assert reply.status_code == 200, reply.text


def voting_role(org: Org, name: str) -> dict:
    reply = org.api.post(
        "/api/v1/roles",
        headers=org.admin.headers,
        json={
            "name": name,
            "permissions": ["operations:read:*", "approvals:vote:*", "teams:read:*"],
        },
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def ask_for_consumer(org: Org, who: Account, stream: str, cluster_id: str | None = None) -> dict:
    path = (
        consumer_path(org, stream)
        if cluster_id is None
        else f"/api/v1/clusters/{cluster_id}/streams/{stream}/consumers"
    )
    reply = org.api.post(
        path, headers=who.headers, json={"durable_name": unique("c"), "ack_policy": "explicit"}
    )
    assert reply.status_code == 202, reply.text
    return reply.json()


def ask_for_storage(org: Org, who: Account, team: dict, limit: int) -> dict:
    reply = org.api.post(
        "/api/v1/quota-requests",
        headers=who.headers,
        json={
            "team_id": team["id"],
            "resource": "storage_bytes",
            "requested_limit": limit,
            "justification": "a year of payment events",
        },
    )
    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "waiting_approval", reply.text
    return reply.json()


def policy_named(org: Org, name: str) -> dict:
    items = org.api.get("/api/v1/approval-policies", headers=org.admin.headers).json()["items"]
    return next(p for p in items if p["name"] == name)


def resave(org: Org, name: str) -> dict:
    """An admin gives the seeded policy's groups again (a new version binds the names given)."""
    policy = policy_named(org, name)
    groups = [
        {k: v for k, v in g.items() if k not in ("role_ids", "team_ids")}
        for g in policy["definition"]["groups"]
    ]
    reply = org.api.patch(
        f"/api/v1/approval-policies/{policy['id']}",
        headers=org.admin.headers,
        json={"groups": groups},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def edit_sla(org: Org, name: str, hours: int) -> dict:
    policy = policy_named(org, name)
    reply = org.api.patch(
        f"/api/v1/approval-policies/{policy['id']}",
        headers=org.admin.headers,
        json={"sla_hours": hours},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture
async def prod(api, stack, hub_nc):
    """An organization with the hub registered as production, a stream on it, and a team with a
    namespace and a storage quota (for quota requests that reach the Finance step)."""
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.stream = unique("APPROVERS")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"])
    org.editor = org.member("editor")
    org.dev = org.member("member", "dev")
    org.payments = org.team(unique("payments"), [org.dev], prefix=unique("pay").lower() + "-")
    limits = api.put(
        f"/api/v1/teams/{org.payments['id']}/quotas",
        headers=org.admin.headers,
        json={"limits": {"storage_bytes": 400 * GB}},
    )
    assert limits.status_code == 200, limits.text
    yield org
    await js.delete_stream(org.stream)


# --- approvers by id ---------------------------------------------------------------------------


def test_renaming_a_role_to_team_lead_or_a_team_to_platform_or_finance_grants_nothing(prod):
    org = prod
    waiting = ask_for_consumer(org, org.editor, org.stream)["request_id"]
    group = org.request(waiting)["current_group"]
    assert group["roles"] == ["admin", "team_lead"] and group["teams"] == ["platform"]

    # A role renamed team_lead: its holder is no team lead of the policy's.
    ops = voting_role(org, unique("ops").lower())
    climber = invite(org.api, org.admin, ops["name"])
    rename(org, "roles", ops["id"], "team_lead")
    refused = org.act(climber, waiting, "approve")
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "does not qualify" in refused.json()["detail"]
    assert org.request(waiting, climber)["can_vote"] is False
    wait_for_audit(
        org.api,
        org.admin.headers,
        action="approvals.vote",
        status="denied",
        user_email=climber.email,
    )

    # A team renamed platform is not the policy's platform team.
    insider = org.member("viewer", "insider")
    renamed = org.team(unique("crew"), [insider])
    rename(org, "teams", renamed["id"], "platform")
    assert org.act(insider, waiting, "approve").status_code == 403
    assert org.request(waiting, insider)["can_vote"] is False
    listed = org.api.get(
        "/api/v1/approvals", params={"waiting_for_me": "true"}, headers=insider.headers
    ).json()["items"]
    assert waiting not in [a["id"] for a in listed]
    assert org.request(waiting)["votes"] == []

    # An admin's later edit of something else in the policy does not bind the renamed ones.
    edited = edit_sla(org, "Production Changes", 6)["definition"]["groups"][0]
    assert edited["role_ids"] == ["admin", ""] and edited["team_ids"] == [""]
    later = ask_for_consumer(org, org.editor, org.stream)["request_id"]
    assert org.act(climber, later, "approve").status_code == 403
    assert org.act(insider, later, "approve").status_code == 403

    # Finance: a quota request costing over $500/month has a Finance step after Platform Admin;
    # a member of a team renamed finance is not Finance.
    accountant = org.member("viewer", "accountant")
    counting = org.team(unique("counting"), [accountant])
    big = ask_for_storage(org, org.dev, org.payments, 4000 * GB)["request_id"]
    assert org.act(org.admin, big, "approve").status_code == 200
    at_finance = org.wait_status(big, "waiting_approval")
    assert at_finance["current_group"]["name"] == "Finance", at_finance
    rename(org, "teams", counting["id"], "finance")
    refused = org.act(accountant, big, "approve")
    assert refused.status_code == 403, refused.text
    assert org.request(big)["status"] == "waiting_approval"


def test_renaming_the_real_team_lead_role_and_platform_and_finance_teams_keeps_their_power(prod):
    org = prod
    lead_role = voting_role(org, "team_lead")
    lead = invite(org.api, org.admin, "team_lead")
    engineer, accountant = org.member("viewer", "engineer"), org.member("viewer", "accountant")
    platform = org.team("platform", [engineer])
    finance = org.team("finance", [accountant])
    # The seeded policies named them before they existed: saving them again binds them.
    production = resave(org, "Production Changes")
    assert production["definition"]["groups"][0]["role_ids"] == ["admin", lead_role["id"]]
    assert production["definition"]["groups"][0]["team_ids"] == [platform["id"]]
    resave(org, "Large Quota Requests")

    rename(org, "roles", lead_role["id"], "leads")
    rename(org, "teams", platform["id"], "platform-engineering")
    rename(org, "teams", finance["id"], "treasury")
    shown = policy_named(org, "Production Changes")["definition"]["groups"][0]
    assert shown["roles"] == ["admin", "leads"] and shown["teams"] == ["platform-engineering"]

    by_lead = ask_for_consumer(org, org.editor, org.stream)["request_id"]
    assert org.request(by_lead, lead)["can_vote"] is True
    assert org.request(by_lead)["current_group"]["roles"] == ["admin", "leads"]
    approved = org.act(lead, by_lead, "approve")
    assert approved.status_code == 200, approved.text
    org.wait_status(by_lead, "executed")

    by_platform = ask_for_consumer(org, org.editor, org.stream)["request_id"]
    approved = org.act(engineer, by_platform, "approve")
    assert approved.status_code == 200, approved.text
    org.wait_status(by_platform, "executed")

    big = ask_for_storage(org, org.dev, org.payments, 4000 * GB)["request_id"]
    assert org.act(org.admin, big, "approve").status_code == 200
    at_finance = org.wait_status(big, "waiting_approval")
    assert at_finance["current_group"]["teams"] == ["treasury"], at_finance
    approved = org.act(accountant, big, "approve")
    assert approved.status_code == 200, approved.text
    org.wait_status(big, "executed")


# --- one server, however many registrations ----------------------------------------------------


def register(org: Org, url: str, environment: str, domain: str = "hub") -> str:
    reply = org.api.post(
        "/api/v1/clusters",
        headers=org.admin.headers,
        json={
            "name": unique(environment[:3]),
            "environment": environment,
            "server_urls": [url],
            "jetstream_domain": domain,
        },
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def test_a_change_through_the_development_registration_waits_like_production(prod, stack):
    org = prod
    dev = register(org, stack.env["JSC_HUB_URL"], "development")  # as the demo does
    pending = ask_for_consumer(org, org.editor, org.stream, cluster_id=dev)
    request = org.request(pending["request_id"])
    assert request["environment"] == "production"
    assert request["decision"]["policy"]["name"] == "Production Changes"
    assert request["current_group"]["roles"] == ["admin", "team_lead"]
    # Deleting a stream there is a production change too.
    gone = org.api.delete(f"/api/v1/clusters/{dev}/streams/{org.stream}", headers=org.admin.headers)
    assert gone.status_code in (202, 403), gone.text  # waits for approval, or refused outright
    assert (
        org.api.get(
            f"/api/v1/clusters/{org.cluster_id}/streams/{org.stream}", headers=org.admin.headers
        ).status_code
        == 200
    )
    approved = org.act(org.admin, pending["request_id"], "approve")
    assert approved.status_code == 200, approved.text
    org.wait_status(pending["request_id"], "executed")


async def test_the_dr_server_addressing_the_hub_domain_is_judged_as_the_hub(prod, stack, hub_nc):
    """The dr server reaches hub's JetStream API (``$JS.hub.API``) over its leafnode: a
    registration of dr with domain ``hub`` acts on hub's streams, so it is judged as hub."""
    org = prod
    through_dr = register(org, stack.env["JSC_DR_URL"], "development", domain="hub")
    reply = org.api.post(
        f"/api/v1/clusters/{through_dr}/streams/{org.stream}/consumers",
        headers=org.editor.headers,
        json={"durable_name": unique("c"), "ack_policy": "explicit"},
    )
    assert reply.status_code in (202, 503), reply.text  # waits, or hub's answer cannot come back
    if reply.status_code == 202:
        assert org.request(reply.json()["request_id"])["environment"] == "production"
    assert (await hub_nc.jetstream().stream_info(org.stream)).state.consumer_count == 0


async def test_a_registration_moved_to_another_server_is_judged_by_where_it_points_now(
    api, stack, hub_nc
):
    """A production registration of dr, identified, then pointed at hub (under another spelling of
    its URL): hub's development registration is judged as production from then on."""
    admin = signup(api)
    org = Org(
        api,
        admin,
        register(Org(api, admin, ""), stack.env["JSC_DR_URL"], "production", domain="dr"),
    )
    stream = unique("MOVED")
    js = hub_nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        editor = org.member("editor")
        dev = register(org, stack.env["JSC_HUB_URL"], "development")
        path = f"/api/v1/clusters/{dev}/streams/{stream}/consumers"
        first = api.post(
            path,
            headers=editor.headers,
            json={"durable_name": "c-before", "ack_policy": "explicit"},
        )
        assert first.status_code == 201, first.text  # hub has no production registration yet
        moved = api.patch(
            f"/api/v1/clusters/{org.cluster_id}",
            headers=admin.headers,
            json={
                "server_urls": [stack.env["JSC_HUB_URL"].replace("127.0.0.1", "localhost")],
                "jetstream_domain": "hub",
            },
        )
        assert moved.status_code == 200, moved.text
        second = api.post(
            path, headers=editor.headers, json={"durable_name": "c-after", "ack_policy": "explicit"}
        )
        assert second.status_code == 202, second.text
        assert org.request(second.json()["request_id"])["environment"] == "production"
    finally:
        await js.delete_stream(stream)

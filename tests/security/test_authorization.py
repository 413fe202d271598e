"""Authorization holes of issue 10 (part C), outside-in through the HTTP API against the real stack:
each test in organizations of its own (signed up through the API, so the design's policies are
seeded), with the built-in roles, custom roles and API keys with narrow scopes.

- only a key's owner rotates it (and sees the new secret); an admin revokes it;
- deciding on a change request needs ``approvals:vote``, and a key votes only if its scopes say so;
- a ``Nats-Rollup`` header is a purge (``streams:purge`` and the purge policy), ``KV-Operation``
  is refused;
- nobody acts on a member who holds more than they do;
- policies refer to roles and teams by id: a rename grants no approval power;
- one server registered under two environments is judged by the strictest.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from core.rbac import BUILTIN_ROLES
from tests.api.orgs import Account, add_team, invite, signup
from tests.approvals.setup import Org, consumer_path, production_org
from tests.fixtures import unique, wait_for_audit


def make_key(api, who: Account, scopes: list[str]) -> dict:
    reply = api.post(
        "/api/v1/api-keys", headers=who.headers, json={"name": unique("key"), "scopes": scopes}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def key_headers(key: dict) -> dict[str, str]:
    return {"X-API-Key": key["key"]}


def custom_role(api, admin: Account, permissions: list[str], name: str | None = None) -> dict:
    reply = api.post(
        "/api/v1/roles",
        headers=admin.headers,
        json={"name": name or unique("role").lower(), "permissions": permissions},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def ask_for_consumer(org: Org, who: Account, stream: str, name: str) -> dict:
    reply = org.api.post(
        consumer_path(org, stream),
        headers=who.headers,
        json={"durable_name": name, "ack_policy": "explicit"},
    )
    assert reply.status_code == 202, reply.text
    return reply.json()


@pytest.fixture
async def prod(api, stack, hub_nc):
    """An organization with the hub registered as production and a stream on it."""
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.stream = unique("AUTHZ")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"])
    yield org
    await js.delete_stream(org.stream)


# --- API keys ----------------------------------------------------------------------------------


def test_only_the_owner_rotates_a_key_and_an_admin_revokes_it(api):
    admin = signup(api)
    member = invite(api, admin, "member")
    key = make_key(api, member, ["operations:read:*"])
    path = f"/api/v1/api-keys/{key['id']}"

    rotated = api.post(f"{path}/rotate", headers=admin.headers)
    assert rotated.status_code == 403, rotated.text
    assert "key" not in rotated.json() and "owner" in rotated.json()["detail"]
    assert rotated.headers["content-type"].startswith("application/problem+json")
    assert api.get("/api/v1/operations", headers=key_headers(key)).status_code == 200  # still works
    wait_for_audit(
        api, admin.headers, action="api_keys.update", status="denied", user_email=admin.email
    )

    stranger = signup(api)  # another organization's admin does not even see it
    assert api.post(f"{path}/rotate", headers=stranger.headers).status_code == 404
    assert api.delete(path, headers=stranger.headers).status_code == 404

    own = api.post(f"{path}/rotate", headers=member.headers)
    assert own.status_code == 200 and own.json()["key"].startswith("jsc_")
    assert api.get("/api/v1/operations", headers=key_headers(key)).status_code == 401
    assert api.get("/api/v1/operations", headers=key_headers(own.json())).status_code == 200

    assert api.delete(path, headers=admin.headers).status_code == 204  # an admin revokes it
    assert api.get("/api/v1/operations", headers=key_headers(own.json())).status_code == 401


# --- votes -------------------------------------------------------------------------------------


async def test_voting_needs_the_vote_permission_and_a_key_scoped_for_it(prod):
    api = prod.api
    editor, approver = prod.member("editor"), prod.member("admin", "approver")
    pending = ask_for_consumer(prod, editor, prod.stream, "c-vote")
    rid = pending["request_id"]

    reader_key = make_key(api, approver, ["operations:read:*"])  # an admin's read-only key
    refused = api.post(f"/api/v1/approvals/{rid}/approve", headers=key_headers(reader_key), json={})
    assert refused.status_code == 403, refused.text
    assert "vote" in refused.json()["detail"]
    for action in ("reject", "request-changes"):
        reply = api.post(
            f"/api/v1/approvals/{rid}/{action}",
            headers=key_headers(reader_key),
            json={"comment": "no"},
        )
        assert reply.status_code == 403, reply.text
    assert prod.request(rid)["votes"] == []
    wait_for_audit(
        api, prod.admin.headers, action="approvals.vote", status="denied", user_email=approver.email
    )

    no_vote = custom_role(api, prod.admin, ["operations:read:*", "streams:read:*"])
    reader = invite(api, prod.admin, no_vote["name"])
    assert (
        api.post(f"/api/v1/approvals/{rid}/approve", headers=reader.headers, json={}).status_code
        == 403
    )

    stranger = signup(api)  # another organization's admin with a voting key
    foreign = make_key(api, stranger, ["approvals:vote:*", "operations:read:*"])
    assert (
        api.post(
            f"/api/v1/approvals/{rid}/approve", headers=key_headers(foreign), json={}
        ).status_code
        == 404
    )

    voter_key = make_key(api, approver, ["approvals:vote:*", "operations:read:*"])
    approved = api.post(
        f"/api/v1/approvals/{rid}/approve", headers=key_headers(voter_key), json={"comment": "ok"}
    )
    assert approved.status_code == 200, approved.text
    done = prod.wait_status(rid, "executed")
    assert done["votes"][0]["voter"]["email"] == approver.email


# --- publish headers that remove data ----------------------------------------------------------


@pytest.fixture
async def rollup_orgs(api, stack, hub_nc):
    """One organization with the hub registered twice (development and production), a stream on
    it that allows roll-ups, and a KV bucket."""
    admin = signup(api)
    ids = {}
    for environment in ("development", "production"):
        reply = api.post(
            "/api/v1/clusters",
            headers=admin.headers,
            json={
                "name": unique(environment[:3]),
                "environment": environment,
                "server_urls": [stack.env["JSC_HUB_URL"]],
                "jetstream_domain": "hub",
            },
        )
        assert reply.status_code == 201, reply.text
        ids[environment] = reply.json()["id"]
    org = Org(api, admin, ids["development"])
    org.production_id = ids["production"]
    org.stream = unique("ROLL")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"], allow_rollup_hdrs=True)
    yield org
    await js.delete_stream(org.stream)


def publish(org: Org, who: Account, cluster_id: str, headers: dict | None = None):
    return org.api.post(
        f"/api/v1/clusters/{cluster_id}/streams/{org.stream}/messages",
        headers=who.headers,
        json={"subject": f"{org.stream}.a", "payload": "x", "headers": headers or {}},
    )


async def test_a_rollup_header_is_a_purge_and_kv_operation_is_refused(rollup_orgs, hub_nc):
    org = rollup_orgs
    dev_only = Org(org.api, signup(org.api), "")
    editor = org.member("editor")
    for _ in range(3):
        assert publish(org, editor, org.cluster_id).status_code == 201

    for header in ("Nats-Rollup", "nats-rollup", "NATS-ROLLUP"):
        refused = publish(org, editor, org.cluster_id, {header: "all"})
        assert refused.status_code == 403, refused.text
        assert "purge" in refused.json()["detail"]
    assert (await hub_nc.jetstream().stream_info(org.stream)).state.messages == 3
    wait_for_audit(
        org.api, org.admin.headers, action="streams.purge", status="denied", user_email=editor.email
    )

    kv = publish(org, org.admin, org.cluster_id, {"kv-operation": "PURGE"})
    assert kv.status_code == 422 and "KV-Operation" in kv.json()["detail"], kv.text
    assert kv.json()["errors"][0]["field"] == "headers.kv-operation"

    # An admin may purge, but this server is also registered as production, where a purge
    # needs approval: the roll-up is refused through either registration.
    for cluster_id in (org.cluster_id, org.production_id):
        refused = publish(org, org.admin, cluster_id, {"Nats-Rollup": "sub"})
        assert refused.status_code == 403, refused.text
        assert "needs approval" in refused.json()["detail"]
    assert (await hub_nc.jetstream().stream_info(org.stream)).state.messages == 3

    # Without the production registration (another organization, development only), an admin's
    # roll-up goes through, and it does remove the earlier messages.
    reply = org.api.post(
        "/api/v1/clusters",
        headers=dev_only.admin.headers,
        json={
            "name": unique("dev"),
            "environment": "development",
            "server_urls": [
                org.api.get(f"/api/v1/clusters/{org.cluster_id}", headers=org.admin.headers).json()[
                    "server_urls"
                ][0]
            ],
            "jetstream_domain": "hub",
        },
    )
    assert reply.status_code == 201, reply.text
    rolled = publish(org, dev_only.admin, reply.json()["id"], {"Nats-Rollup": "all"})
    assert rolled.status_code == 201, rolled.text
    assert (await hub_nc.jetstream().stream_info(org.stream)).state.messages == 1
    other_editor = invite(org.api, dev_only.admin, "editor")
    assert publish(org, other_editor, reply.json()["id"], {"Nats-Rollup": "all"}).status_code == 403


@pytest.fixture
async def schedule_org(api, stack, hub_nc):
    """An organization with the hub registered as development and a stream on it that allows
    message schedules (which, on the server, implies roll-ups)."""
    admin = signup(api)
    reply = api.post(
        "/api/v1/clusters",
        headers=admin.headers,
        json={
            "name": unique("dev"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        },
    )
    assert reply.status_code == 201, reply.text
    org = Org(api, admin, reply.json()["id"])
    org.stream = unique("SCHED")
    config = {
        "name": org.stream,
        "subjects": [f"{org.stream}.>"],
        "storage": "memory",
        "allow_msg_schedules": True,
    }
    created = await hub_nc.request(
        f"$JS.API.STREAM.CREATE.{org.stream}", json.dumps(config).encode(), timeout=5
    )
    assert "error" not in json.loads(created.data), created.data
    yield org
    await hub_nc.jetstream().delete_stream(org.stream)


async def subjects(hub_nc, stream: str) -> dict[str, int]:
    info = await hub_nc.jetstream().stream_info(stream, subjects_filter=">")
    return dict(info.state.subjects or {})


async def test_schedule_headers_that_remove_messages_are_a_purge(schedule_org, hub_nc):
    """A schedule with ``Nats-Schedule-Rollup: sub`` rolls its target subject up when it fires (a
    past ``@at`` fires at once); ``Nats-Scheduler`` + ``Nats-Schedule-Next: purge`` removes a
    schedule. Both are purges: an editor is refused, an admin on a development cluster is not."""
    org = schedule_org
    editor = org.member("editor")
    target, fire_now = f"{org.stream}.a", "@at 2020-01-01T00:00:00Z"
    for _ in range(3):
        assert publish(org, editor, org.cluster_id).status_code == 201
    hourly = publish_to(
        org,
        editor,
        f"{org.stream}.hourly",
        {"Nats-Schedule": "@every 1h", "Nats-Schedule-Target": f"{org.stream}.b"},
    )
    assert hourly.status_code == 201, hourly.text  # scheduling itself stays a publish

    for headers in (
        {"Nats-Schedule": fire_now, "Nats-Schedule-Target": target, "nats-schedule-rollup": "sub"},
        {"Nats-Scheduler": f"{org.stream}.hourly", "NATS-SCHEDULE-NEXT": "purge"},
    ):
        refused = publish_to(org, editor, f"{org.stream}.x", headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert "purge" in refused.json()["detail"]
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert await subjects(hub_nc, org.stream) == {target: 3, f"{org.stream}.hourly": 1}
    wait_for_audit(
        org.api, org.admin.headers, action="streams.purge", status="denied", user_email=editor.email
    )

    # An admin may purge on a development cluster: the roll-up goes through and does remove the
    # target's earlier messages once the schedule fires.
    rolled = publish_to(
        org,
        org.admin,
        f"{org.stream}.once",
        {"Nats-Schedule": fire_now, "Nats-Schedule-Target": target, "Nats-Schedule-Rollup": "sub"},
    )
    assert rolled.status_code == 201, rolled.text
    deadline = time.monotonic() + 30
    while (await subjects(hub_nc, org.stream)).get(target) != 1:
        assert time.monotonic() < deadline, await subjects(hub_nc, org.stream)
        await asyncio.sleep(0.1)


def publish_to(org: Org, who: Account, subject: str, headers: dict):
    return org.api.post(
        f"/api/v1/clusters/{org.cluster_id}/streams/{org.stream}/messages",
        headers=who.headers,
        json={"subject": subject, "payload": "x", "headers": headers},
    )


# --- acting on stronger members ----------------------------------------------------------------


def test_a_user_manager_cannot_act_on_someone_with_more_power(api):
    admin = signup(api)
    managers = custom_role(
        api,
        admin,
        sorted(BUILTIN_ROLES["viewer"]) + ["users:read:*", "users:update:*", "users:delete:*"],
    )  # a viewer who manages users
    manager = invite(api, admin, managers["name"])
    viewer = invite(api, admin, "viewer")
    second_admin = invite(api, admin, "admin")

    for method, suffix, body in (
        ("DELETE", "/mfa", None),
        ("POST", "/unlock", None),
        ("PATCH", "", {"first_name": "Mallory"}),
        ("PATCH", "", {"role": "viewer"}),
        ("DELETE", "", None),
    ):
        reply = api.request(
            method,
            f"/api/v1/users/{second_admin.user_id}{suffix}",
            headers=manager.headers,
            json=body,
        )
        assert reply.status_code == 403, (method, suffix, reply.text)
        assert "admin" in reply.json()["detail"]
    reply = api.delete(
        f"/api/v1/organizations/{admin.org_id}/members/{second_admin.user_id}",
        headers=manager.headers,
    )
    assert reply.status_code == 403, reply.text
    me = api.get("/api/v1/users/" + second_admin.user_id, headers=admin.headers).json()
    assert me["role"] == "admin" and me["first_name"] != "Mallory"
    wait_for_audit(
        api, admin.headers, action="users.update", status="denied", user_email=manager.email
    )

    # Nor can it hand out a role stronger than its own.
    assert (
        api.patch(
            f"/api/v1/users/{viewer.user_id}", headers=manager.headers, json={"role": "admin"}
        ).status_code
        == 403
    )
    # Someone within its power it can manage.
    assert (
        api.delete(f"/api/v1/users/{viewer.user_id}/mfa", headers=manager.headers).status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/v1/users/{viewer.user_id}", headers=manager.headers, json={"first_name": "Vic"}
        ).status_code
        == 200
    )
    # An API key of the admin narrowed to users:* acts like its scopes, not like the admin.
    key = make_key(api, admin, ["users:read:*", "users:update:*"])
    assert (
        api.delete(
            f"/api/v1/users/{second_admin.user_id}/mfa", headers=key_headers(key)
        ).status_code
        == 403
    )
    # Another organization's user is not found at all.
    stranger = signup(api)
    assert (
        api.delete(f"/api/v1/users/{stranger.user_id}/mfa", headers=admin.headers).status_code
        == 404
    )


def test_a_role_manager_cannot_weaken_a_role_stronger_than_its_own(api):
    """Changing a custom role acts on everyone who holds it: a role manager changes only roles
    whose permissions it holds itself (it may still create and change roles within its power)."""
    admin = signup(api)
    viewer_perms = sorted(BUILTIN_ROLES["viewer"])
    managers = custom_role(
        api, admin, viewer_perms + ["roles:read:*", "roles:update:*", "roles:create:*"]
    )
    manager = invite(api, admin, managers["name"])
    security = custom_role(
        api, admin, viewer_perms + ["users:read:*", "users:update:*", "users:delete:*"]
    )
    officer = invite(api, admin, security["name"])

    for body in (
        {"permissions": viewer_perms},
        {"name": unique("demoted").lower()},
        {"description": "nothing much"},
    ):
        reply = api.patch(f"/api/v1/roles/{security['id']}", headers=manager.headers, json=body)
        assert reply.status_code == 403, (body, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert "users:" in reply.json()["detail"], reply.text
    shown = api.get(f"/api/v1/roles/{security['id']}", headers=admin.headers).json()
    assert shown["name"] == security["name"] and "users:delete:*" in shown["permissions"]
    assert api.get(f"/api/v1/users/{admin.user_id}", headers=officer.headers).status_code == 200
    wait_for_audit(
        api, admin.headers, action="roles.update", status="denied", user_email=manager.email
    )

    # Within its power it still manages roles: a weaker role it may change.
    readers = custom_role(api, admin, ["streams:read:*"])
    changed = api.patch(
        f"/api/v1/roles/{readers['id']}",
        headers=manager.headers,
        json={"permissions": ["streams:read:*", "consumers:read:*"]},
    )
    assert changed.status_code == 200, changed.text
    # Another organization's role is not found at all.
    stranger = signup(api)
    assert (
        api.patch(
            f"/api/v1/roles/{security['id']}", headers=stranger.headers, json={"description": "x"}
        ).status_code
        == 404
    )


# --- one server, two registrations -------------------------------------------------------------


async def test_a_server_registered_twice_is_judged_by_its_strictest_environment(
    rollup_orgs, hub_nc
):
    org = rollup_orgs
    editor = org.member("editor")
    # Through the development registration the consumer still waits for production approval.
    reply = org.api.post(
        consumer_path(org, org.stream),
        headers=editor.headers,
        json={"durable_name": "c-twice", "ack_policy": "explicit"},
    )
    assert reply.status_code == 202, reply.text
    request = org.request(reply.json()["request_id"])
    assert request["decision"]["policy"]["name"] == "Production Changes"
    assert request["environment"] == "production"
    # The same server under another URL spelling (localhost for 127.0.0.1) is recognised by its
    # own INFO (server name and JetStream domain).
    url = org.api.get(f"/api/v1/clusters/{org.cluster_id}", headers=org.admin.headers).json()[
        "server_urls"
    ][0]
    third = org.api.post(
        "/api/v1/clusters",
        headers=org.admin.headers,
        json={
            "name": unique("alias"),
            "environment": "staging",
            "server_urls": [url.replace("127.0.0.1", "localhost")],
            "jetstream_domain": "hub",
        },
    )
    assert third.status_code == 201, third.text
    via_alias = org.api.post(
        f"/api/v1/clusters/{third.json()['id']}/streams/{org.stream}/consumers",
        headers=editor.headers,
        json={"durable_name": "c-alias", "ack_policy": "explicit"},
    )
    assert via_alias.status_code == 202, via_alias.text
    # A development-only organization's registration of the same server is its own business.
    other = signup(org.api)
    mine = org.api.post(
        "/api/v1/clusters",
        headers=other.headers,
        json={
            "name": unique("dev"),
            "environment": "development",
            "server_urls": [url],
            "jetstream_domain": "hub",
        },
    )
    created = org.api.post(
        f"/api/v1/clusters/{mine.json()['id']}/streams/{org.stream}/consumers",
        headers=other.headers,
        json={"durable_name": unique("c-other"), "ack_policy": "explicit"},
    )
    assert created.status_code == 201, created.text


# --- approvers by id ---------------------------------------------------------------------------


async def test_renaming_a_role_or_a_team_grants_no_approval_power(prod):
    api = prod.api
    editor = prod.member("editor")
    pending = ask_for_consumer(prod, editor, prod.stream, "c-rename")
    rid = pending["request_id"]
    # The seeded policy names role team_lead and team platform, which this organization lacks.
    assert prod.request(rid)["current_group"]["roles"] == ["admin", "team_lead"]

    ops = custom_role(api, prod.admin, ["operations:read:*", "approvals:vote:*"], name="ops")
    climber = invite(api, prod.admin, "ops")
    renamed = api.patch(
        f"/api/v1/roles/{ops['id']}", headers=prod.admin.headers, json={"name": "team_lead"}
    )
    assert renamed.status_code == 200, renamed.text
    refused = prod.act(climber, rid, "approve")
    assert refused.status_code == 403 and "does not qualify" in refused.json()["detail"]

    viewer = prod.member("viewer", "insider")
    team = add_team(api, prod.admin, members=(viewer,))
    assert (
        api.patch(
            f"/api/v1/teams/{team['id']}", headers=prod.admin.headers, json={"name": "platform"}
        ).status_code
        == 200
    )
    assert prod.act(viewer, rid, "approve").status_code == 403
    assert prod.request(rid, viewer)["can_vote"] is False
    assert prod.request(rid)["votes"] == []

    # A policy saved with a team by name keeps that team through a rename.
    finance = prod.member("viewer", "finance")
    money = add_team(api, prod.admin, members=(finance,))
    policy = prod.policy(
        {
            "name": "By team",
            "priority": 1,
            "triggers": {"environments": ["production"], "kinds": ["consumer"]},
            "groups": [{"name": "Money", "teams": [money["name"]]}],
        }
    )
    assert policy["definition"]["groups"][0]["team_ids"] == [money["id"]]
    assert (
        api.patch(
            f"/api/v1/teams/{money['id']}", headers=prod.admin.headers, json={"name": "treasury"}
        ).status_code
        == 200
    )
    shown = api.get(f"/api/v1/approval-policies/{policy['id']}", headers=prod.admin.headers)
    assert shown.json()["definition"]["groups"][0]["teams"] == ["treasury"]
    impostor = prod.member("viewer", "impostor")
    add_team(api, prod.admin, members=(impostor,))  # then named as the old name
    last = api.get("/api/v1/teams", headers=prod.admin.headers).json()["items"]
    other = next(
        t
        for t in last
        if t["name"] not in ("treasury", "platform") and t["id"] not in (team["id"], money["id"])
    )
    assert (
        api.patch(
            f"/api/v1/teams/{other['id']}", headers=prod.admin.headers, json={"name": money["name"]}
        ).status_code
        == 200
    )
    second = ask_for_consumer(prod, editor, prod.stream, "c-rename-2")
    assert prod.act(impostor, second["request_id"], "approve").status_code == 403
    assert prod.request(second["request_id"])["current_group"]["teams"] == ["treasury"]
    approved = prod.act(finance, second["request_id"], "approve")
    assert approved.status_code == 200, approved.text
    prod.wait_status(second["request_id"], "executed")

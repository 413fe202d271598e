"""Organizations, invitations, members, teams with namespaces and custom roles, through the API;
another organization's objects are 404; role changes apply at the next request (the Redis
permission cache is invalidated)."""

from __future__ import annotations

import httpx
import pytest
import redis
from fastapi import FastAPI

from api import errors
from api.routers import auth
from core.settings import Settings
from tests.api.orgs import PASSWORD, add_cluster, add_team, bearer, invite, random_id, signup
from tests.fixtures import login, unique, wait_for_audit


@pytest.fixture(scope="module")
def cache(stack):
    client = redis.Redis.from_url(stack.env["JSC_REDIS_URL"], decode_responses=True)
    yield client
    client.close()


def test_signup_creates_an_organization_whose_first_user_is_its_admin(api):
    owner = signup(api, name="Acme Payments")
    me = api.get("/api/v1/auth/me", headers=owner.headers).json()
    assert me["role"] == "admin" and me["organization"]["name"] == "Acme Payments"
    assert me["organization"]["slug"].startswith("acme-payments")
    assert "*:*:*" in me["permissions"]
    assert (
        api.post(
            "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    again = api.post(
        "/api/v1/auth/register",
        json={"email": owner.email.upper(), "password": PASSWORD, "organization_name": "Other"},
    )
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    neither = api.post("/api/v1/auth/register", json={"password": PASSWORD, "email": "a@b.co"})
    assert neither.status_code == 422 and "organization_name" in neither.json()["detail"]
    short = api.post(
        "/api/v1/auth/register",
        json={"email": f"{unique('x')}@example.com", "password": "short", "organization_name": "X"},
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    event = wait_for_audit(api, owner.headers, action="auth.register")
    assert event["resource_name"] == owner.email and event["org_id"] == owner.org_id


async def test_the_signup_setting_turns_signup_off(db_sessions):
    app = FastAPI()
    errors.install(app)
    app.include_router(auth.router)

    class Services:  # what the register route reaches before refusing
        settings = Settings(allow_signup=False)
        sessions = db_sessions

    app.state.services = Services()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        reply = await client.post(
            "/api/v1/auth/register",
            json={
                "email": f"{unique('closed')}@example.com",
                "password": PASSWORD,
                "organization_name": "Closed",
            },
        )
    assert reply.status_code == 403
    assert "Sign-up is turned off" in reply.json()["detail"]


def test_invitations_join_an_organization_with_a_role_and_a_team(api):
    owner = signup(api)
    team = add_team(api, owner)
    editor = invite(api, owner, "editor", team_id=team["id"])
    me = api.get("/api/v1/auth/me", headers=editor.headers).json()
    assert me["role"] == "editor" and me["organization"]["id"] == owner.org_id
    assert [t["id"] for t in me["teams"]] == [team["id"]]
    users = api.get("/api/v1/users", headers=owner.headers).json()["items"]
    assert {u["email"]: u["role"] for u in users} == {owner.email: "admin", editor.email: "editor"}
    activity = wait_for_audit(
        api, owner.headers, action="auth.accept_invitation", user_id=editor.user_id
    )
    assert activity["changes"]["team_id"] == team["id"]
    mine = api.get(f"/api/v1/users/{editor.user_id}/activity", headers=owner.headers).json()
    assert [e["action"] for e in mine["items"]] == ["auth.accept_invitation"]
    assert mine["items"][0]["ip_address"] == "127.0.0.1"

    invited = api.post(
        "/api/v1/users/invite",
        headers=owner.headers,
        json={"email": f"{unique('v')}@example.com", "role": "viewer"},
    ).json()
    assert invited["token"] and invited["role"] == "viewer" and invited["expires_at"]
    pending = api.get("/api/v1/users/invitations", headers=owner.headers).json()["items"]
    assert [i["id"] for i in pending] == [invited["id"]] and "token" not in pending[0]
    accepted = api.post(
        "/api/v1/auth/register", json={"token": invited["token"], "password": PASSWORD}
    )
    assert accepted.status_code == 201 and accepted.json()["role"] == "viewer"
    reused = api.post(
        "/api/v1/auth/register", json={"token": invited["token"], "password": PASSWORD}
    )
    assert reused.status_code == 400 and "already used" in reused.json()["detail"]

    member_again = api.post(
        "/api/v1/users/invite",
        headers=owner.headers,
        json={"email": editor.email, "role": "viewer"},
    )
    assert member_again.status_code == 409
    bad_role = api.post(
        "/api/v1/users/invite",
        headers=owner.headers,
        json={"email": "x@example.com", "role": "superuser"},
    )
    assert bad_role.status_code == 422 and "superuser" in bad_role.json()["detail"]
    by_editor = api.post(
        "/api/v1/users/invite",
        headers=editor.headers,
        json={"email": "y@example.com", "role": "admin"},
    )
    assert by_editor.status_code == 403

    revoked = api.post(
        "/api/v1/users/invite",
        headers=owner.headers,
        json={"email": f"{unique('r')}@example.com", "role": "viewer"},
    ).json()
    assert (
        api.delete(f"/api/v1/users/invitations/{revoked['id']}", headers=owner.headers).status_code
        == 204
    )
    assert (
        api.post(
            "/api/v1/auth/register", json={"token": revoked["token"], "password": PASSWORD}
        ).status_code
        == 400
    )


def test_an_existing_account_joins_a_second_organization_with_its_password(api):
    first, second = signup(api), signup(api)
    person = invite(api, first, "viewer")
    token = api.post(
        "/api/v1/users/invite",
        headers=second.headers,
        json={"email": person.email, "role": "operator"},
    ).json()["token"]
    wrong = api.post("/api/v1/auth/register", json={"token": token, "password": "not-the-one"})
    assert wrong.status_code == 401 and "give its password" in wrong.json()["detail"]
    joined = api.post("/api/v1/auth/register", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 201 and joined.json()["organization"]["id"] == second.org_id
    orgs = api.get("/api/v1/organizations", headers=person.headers).json()["items"]
    assert {o["id"]: o["role"] for o in orgs} == {first.org_id: "viewer", second.org_id: "operator"}
    there = api.post(
        "/api/v1/auth/login",
        json={"email": person.email, "password": PASSWORD, "organization_id": second.org_id},
    )
    me = api.get("/api/v1/auth/me", headers=bearer(there.json()["access_token"])).json()
    assert me["organization"]["id"] == second.org_id and me["role"] == "operator"
    default = api.get("/api/v1/auth/me", headers=login(api, person.email, PASSWORD)).json()
    assert default["organization"]["id"] == first.org_id
    elsewhere = api.post(
        "/api/v1/auth/login",
        json={"email": person.email, "password": PASSWORD, "organization_id": random_id()},
    )
    assert elsewhere.status_code == 403


def test_another_organizations_objects_are_404_never_403(api, stack):
    mine, theirs = signup(api), signup(api)
    cluster = add_cluster(api, theirs, stack.env["JSC_HUB_URL"])
    team = add_team(api, theirs, (cluster["id"], "theirs-"))
    viewer = invite(api, theirs, "viewer")
    role = api.post(
        "/api/v1/roles",
        headers=theirs.headers,
        json={"name": "secret-role", "permissions": ["streams:read:*"]},
    ).json()
    key = api.post("/api/v1/api-keys", headers=theirs.headers, json={"name": "ci"}).json()
    invitation = api.post(
        "/api/v1/users/invite",
        headers=theirs.headers,
        json={"email": f"{unique('i')}@example.com", "role": "viewer"},
    ).json()
    cid, tid, uid = cluster["id"], team["id"], viewer.user_id
    for method, path, body in [
        ("GET", f"/api/v1/users/{uid}", None),
        ("PATCH", f"/api/v1/users/{uid}", {"role": "admin"}),
        ("DELETE", f"/api/v1/users/{uid}", None),
        ("POST", f"/api/v1/users/{uid}/unlock", None),
        ("DELETE", f"/api/v1/users/{uid}/mfa", None),
        ("GET", f"/api/v1/users/{uid}/activity", None),
        ("DELETE", f"/api/v1/users/invitations/{invitation['id']}", None),
        ("GET", f"/api/v1/teams/{tid}", None),
        ("PATCH", f"/api/v1/teams/{tid}", {"name": "x"}),
        ("DELETE", f"/api/v1/teams/{tid}", None),
        ("GET", f"/api/v1/teams/{tid}/members", None),
        ("POST", f"/api/v1/teams/{tid}/members", {"user_id": mine.user_id}),
        ("DELETE", f"/api/v1/teams/{tid}/members/{uid}", None),
        ("GET", f"/api/v1/roles/{role['id']}", None),
        ("PATCH", f"/api/v1/roles/{role['id']}", {"description": "x"}),
        ("DELETE", f"/api/v1/roles/{role['id']}", None),
        ("GET", f"/api/v1/api-keys/{key['id']}", None),
        ("POST", f"/api/v1/api-keys/{key['id']}/rotate", None),
        ("DELETE", f"/api/v1/api-keys/{key['id']}", None),
        ("GET", f"/api/v1/organizations/{theirs.org_id}", None),
        ("PATCH", f"/api/v1/organizations/{theirs.org_id}", {"name": "mine now"}),
        ("DELETE", f"/api/v1/organizations/{theirs.org_id}", None),
        ("GET", f"/api/v1/organizations/{theirs.org_id}/members", None),
        ("DELETE", f"/api/v1/organizations/{theirs.org_id}/members/{uid}", None),
        ("GET", f"/api/v1/clusters/{cid}", None),
        ("GET", f"/api/v1/clusters/{cid}/streams", None),
        ("GET", f"/api/v1/clusters/{cid}/streams/theirs-a", None),
        ("GET", f"/api/v1/clusters/{cid}/streams/theirs-a/consumers", None),
        ("GET", f"/api/v1/clusters/{cid}/streams/theirs-a/messages", None),
        (
            "POST",
            f"/api/v1/clusters/{cid}/streams/theirs-a/messages",
            {"subject": "a", "payload": "x"},
        ),
        ("GET", f"/api/v1/clusters/{cid}/kv", None),
        ("GET", f"/api/v1/clusters/{cid}/kv/b/keys", None),
        ("GET", f"/api/v1/clusters/{cid}/objects", None),
        ("PATCH", f"/api/v1/clusters/{cid}", {"description": "mine now"}),
        (
            "POST",
            "/api/v1/operations/replay",
            {"cluster_id": cid, "stream": "theirs-a", "destination": {"subject_prefix": "x"}},
        ),
        (
            "POST",
            "/api/v1/teams",
            {"name": "steal", "namespaces": [{"cluster_id": cid, "prefix": "x-"}]},
        ),
    ]:
        reply = api.request(method, path, headers=mine.headers, json=body)
        assert reply.status_code == 404, (method, path, reply.status_code, reply.text)
    # what mine lists holds nothing of theirs
    assert theirs.email not in str(api.get("/api/v1/users", headers=mine.headers).json())
    assert api.get("/api/v1/teams", headers=mine.headers).json()["items"] == []
    assert role["id"] not in str(api.get("/api/v1/roles", headers=mine.headers).json())
    assert api.get("/api/v1/api-keys", headers=mine.headers).json()["items"] == []
    # and theirs still has everything
    assert api.get(f"/api/v1/teams/{tid}", headers=theirs.headers).status_code == 200
    assert (
        api.get(f"/api/v1/api-keys/{key['id']}", headers=theirs.headers).json()["revoked_at"]
        is None
    )


def test_teams_members_and_non_overlapping_namespaces(api, stack):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    cid = cluster["id"]
    alice, bob = invite(api, owner, "member"), invite(api, owner, "member")
    created = api.post(
        "/api/v1/teams",
        headers=owner.headers,
        json={
            "name": "payments",
            "description": "money",
            "namespaces": [{"cluster_id": cid, "prefix": "payments-"}],
        },
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["namespaces"] == [{"cluster_id": cid, "prefix": "payments-"}]
    assert (
        api.post("/api/v1/teams", headers=owner.headers, json={"name": "payments"}).status_code
        == 409
    )
    overlap = api.post(
        "/api/v1/teams",
        headers=owner.headers,
        json={"name": "pay", "namespaces": [{"cluster_id": cid, "prefix": "pay"}]},
    )
    assert overlap.status_code == 409 and "payments" in overlap.json()["detail"]
    bad = api.post(
        "/api/v1/teams",
        headers=owner.headers,
        json={"name": "bad", "namespaces": [{"cluster_id": cid, "prefix": "a.b>"}]},
    )
    assert bad.status_code == 422

    tid = team["id"]
    for who in (alice, bob):
        assert (
            api.post(
                f"/api/v1/teams/{tid}/members", headers=owner.headers, json={"user_id": who.user_id}
            ).status_code
            == 201
        )
    assert (
        api.post(
            f"/api/v1/teams/{tid}/members", headers=owner.headers, json={"user_id": alice.user_id}
        ).status_code
        == 409
    )
    listed = api.get(f"/api/v1/teams/{tid}/members", headers=alice.headers).json()["items"]
    assert {m["email"] for m in listed} == {alice.email, bob.email}
    assert (
        api.delete(f"/api/v1/teams/{tid}/members/{bob.user_id}", headers=owner.headers).status_code
        == 204
    )
    assert api.post(f"/api/v1/teams/{tid}", headers=alice.headers).status_code == 405

    patched = api.patch(
        f"/api/v1/teams/{tid}",
        headers=owner.headers,
        json={
            "namespaces": [
                {"cluster_id": cid, "prefix": "payments-"},
                {"cluster_id": cid, "prefix": "billing-"},
            ]
        },
    )
    assert patched.status_code == 200
    assert {n["prefix"] for n in patched.json()["namespaces"]} == {"payments-", "billing-"}
    event = wait_for_audit(api, owner.headers, action="team.update", resource_id=tid)
    assert event["changes"]["namespaces"]["after"][0]["prefix"] == "billing-"
    assert (
        api.patch(f"/api/v1/teams/{tid}", headers=alice.headers, json={"name": "mine"}).status_code
        == 403
    )
    assert api.delete(f"/api/v1/teams/{tid}", headers=owner.headers).status_code == 204
    assert api.get(f"/api/v1/teams/{tid}", headers=owner.headers).status_code == 404


async def test_team_members_manage_only_streams_inside_their_namespaces(api, stack, hub_nc):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    streams = f"/api/v1/clusters/{cluster['id']}/streams"
    prefix = f"{unique('pay')}-"
    dev = invite(api, owner, "member")
    add_team(api, owner, (cluster["id"], prefix), members=(dev,))
    mine, other = f"{prefix}orders", unique("ledger")
    created = api.post(streams, headers=dev.headers, json={"name": mine, "subjects": [f"{mine}.>"]})
    assert created.status_code == 201, created.text
    assert (
        api.patch(f"{streams}/{mine}", headers=dev.headers, json={"max_msgs": 10}).status_code
        == 200
    )
    assert api.post(f"{streams}/{mine}/purge", headers=dev.headers).status_code == 200
    consumer = api.post(
        f"{streams}/{mine}/consumers",
        headers=dev.headers,
        json={"durable_name": "worker", "ack_policy": "explicit"},
    )
    assert consumer.status_code == 201, consumer.text

    outside = api.post(
        streams, headers=dev.headers, json={"name": other, "subjects": [f"{other}.>"]}
    )
    assert outside.status_code == 403
    assert (
        "outside your teams' namespaces" in outside.json()["detail"]
        and prefix in outside.json()["detail"]
    )
    assert (
        api.post(
            streams, headers=owner.headers, json={"name": other, "subjects": [f"{other}.>"]}
        ).status_code
        == 201
    )
    for method, path, body in [
        ("PATCH", f"{streams}/{other}", {"max_msgs": 1}),
        ("DELETE", f"{streams}/{other}", None),
        ("POST", f"{streams}/{other}/purge", None),
        ("POST", f"{streams}/{other}/consumers", {"durable_name": "x"}),
    ]:
        assert api.request(method, path, headers=dev.headers, json=body).status_code == 403, path
    event = wait_for_audit(
        api, owner.headers, status="denied", user_id=dev.user_id, action="streams.create"
    )
    assert other in event["error_message"]
    # member reads every stream (streams:read:*), and the server kept the one it was refused
    names = {s["config"]["name"] for s in api.get(streams, headers=dev.headers).json()["items"]}
    assert {mine, other} <= names
    assert (await hub_nc.jetstream().stream_info(other)).config.name == other
    # a custom role reading only its teams' streams sees only those in lists
    api.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={"name": "team-reader", "permissions": ["clusters:read:*", "streams:read:team"]},
    )
    assert (
        api.patch(
            f"/api/v1/users/{dev.user_id}", headers=owner.headers, json={"role": "team-reader"}
        ).status_code
        == 200
    )
    names = {s["config"]["name"] for s in api.get(streams, headers=dev.headers).json()["items"]}
    assert mine in names and other not in names
    assert api.get(f"{streams}/{other}", headers=dev.headers).status_code == 403
    assert api.delete(f"{streams}/{mine}", headers=dev.headers).status_code == 403
    for name in (mine, other):
        assert api.delete(f"{streams}/{name}", headers=owner.headers).status_code == 204


def test_role_changes_and_removals_apply_at_the_next_request(api, cache):
    owner = signup(api)
    person = invite(api, owner, "viewer")
    assert api.get("/api/v1/teams", headers=person.headers).status_code == 403
    key = f"permissions:{person.user_id}:{owner.org_id}"
    assert "clusters:read:*" in cache.smembers(key) and "teams:read:*" not in cache.smembers(key)
    assert 0 < cache.ttl(key) <= 300

    assert (
        api.patch(
            f"/api/v1/users/{person.user_id}", headers=owner.headers, json={"role": "member"}
        ).status_code
        == 200
    )
    assert not cache.exists(key)  # invalidated by the change; for a few seconds, a load that
    # read the old role cannot put it back (it is not cached until this marker expires)
    assert 0 < cache.ttl(f"permissions_changed:{person.user_id}:{owner.org_id}") <= 10
    assert api.get("/api/v1/teams", headers=person.headers).status_code == 200
    assert api.get("/api/v1/auth/me", headers=person.headers).json()["role"] == "member"

    assert api.delete(f"/api/v1/users/{person.user_id}", headers=owner.headers).status_code == 204
    gone = api.get("/api/v1/auth/me", headers=person.headers)
    assert gone.status_code == 401 and "no longer a member" in gone.json()["detail"]
    assert api.get(f"/api/v1/users/{person.user_id}", headers=owner.headers).status_code == 404


def test_an_organization_keeps_at_least_one_admin(api):
    owner = signup(api)
    for method, body in (("PATCH", {"role": "viewer"}), ("DELETE", None)):
        reply = api.request(
            method, f"/api/v1/users/{owner.user_id}", headers=owner.headers, json=body
        )
        assert reply.status_code == 409 and "last admin" in reply.json()["detail"]
    second = invite(api, owner, "admin")
    assert (
        api.patch(
            f"/api/v1/users/{owner.user_id}", headers=second.headers, json={"role": "viewer"}
        ).status_code
        == 200
    )


def test_custom_roles(api, stack):
    owner = signup(api)
    made = api.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={
            "name": "stream-janitor",
            "description": "purges",
            "permissions": ["clusters:read:*", "streams:read:*", "streams:purge:*"],
        },
    )
    assert made.status_code == 201, made.text
    role = made.json()
    assert role["permissions"] == ["clusters:read:*", "streams:purge:*", "streams:read:*"]
    assert role["is_system"] is False and role["members"] == 0
    listed = {r["name"]: r for r in api.get("/api/v1/roles", headers=owner.headers).json()["items"]}
    assert {"admin", "editor", "viewer", "operator", "member", "stream-janitor"} <= set(listed)
    assert listed["editor"]["is_system"] and "streams:create:*" in listed["editor"]["permissions"]

    janitor = invite(api, owner, "stream-janitor")
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    assert (
        api.get(f"/api/v1/clusters/{cluster['id']}/streams", headers=janitor.headers).status_code
        == 200
    )
    assert api.post("/api/v1/teams", headers=janitor.headers, json={"name": "t"}).status_code == 403
    assert (
        api.patch(
            f"/api/v1/roles/{role['id']}",
            headers=owner.headers,
            json={"permissions": role["permissions"] + ["teams:create:*"]},
        ).status_code
        == 200
    )
    assert api.post("/api/v1/teams", headers=janitor.headers, json={"name": "t"}).status_code == 201

    renamed = api.patch(
        f"/api/v1/roles/{role['id']}", headers=owner.headers, json={"name": "janitor"}
    )
    assert renamed.status_code == 200 and renamed.json()["members"] == 1
    assert api.get("/api/v1/auth/me", headers=janitor.headers).json()["role"] == "janitor"
    busy = api.delete(f"/api/v1/roles/{role['id']}", headers=owner.headers)
    assert busy.status_code == 409 and "1 member" in busy.json()["detail"]
    api.patch(f"/api/v1/users/{janitor.user_id}", headers=owner.headers, json={"role": "viewer"})
    assert api.delete(f"/api/v1/roles/{role['id']}", headers=owner.headers).status_code == 204

    invalid = api.post(
        "/api/v1/roles", headers=owner.headers, json={"name": "x", "permissions": ["streams:fly:*"]}
    )
    assert invalid.status_code == 422 and "fly" in invalid.json()["detail"]
    assert (
        api.post("/api/v1/roles", headers=owner.headers, json={"name": "viewer"}).status_code == 409
    )
    builtin = listed["viewer"]["id"]
    assert (
        api.patch(
            f"/api/v1/roles/{builtin}", headers=owner.headers, json={"description": "x"}
        ).status_code
        == 409
    )
    assert api.delete(f"/api/v1/roles/{builtin}", headers=owner.headers).status_code == 409
    perms = api.get("/api/v1/permissions", headers=owner.headers).json()
    assert "streams" in perms["resources"] and "team" in perms["scopes"]


def test_nobody_gives_more_than_they_hold(api):
    owner = signup(api)
    api.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={"name": "people", "permissions": ["users:*:*", "roles:*:*"]},
    )
    manager = invite(api, owner, "people")
    promote = api.patch(
        f"/api/v1/users/{manager.user_id}", headers=manager.headers, json={"role": "admin"}
    )
    assert promote.status_code == 403 and "cannot give the role 'admin'" in promote.json()["detail"]
    assert (
        api.post(
            "/api/v1/users/invite",
            headers=manager.headers,
            json={"email": f"{unique('e')}@example.com", "role": "editor"},
        ).status_code
        == 403
    )
    assert (
        api.post(
            "/api/v1/roles",
            headers=manager.headers,
            json={"name": "root", "permissions": ["*:*:*"]},
        ).status_code
        == 403
    )
    within = api.post(
        "/api/v1/roles",
        headers=manager.headers,
        json={"name": "user-reader", "permissions": ["users:read:*"]},
    )
    assert within.status_code == 201
    assert (
        api.post(
            "/api/v1/users/invite",
            headers=manager.headers,
            json={"email": f"{unique('r')}@example.com", "role": "user-reader"},
        ).status_code
        == 201
    )


def test_organization_settings_and_a_new_organization(api):
    owner = signup(api)
    org = f"/api/v1/organizations/{owner.org_id}"
    assert api.get(org, headers=owner.headers).json()["role"] == "admin"
    renamed = api.patch(org, headers=owner.headers, json={"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    viewer = invite(api, owner, "viewer")
    assert api.get(org, headers=viewer.headers).status_code == 200
    assert api.patch(org, headers=viewer.headers, json={"name": "x"}).status_code == 403
    members = api.get(f"{org}/members", headers=owner.headers).json()["items"]
    assert {m["email"] for m in members} == {owner.email, viewer.email}
    added = api.post(
        f"{org}/members",
        headers=owner.headers,
        json={"email": f"{unique('m')}@example.com", "role": "operator"},
    )
    assert added.status_code == 201 and added.json()["token"]
    assert api.delete(f"{org}/members/{viewer.user_id}", headers=owner.headers).status_code == 204

    created = api.post("/api/v1/organizations", headers=owner.headers, json={"name": "Side"})
    assert created.status_code == 201 and created.json()["role"] == "admin"
    side = created.json()["id"]
    there = api.post(
        "/api/v1/auth/login",
        json={"email": owner.email, "password": PASSWORD, "organization_id": side},
    ).json()
    assert (
        api.delete(
            f"/api/v1/organizations/{side}", headers=bearer(there["access_token"])
        ).status_code
        == 204
    )
    orgs = api.get("/api/v1/organizations", headers=owner.headers).json()["items"]
    assert [o["id"] for o in orgs] == [owner.org_id]
    assert api.get("/api/v1/auth/me", headers=bearer(there["access_token"])).status_code == 401

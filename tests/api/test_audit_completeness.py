"""Audit completeness: every mutating request (POST, PUT, PATCH, DELETE) leaves exactly one audit
event, whatever its outcome: done, refused (403) or failed (404, 409, 422, ...).

Two passes, each request tagged with its own ``X-Request-ID`` (the audit event's ``request_id``),
in an organization of the test's own so that its audit log holds only these requests:

1. every mutating route of the OpenAPI schema (routes added later included), called by the
   organization's admin and by a viewer with placeholder parameters and an empty body;
2. a scenario that succeeds on every route of tenancy, keys, MFA, auth (sessions included),
   clusters, streams and consumers.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pyotp

from tests.api.orgs import PASSWORD, Account, add_cluster, bearer, invite, signup
from tests.api.routes import PUBLIC, fill, operations
from tests.fixtures import unique

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


class Recorder:
    """Sends requests with a fresh request id, remembering which organization should hold it."""

    def __init__(self, api):
        self.api = api
        self.sent: dict[
            str, tuple[str, str, str, int]
        ] = {}  # request id -> org, method, path, status

    def __call__(
        self,
        org_id: str,
        method: str,
        path: str,
        headers: dict | None = None,
        json=None,
        expect: int | None = None,
    ):
        request_id = uuid.uuid4().hex
        reply = self.api.request(
            method, path, json=json, headers={**(headers or {}), "X-Request-ID": request_id}
        )
        if expect is not None:
            assert reply.status_code == expect, (method, path, reply.status_code, reply.text)
        self.sent[request_id] = (org_id, method, path, reply.status_code)
        return reply


def events_by_request(api, headers: dict, wanted: set[str], timeout: float = 30.0) -> Counter:
    """How many audit events each wanted request id has, once all have arrived (and a moment
    more, for a duplicate to show up)."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/api/v1/audit/logs", params={"limit": 1000}, headers=headers).json()[
            "items"
        ]
        counts = Counter(e["request_id"] for e in items if e["request_id"] in wanted)
        if set(counts) >= wanted:
            time.sleep(1.0)
            items = api.get("/api/v1/audit/logs", params={"limit": 1000}, headers=headers).json()[
                "items"
            ]
            return Counter(e["request_id"] for e in items if e["request_id"] in wanted)
        if time.monotonic() > deadline:
            return counts
        time.sleep(0.3)


def check(api, record: Recorder, org_id: str, reader: dict) -> list[str]:
    wanted = {rid for rid, (org, *_) in record.sent.items() if org == org_id}
    counts = events_by_request(api, reader, wanted)
    return [
        f"{method} {path} -> {status}: {counts.get(rid, 0)} audit events"
        for rid, (org, method, path, status) in record.sent.items()
        if org == org_id and counts.get(rid, 0) != 1
    ]


def test_every_mutating_route_leaves_exactly_one_event(api, stack):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    viewer = invite(api, owner, "viewer")
    record = Recorder(api)
    routes = [
        (m, p, op)
        for m, p, op in operations(api.get("/openapi.json").json())
        if m in MUTATING and (m, p) not in PUBLIC and p != "/api/v1/auth/logout"
    ]
    assert len(routes) > 30
    for method, path, op in routes:
        url = fill(path, op, cluster["id"])
        for who in (owner, viewer):
            record(owner.org_id, method, url, who.headers, json={})
    wrong = check(api, record, owner.org_id, owner.headers)
    assert not wrong, "\n".join(wrong)


def test_successful_requests_leave_exactly_one_event(api, stack):
    owner = signup(api)
    record = Recorder(api)
    org = owner.org_id
    h = owner.headers

    def call(method, path, json=None, expect=200, headers=None, org_id=org):
        return record(org_id, method, path, headers or h, json=json, expect=expect)

    # auth
    session = call(
        "POST", "/api/v1/auth/login", {"email": owner.email, "password": PASSWORD}, headers={}
    ).json()
    refreshed = call(
        "POST", "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]}, headers={}
    ).json()
    call("POST", "/api/v1/auth/logout", headers=bearer(refreshed["access_token"]), expect=204)
    other = call(
        "POST", "/api/v1/auth/login", {"email": owner.email, "password": PASSWORD}, headers={}
    ).json()
    other_id = next(
        s["id"]
        for s in api.get("/api/v1/auth/sessions", headers=bearer(other["access_token"])).json()[
            "items"
        ]
        if s["current"]
    )
    call("DELETE", f"/api/v1/auth/sessions/{other_id}", expect=204)
    secret = call("POST", "/api/v1/auth/mfa/enable").json()["secret"]
    totp = pyotp.TOTP(secret)
    call("POST", "/api/v1/auth/mfa/verify", {"code": totp.now()})
    call("DELETE", "/api/v1/auth/mfa/disable", {"code": totp.at(time.time() + 30)})

    # organization, users, invitations
    call("PATCH", f"/api/v1/organizations/{org}", {"name": "Audited"})
    call("POST", "/api/v1/organizations", {"name": unique("side")}, expect=201)
    invited = call(
        "POST",
        "/api/v1/users/invite",
        {"email": f"{unique('a')}@example.com", "role": "viewer"},
        expect=201,
    ).json()
    joined = call(
        "POST",
        "/api/v1/auth/register",
        {"token": invited["token"], "password": PASSWORD},
        headers={},
        expect=201,
    )
    person = Account(
        invited["email"], PASSWORD, str(joined.json()["user_id"]), org, "viewer", joined.json()
    )
    call(
        "POST",
        f"/api/v1/organizations/{org}/members",
        {"email": f"{unique('b')}@example.com", "role": "viewer"},
        expect=201,
    )
    pending = call(
        "POST",
        "/api/v1/users/invite",
        {"email": f"{unique('c')}@example.com", "role": "viewer"},
        expect=201,
    ).json()
    call("DELETE", f"/api/v1/users/invitations/{pending['id']}", expect=204)
    call("PATCH", f"/api/v1/users/{person.user_id}", {"role": "operator"})
    call("POST", f"/api/v1/users/{person.user_id}/unlock")
    call("DELETE", f"/api/v1/users/{person.user_id}/mfa")
    call("DELETE", f"/api/v1/users/{person.user_id}/sessions")

    # roles, teams, keys
    role = call(
        "POST",
        "/api/v1/roles",
        {"name": "auditor", "permissions": ["audit_logs:read:*"]},
        expect=201,
    ).json()
    call("PATCH", f"/api/v1/roles/{role['id']}", {"description": "reads the trail"})
    call("DELETE", f"/api/v1/roles/{role['id']}", expect=204)
    cluster = call(
        "POST",
        "/api/v1/clusters",
        {
            "name": unique("c"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        },
        expect=201,
    ).json()
    team = call(
        "POST",
        "/api/v1/teams",
        {"name": "t", "namespaces": [{"cluster_id": cluster["id"], "prefix": "audited-"}]},
        expect=201,
    ).json()
    call("PATCH", f"/api/v1/teams/{team['id']}", {"description": "x"})
    call("POST", f"/api/v1/teams/{team['id']}/members", {"user_id": person.user_id}, expect=201)
    call("DELETE", f"/api/v1/teams/{team['id']}/members/{person.user_id}", expect=204)
    call("DELETE", f"/api/v1/teams/{team['id']}", expect=204)
    key = call("POST", "/api/v1/api-keys", {"name": "k"}, expect=201).json()
    call("PATCH", f"/api/v1/api-keys/{key['id']}", {"name": "k2"})
    call("POST", f"/api/v1/api-keys/{key['id']}/rotate")
    call("DELETE", f"/api/v1/api-keys/{key['id']}", expect=204)

    # clusters, streams, consumers
    cid = cluster["id"]
    call("PATCH", f"/api/v1/clusters/{cid}", {"description": "audited"})
    streams = f"/api/v1/clusters/{cid}/streams"
    name = unique("audited")
    call("POST", streams, {"name": name, "subjects": [f"{name}.>"]}, expect=201)
    call("PATCH", f"{streams}/{name}", {"max_msgs": 10})
    call("POST", f"{streams}/{name}/purge")
    consumers = f"{streams}/{name}/consumers"
    call("POST", consumers, {"durable_name": "d", "ack_policy": "explicit"}, expect=201)
    call("PATCH", f"{consumers}/d", {"description": "x"})
    call("DELETE", f"{consumers}/d", expect=204)
    call("DELETE", f"{streams}/{name}", expect=204)
    call("DELETE", f"/api/v1/clusters/{cid}", expect=204)
    call("DELETE", f"/api/v1/users/{person.user_id}", expect=204)

    # a new organization's sign-up is recorded in that organization
    other = call(
        "POST",
        "/api/v1/auth/register",
        {
            "email": f"{unique('new')}@example.com",
            "password": PASSWORD,
            "organization_name": unique("Org"),
        },
        headers={},
        expect=201,
    ).json()
    newest = next(reversed(record.sent))
    record.sent[newest] = (str(other["organization"]["id"]), *record.sent[newest][1:])

    wrong = check(api, record, org, h)
    wrong += check(api, record, str(other["organization"]["id"]), bearer(other["access_token"]))
    assert not wrong, "\n".join(wrong)

"""Sign-in sessions, outside in: a person lists their live sessions (device, address, last use,
the current one marked) and ends one, whose access and refresh tokens then stop working; another
person's session is a 404, whatever their organization; an administrator signs a member out of
their organization (every other role is refused, another organization's admin gets a 404), and
each revocation is audited."""

from __future__ import annotations

import uuid

from core.db.models import OrganizationMember
from core.rbac import BUILTIN_ROLES
from tests.api.orgs import PASSWORD as TENANT_PASSWORD
from tests.api.orgs import bearer, invite, signup
from tests.fixtures import PASSWORD, wait_for_audit

SESSIONS = "/api/v1/auth/sessions"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sign_in(
    api, email: str, password: str, *, agent: str = "", ip: str = "", org_id: str | None = None
) -> dict:
    """A new session: its token pair (its id is the access token's ``sid``, read back from the
    list as the ``current`` one)."""
    headers = {
        **({"User-Agent": agent} if agent else {}),
        **({"X-Forwarded-For": ip} if ip else {}),
    }
    body = {"email": email, "password": password, **({"organization_id": org_id} if org_id else {})}
    reply = api.post("/api/v1/auth/login", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    pair = reply.json()
    current = [s for s in listed(api, bearer(pair["access_token"])) if s["current"]]
    assert len(current) == 1, current
    return {**pair, "id": current[0]["id"]}


def listed(api, headers: dict) -> list[dict]:
    reply = api.get(SESSIONS, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


def works(api, pair: dict) -> bool:
    """Whether the session's access token is accepted (a read, nothing refreshed)."""
    return api.get("/api/v1/auth/me", headers=bearer(pair["access_token"])).status_code == 200


def test_a_person_lists_their_sessions_with_device_address_and_the_current_one(api):
    owner = signup(api)
    laptop = sign_in(api, owner.email, TENANT_PASSWORD, agent=FIREFOX, ip="203.0.113.9")
    script = sign_in(api, owner.email, TENANT_PASSWORD, agent="jsc-cli/1.4 (linux)")
    items = listed(api, bearer(laptop["access_token"]))
    by_id = {s["id"]: s for s in items}
    assert {laptop["id"], script["id"]} <= set(by_id)
    assert len(items) == 3  # sign-up opened a session too
    mine = by_id[laptop["id"]]
    assert mine["current"] is True and by_id[script["id"]]["current"] is False
    assert sum(s["current"] for s in items) == 1
    assert mine["device"] == "Firefox on Linux" and mine["user_agent"] == FIREFOX
    assert mine["ip_address"] == "203.0.113.9" and mine["last_ip"] == "203.0.113.9"
    assert mine["organization_id"] == owner.org_id
    assert mine["created_at"] <= mine["last_used_at"] and mine["expires_at"] > mine["created_at"]
    assert by_id[script["id"]]["device"] == "jsc-cli 1.4"
    # The most recently used first; the script's view marks its own session instead.
    assert [
        s["current"] for s in listed(api, bearer(script["access_token"])) if s["id"] == script["id"]
    ] == [True]

    colleague = invite(api, owner, "editor")
    theirs = listed(api, colleague.headers)
    assert len(theirs) == 1 and theirs[0]["current"]
    assert not {s["id"] for s in theirs} & set(by_id)


def test_ending_a_session_stops_its_access_and_refresh_tokens(api):
    owner = signup(api)
    kept = sign_in(api, owner.email, TENANT_PASSWORD)
    lost = sign_in(api, owner.email, TENANT_PASSWORD, agent=FIREFOX)
    assert works(api, lost)
    ended = api.delete(f"{SESSIONS}/{lost['id']}", headers=bearer(kept["access_token"]))
    assert ended.status_code == 204, ended.text
    assert not works(api, lost)
    assert (
        api.get("/api/v1/auth/me", headers=bearer(lost["access_token"])).json()["detail"]
        == "This session has ended; sign in again."
    )
    assert (
        api.post("/api/v1/auth/refresh", json={"refresh_token": lost["refresh_token"]}).status_code
        == 401
    )
    assert works(api, kept)
    assert lost["id"] not in {s["id"] for s in listed(api, bearer(kept["access_token"]))}
    again = api.delete(f"{SESSIONS}/{lost['id']}", headers=bearer(kept["access_token"]))
    assert again.status_code == 404
    assert again.headers["content-type"].startswith("application/problem+json")
    event = wait_for_audit(api, owner.headers, action="auth.session_revoke", resource_id=lost["id"])
    assert event["status"] == "success" and event["changes"]["device"] == "Firefox on Linux"
    assert event["changes"]["current"] is False

    # Naming the current session is a sign-out.
    assert (
        api.delete(f"{SESSIONS}/{kept['id']}", headers=bearer(kept["access_token"])).status_code
        == 204
    )
    assert not works(api, kept)
    assert (
        api.post("/api/v1/auth/refresh", json={"refresh_token": kept["refresh_token"]}).status_code
        == 401
    )


def test_another_persons_session_is_a_404_in_any_organization(api):
    owner = signup(api)
    target = sign_in(api, owner.email, TENANT_PASSWORD)
    colleague = invite(api, owner, "admin")  # even an admin of the same organization
    stranger = signup(api)
    for who in (colleague, stranger):
        reply = api.delete(f"{SESSIONS}/{target['id']}", headers=who.headers)
        assert reply.status_code == 404, reply.text
        assert target["id"] in reply.json()["detail"]
    unknown = api.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404
    bad = api.delete(f"{SESSIONS}/not-a-uuid", headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "session_id"
    assert works(api, target)
    wait_for_audit(
        api, stranger.headers, action="DELETE /api/v1/auth/sessions/{session_id}", status="failure"
    )


def test_an_api_key_has_no_sessions_to_list_or_end(api):
    owner = signup(api)
    key = api.post("/api/v1/api-keys", headers=owner.headers, json={"name": "ci"}).json()["key"]
    headers = {"X-API-Key": key}
    listing = api.get(SESSIONS, headers=headers)
    assert listing.status_code == 400 and "not an API key" in listing.json()["detail"]
    session_id = listed(api, owner.headers)[0]["id"]
    assert api.delete(f"{SESSIONS}/{session_id}", headers=headers).status_code == 400
    assert works(api, owner.tokens)


async def test_only_an_admin_of_the_members_organization_signs_them_out(
    api, make_member, db_sessions
):
    admin, admin_id, _ = await make_member("admin")
    _, target_id, _ = await make_member("viewer")
    email = api.get(f"/api/v1/users/{target_id}", headers=admin).json()["email"]
    # The member belongs to a second organization too: that one's sessions are not ours to end.
    _, _, elsewhere = await make_member("viewer", org="new")
    async with db_sessions() as db, db.begin():
        db.add(OrganizationMember(org_id=elsewhere, user_id=target_id, role="viewer"))
    phone = sign_in(api, email, PASSWORD, agent=FIREFOX)
    desk = sign_in(api, email, PASSWORD)
    other_org = sign_in(api, email, PASSWORD, org_id=str(elsewhere))
    url = f"/api/v1/users/{target_id}/sessions"

    for role in BUILTIN_ROLES:
        if role == "admin":
            continue
        headers, _, _ = await make_member(role)
        refused = api.delete(url, headers=headers)
        assert refused.status_code == 403, (role, refused.text)
    foreign_admin, _, _ = await make_member("admin", org="new")
    assert api.delete(url, headers=foreign_admin).status_code == 404
    assert api.delete(f"/api/v1/users/{uuid.uuid4()}/sessions", headers=admin).status_code == 404
    assert all(works(api, s) for s in (phone, desk, other_org))

    done = api.delete(url, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["revoked"] >= 2  # make_member's own sign-in is one of them
    for pair in (phone, desk):
        assert not works(api, pair)
        assert (
            api.post(
                "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
            ).status_code
            == 401
        )
    assert works(api, other_org)
    assert [s["id"] for s in listed(api, bearer(other_org["access_token"]))] == [other_org["id"]]
    event = wait_for_audit(api, admin, action="user.sessions_revoke", resource_id=str(target_id))
    assert event["user_id"] == str(admin_id) and event["status"] == "success"
    assert {phone["id"], desk["id"]} <= set(event["changes"]["session_ids"])
    assert other_org["id"] not in event["changes"]["session_ids"]
    assert api.delete(url, headers=admin).json() == {"revoked": 0}

"""Sign-in, refresh-token rotation and reuse detection, logout, and /auth/me."""

from __future__ import annotations

from tests.fixtures import login

LOGIN = "/api/v1/auth/login"


def test_login_returns_a_token_pair_that_authenticates(api, stack):
    reply = api.post(LOGIN, json={"email": stack.admin_email, "password": stack.admin_password})
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == stack.settings.access_token_ttl_s  # 15 minutes unless configured
    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == stack.admin_email
    assert me.json()["role"] == "admin"
    assert me.json()["organization"]["name"]


def test_wrong_password_and_unknown_email_are_refused_alike(api, stack):
    wrong = api.post(LOGIN, json={"email": stack.admin_email, "password": "not-the-password"})
    unknown = api.post(LOGIN, json={"email": "nobody@example.com", "password": "whatever-123"})
    for reply in (wrong, unknown):
        assert reply.status_code == 401
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert reply.json()["detail"] == "Incorrect email or password."


def test_login_validates_its_body(api):
    reply = api.post(LOGIN, json={"email": "a@b.c"})
    assert reply.status_code == 422
    assert {"field": "password", "message": "is required"} in reply.json()["errors"]


def test_refresh_rotates_and_a_reused_token_revokes_the_family(api, stack):
    first = api.post(
        LOGIN, json={"email": stack.admin_email, "password": stack.admin_password}
    ).json()
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        api.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 200
    )

    reuse = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    # The whole session is gone: the newest refresh token and its access token stop working.
    assert (
        api.post(
            "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
        ).status_code
        == 401
    )
    assert (
        api.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 401
    )


def test_unknown_refresh_token_is_refused(api):
    reply = api.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert reply.status_code == 401


def test_logout_ends_the_session(api, stack):
    headers = login(api, stack.admin_email, stack.admin_password)
    assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_requests_without_or_with_a_forged_token_are_401(api):
    assert api.get("/api/v1/clusters").status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    reply = api.get("/api/v1/clusters", headers=forged)
    assert reply.status_code == 401
    assert reply.json()["detail"].startswith("The access token is invalid")

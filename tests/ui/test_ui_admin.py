"""Administration pages: users (invite, token shown once, change a role), teams (namespace,
members), roles (the permission matrix, a custom role), API keys (secret shown once, works as
``X-API-Key``, revoked); a viewer reads the API's refusal; the forms' own checks."""

from __future__ import annotations

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from ui import forms
from ui.client import ApiClient, ApiError

from .conftest import APP, RUN_TIMEOUT, log_in, open_page, texts, unique


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except ApiError as err:
        if err.status != 404:
            raise


def test_invite_a_user_then_change_their_role(ui_logged_in, ui_admin, stack):
    email = f"{unique('invitee')}@example.com"
    at = open_page(ui_logged_in, "users.py", "Users")
    assert stack.admin_email in list(at.dataframe[0].value["Email"])
    at.text_input(key="invite_email").input(email)
    at.selectbox(key="invite_role").select("editor")
    at.button(key="invite_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert f"Invitation sent to {email}." in texts(at.success), texts(at.error)
    [token] = texts(at.code)  # shown once, in full
    assert len(token) >= 10
    assert at.text_input(key="invite_email").value == ""
    pending = [i for i in ui_admin.list_invitations() if i.email == email]
    assert [i.role for i in pending] == ["editor"] and pending[0].token is None  # never again
    at.button(key="users_invited_done").click().run()
    assert not at.code

    # the token is what the person registers with; then they are a member to manage
    reply = httpx.post(
        f"{stack.api_url}/api/v1/auth/register",
        json={"token": token, "password": "invitee-Pass-1234"},
    )
    assert reply.status_code == 201, reply.text
    user_id = reply.json()["user_id"]
    try:
        at.run()
        row = at.dataframe[0].value.set_index("Email").loc[email]
        assert row["Role"] == "editor"
        at.selectbox(key="users_selected").select(user_id).run()
        at.selectbox(key="users_new_role").select("operator")
        at.button(key="users_change_role").click().run()
        assert f"{email} now has the role operator." in texts(at.success), texts(at.error)
        assert at.dataframe[0].value.set_index("Email").loc[email]["Role"] == "operator"
        assert {u.email: u.role for u in ui_admin.list_users()}[email] == "operator"
    finally:
        _quietly(ui_admin.remove_user, user_id)


def test_an_invalid_invitation_is_refused_before_sending(ui_logged_in, ui_admin):
    at = open_page(ui_logged_in, "users.py", "Users")
    at.text_input(key="invite_email").input("not-an-email")
    at.button(key="invite_submit").click().run()
    assert texts(at.error) == ['"not-an-email" is not an email address.']
    assert not at.code
    assert "not-an-email" not in [i.email for i in ui_admin.list_invitations()]


def test_create_a_team_with_a_namespace_and_add_a_member(ui_logged_in, ui_admin, ui_hub, stack):
    name = unique("ui-team")
    prefix = unique("pay").replace("-", "_") + "-"
    at = open_page(ui_logged_in, "teams.py", "Teams")
    at.text_input(key="team_name").input(name)
    at.selectbox(key="team_cluster").select(ui_hub.id)
    at.text_area(key="team_prefixes").input(prefix)
    at.button(key="team_submit").click().run()
    team = next((t for t in ui_admin.list_teams() if t.name == name), None)
    try:
        assert not at.exception, texts(at.exception)
        assert f"Team {name} created." in texts(at.success), texts(at.error)
        assert team is not None
        assert [(n.cluster_id, n.prefix) for n in team.namespaces] == [(ui_hub.id, prefix)]
        row = at.dataframe[0].value.set_index("Team").loc[name]
        assert row["Namespaces"] == f"{ui_hub.name}: {prefix}*"
        assert at.selectbox(key="teams_selected").value == team.id  # opened on the new team

        me = ui_admin.me()
        at.selectbox(key="teams_add_user").select(me.id)
        at.selectbox(key="teams_add_role").select("owner")
        at.button(key="teams_add_member").click().run()
        assert f"{stack.admin_email} was added to {name} as owner." in texts(at.success), texts(
            at.error
        )
        assert [(m.email, m.role) for m in ui_admin.team(team.id).members] == [
            (stack.admin_email, "owner")
        ]
        members = at.dataframe[1].value
        assert list(members["Email"]) == [stack.admin_email]
    finally:
        if team is not None:
            _quietly(ui_admin.delete_team, team.id)


def test_the_role_matrix_and_a_custom_role(ui_logged_in, ui_admin):
    at = open_page(ui_logged_in, "roles.py", "Roles")
    table = at.dataframe[0].value.set_index("Role")
    assert {"admin", "viewer"} <= set(table.index)
    assert table.loc["admin", "streams"] == "all"
    assert table.loc["viewer", "streams"] == "read"
    assert table.loc["viewer", "users"] == ""

    name = unique("ui-role")
    at.text_input(key="role_name").input(name)
    at.text_area(key="role_permissions").input("streams:fly:*")
    at.button(key="role_submit").click().run()
    assert texts(at.error) and "not an action" in texts(at.error)[0]
    assert name not in [r.name for r in ui_admin.list_roles()]

    at.text_area(key="role_permissions").input("streams:read:*\nstreams:create:team")
    at.button(key="role_submit").click().run()
    role = next((r for r in ui_admin.list_roles() if r.name == name), None)
    try:
        assert not at.exception, texts(at.exception)
        assert f"Role {name} created with 2 permission(s)." in texts(at.success), texts(at.error)
        assert role is not None and not role.is_system
        assert sorted(role.permissions) == ["streams:create:team", "streams:read:*"]
        table = at.dataframe[0].value.set_index("Role")
        assert table.loc[name, "streams"] == "read; create (team)"
        assert table.loc[name, "Kind"] == "custom"

        at.button(key="roles_delete").click().run()
        at.button(key="roles_confirm_delete_yes").click().run()
        assert f"Role {name} deleted." in texts(at.success), texts(at.error)
        assert name not in [r.name for r in ui_admin.list_roles()]
    finally:
        if role is not None:
            _quietly(ui_admin.delete_role, role.id)


def test_an_api_key_is_shown_once_works_and_is_revoked(ui_logged_in, ui_admin, stack):
    name = unique("ui-key")
    at = open_page(ui_logged_in, "api_keys.py", "API keys")
    at.text_input(key="api_key_name").input(name)
    at.text_area(key="api_key_scopes").input("clusters:read:*")
    at.button(key="api_key_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert f"Key {name} created." in texts(at.success), texts(at.error)
    [secret] = texts(at.code)
    key = next(k for k in ui_admin.list_api_keys() if k.name == name)
    try:
        assert key.key is None and secret.startswith(key.prefix)  # listed without its secret
        row = at.dataframe[0].value.set_index("Name").loc[name]
        assert row["Prefix"] == key.prefix and row["Scopes"] == "clusters:read:*"
        assert row["Status"] == "Active" and row["Last used"] == "never"
        assert secret not in str(at.dataframe[0].value.to_dict())

        me = httpx.get(f"{stack.api_url}/api/v1/auth/me", headers={"X-API-Key": secret})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == stack.admin_email

        at.button(key="api_keys_secret_done").click().run()
        assert not at.code  # gone for good

        at.selectbox(key="api_keys_selected").select(key.id)
        at.button(key="api_keys_rotate").click().run()
        assert f"Key {name} rotated: its previous secret no longer works." in texts(at.success)
        [rotated] = texts(at.code)
        assert rotated != secret
        assert (
            httpx.get(f"{stack.api_url}/api/v1/auth/me", headers={"X-API-Key": secret}).status_code
            == 401
        )
        assert (
            httpx.get(f"{stack.api_url}/api/v1/auth/me", headers={"X-API-Key": rotated}).status_code
            == 200
        )
        secret = rotated
        at.selectbox(key="api_keys_selected").select(key.id)
        at.button(key="api_keys_revoke").click().run()
        at.button(key="api_keys_confirm_revoke_yes").click().run()
        assert f"Key {name} revoked." in texts(at.success), texts(at.error)
        assert at.dataframe[0].value.set_index("Name").loc[name]["Status"] == "Revoked"
        refused = httpx.get(f"{stack.api_url}/api/v1/auth/me", headers={"X-API-Key": secret})
        assert refused.status_code == 401
    finally:
        _quietly(ui_admin.revoke_api_key, key.id)


async def test_a_viewer_reads_the_refusal_on_the_admin_pages(make_member, stack, monkeypatch):
    headers, _, _ = await make_member("viewer")
    with ApiClient(stack.api_url) as client:
        client._http.headers["Authorization"] = headers["Authorization"]
        email = client._http.get("/auth/me").json()["email"]
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, email, "member-Pass-1234")
    for script, title in [("users.py", "Users"), ("teams.py", "Teams"), ("roles.py", "Roles")]:
        at = open_page(at, script, title)
        [refusal] = texts(at.error)
        assert refusal.endswith(".") and "{" not in refusal, refusal
        assert not at.dataframe


# --------------------------------------------------------------------------- the forms' checks

RESOURCES, ACTIONS = ("streams", "messages"), ("read", "create", "publish")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("streams:read", "is not of the form resource:action:scope"),
        ("topics:read:*", '"topics" is not a resource'),
        ("streams:fly:*", '"fly" is not an action'),
        ("streams:read:everywhere", '"everywhere" is not a scope'),
    ],
)
def test_a_bad_permission_is_named(text, problem):
    perms, problems = forms.check_permissions(text, RESOURCES, ACTIONS)
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_admin_forms_build_their_bodies():
    assert forms.check_role_form(
        name="ops", permissions="streams:read:* , *:*:own", resources=RESOURCES, actions=ACTIONS
    ) == ({"name": "ops", "description": "", "permissions": ["*:*:own", "streams:read:*"]}, [])
    assert forms.check_role_form(name="Ops", permissions="")[1] == [
        "A role name is lowercase letters, digits, '-' and '_' (starting with a letter or digit, "
        "at most 64).",
        "Give the role at least one permission, e.g. streams:read:*.",
    ]
    assert forms.check_role_form(name="viewer", permissions="streams:read:*", taken=["viewer"])[
        1
    ] == ['A role named "viewer" already exists; choose another name.']
    assert forms.check_api_key_form(name="ci", expires_in_days=0) == ({"name": "ci"}, [])
    assert forms.check_api_key_form(name="ci", scopes="streams:read:*", expires_in_days=30) == (
        {"name": "ci", "scopes": ["streams:read:*"], "expires_in_days": 30},
        [],
    )
    assert forms.check_api_key_form(name=" ", expires_in_days=5000)[1] == [
        "Give the key a name, e.g. what will use it.",
        "A key expires after 1 to 3650 days (0: never).",
    ]
    assert forms.check_team_form(name="pay", cluster_id=None, prefixes="pay-")[1] == [
        "Choose the cluster the stream-name prefixes are on."
    ]
    assert forms.check_team_form(name="pay", cluster_id="c1", prefixes="pay-, pay.x") == (
        None,
        ["The prefix \"pay.x\" may only contain letters, digits, '-' and '_' (at most 200)."],
    )
    assert forms.check_invite_form(
        email="a@b.io", role="viewer", team_id="t1", roles=["viewer"]
    ) == ({"email": "a@b.io", "role": "viewer", "team_id": "t1"}, [])
    assert forms.check_invite_form(email="a@b.io", role="boss", roles=["viewer"])[1] == [
        'There is no role named "boss".'
    ]

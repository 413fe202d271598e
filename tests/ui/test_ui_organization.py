"""Organization page: its settings (name, request limit per user and minute) read by every role
and changed by an admin (the sidebar follows a rename; 0 goes back to the console's default); the
form's checks; another organization stays out of reach. And the sidebar's link to the API docs,
which answers."""

from __future__ import annotations

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from ui import forms
from ui.client import ApiError, OrganizationSettings

from .conftest import APP, RUN_TIMEOUT, log_in, open_page, texts, unique
from .members import member_client, member_ui


def markdown(at: AppTest) -> str:
    return "\n".join(texts(at.markdown))


async def test_an_admin_changes_the_organization_settings(make_member, stack, monkeypatch):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    headers, _, org_id = await make_member("admin", org="new")
    at = open_page(member_ui(stack, headers), "organization.py", "Organization")
    with member_client(stack, headers) as client:
        org = client.organization(str(org_id))
        assert f"| **Slug** | {org.slug} |" in markdown(at)
        assert "| **Request limit** | the console's default, per user and minute |" in markdown(at)
        assert at.text_input(key="org_name").value == org.name
        assert at.number_input(key="org_rate_limit").value == 0

        renamed = unique("Renamed org")
        at.text_input(key="org_name").input(renamed)
        at.number_input(key="org_rate_limit").set_value(600)
        at.button(key="org_submit").click().run()
        assert not at.exception, texts(at.exception)
        assert f"Settings of {renamed} saved: 600 requests per user and minute." in texts(
            at.success
        ), texts(at.error)
        stored = client.organization(str(org_id))
        assert (stored.name, stored.rate_limit_per_minute) == (renamed, 600)
        assert renamed in texts(at.sidebar.caption)  # who is logged in, where
        assert "| **Request limit** | 600 requests per user and minute |" in markdown(at)
        [rows] = [d.value for d in at.dataframe if "Your role" in d.value]
        assert list(rows["Organization"]) == [renamed] and list(rows["Your role"]) == ["admin"]

        at.number_input(key="org_rate_limit").set_value(0)  # back to the console's default
        at.button(key="org_submit").click().run()
        assert client.organization(str(org_id)).rate_limit_per_minute is None, texts(at.error)

        at.button(key="org_submit").click().run()
        assert any(i.startswith("Nothing to save") for i in texts(at.info))


async def test_a_refused_name_is_named_and_nothing_changes(make_member, stack, monkeypatch):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    headers, _, org_id = await make_member("admin", org="new")
    at = open_page(member_ui(stack, headers), "organization.py", "Organization")
    with member_client(stack, headers) as client:
        before = client.organization(str(org_id))
        at.text_input(key="org_name").input("  ")
        at.button(key="org_submit").click().run()
        assert texts(at.error) == ["Give the organization a name."]
        assert client.organization(str(org_id)).name == before.name


@pytest.mark.parametrize("role", ["editor", "viewer", "operator", "member"])
async def test_other_roles_read_the_settings(role, make_member, stack, monkeypatch):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    headers, _, org_id = await make_member(role, org="new")
    at = open_page(member_ui(stack, headers), "organization.py", "Organization")
    assert f"| **Your role** | {role} |" in markdown(at)
    assert not at.text_input and not at.number_input  # no form
    assert "Only an administrator of the organization changes its settings." in texts(at.caption)
    with member_client(stack, headers) as client:  # the API decides, not the hidden form
        with pytest.raises(ApiError) as refused:
            client.update_organization(str(org_id), {"rate_limit_per_minute": 1})
        assert refused.value.status == 403
        assert client.organization(str(org_id)).rate_limit_per_minute is None


async def test_another_organization_is_out_of_reach(make_member, stack):
    ours, _, our_org = await make_member("admin", org="new")
    _, _, their_org = await make_member("admin", org="new")
    with member_client(stack, ours) as client:
        assert [o.id for o in client.list_organizations()] == [str(our_org)]
        for attempt in (
            lambda: client.organization(str(their_org)),
            lambda: client.update_organization(str(their_org), {"name": "mine"}),
        ):
            with pytest.raises(ApiError) as refused:
                attempt()
            assert refused.value.status == 404


def test_the_sidebar_links_to_the_api_docs(ui_logged_in, stack):
    [link] = ui_logged_in.sidebar.get("link_button")
    assert link.value == "API docs"
    assert link.proto.url == f"{stack.api_url}/docs"
    answer = httpx.get(link.proto.url)
    assert answer.status_code == 200 and "swagger" in answer.text.lower()
    assert httpx.get(f"{stack.api_url}/openapi.json").json()["info"]["title"]


def test_the_login_page_links_to_the_api_docs_too(ui_app, stack):
    [footer] = [c for c in texts(ui_app.caption) if "documentation" in c]
    assert f"]({stack.api_url}/docs)" in footer


def test_the_docs_link_uses_the_address_browsers_reach(stack, monkeypatch):
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    monkeypatch.setenv("JSC_BROWSER_API_URL", "https://console.example.com/")
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, stack.admin_email, stack.admin_password)
    [link] = at.sidebar.get("link_button")
    assert link.proto.url == "https://console.example.com/docs"


# --------------------------------------------------------------------------- the form's checks

ORG = OrganizationSettings(
    id="o1",
    name="Acme",
    slug="acme",
    plan="free",
    role="admin",
    rate_limit_per_minute=None,
    created_at=None,
)


def test_the_settings_form_sends_only_what_changed():
    check = forms.check_organization_form
    assert check(ORG, name=" Acme ", rate_limit_per_minute=0) == ({}, [])
    assert check(ORG, name="Acme Ltd", rate_limit_per_minute=120) == (
        {"name": "Acme Ltd", "rate_limit_per_minute": 120},
        [],
    )
    limited = OrganizationSettings(**{**ORG.__dict__, "rate_limit_per_minute": 120})
    assert check(limited, name="Acme", rate_limit_per_minute=0) == (
        {"rate_limit_per_minute": 0},
        [],
    )
    assert check(ORG, name="A\x82B", rate_limit_per_minute=-1)[1] == [
        "An organization name may not contain control characters.",
        "The request limit is between 1 and 1,000,000 per minute (0: the console's default).",
    ]

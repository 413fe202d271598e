"""In headless Chromium, the main paths of the clusters' and the organization's settings: an
admin picks a cluster, reads its server information and edits it; changes a setting of their
organization (one signed up for the test); follows the sidebar's "API docs" link, which answers."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.orgs import signup
from tests.ui.conftest import WAIT_MS, remove_cluster, unique
from tests.ui.test_ui_browser import log_in
from ui.client import ApiClient


def test_edit_a_cluster_and_read_its_server_information(
    browser_page, stack, ui_admin, tmp_path: Path
):
    from playwright.sync_api import expect

    cluster = ui_admin.create_cluster(
        {
            "name": unique("ui-web-edit"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        }
    )
    try:
        page = browser_page
        page.goto(f"{stack.ui_url}/clusters")
        log_in(page, stack)
        expect(page.get_by_role("heading", name="Clusters")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("combobox", name="Cluster", exact=True).click()
        page.get_by_role("option", name=cluster.name, exact=True).click()
        version = ui_admin.cluster_info(cluster.id).version
        expect(page.get_by_role("tab", name="Server information")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("cell", name="Server name")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("cell", name=version, exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("JetStream account: usage and limits")).to_be_visible()
        page.screenshot(path=str(tmp_path / "cluster-info.png"), full_page=True)

        page.get_by_role("tab", name="Edit").click()
        form = page.get_by_test_id("stForm").filter(
            has=page.get_by_role("button", name="Save changes")
        )
        name = form.get_by_role("textbox", name="Name", exact=True)
        expect(name).to_have_value(cluster.name, timeout=WAIT_MS)
        form.get_by_role("textbox", name="Description").fill("edited in a browser")
        form.get_by_role("button", name="Save changes").click()
        expect(page.get_by_text(f"Cluster {cluster.name} saved (description).")).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page.get_by_text("Traceback")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "cluster-edited.png"), full_page=True)
        assert ui_admin.cluster(cluster.id).description == "edited in a browser"
    finally:
        remove_cluster(ui_admin, cluster)


def test_change_an_organization_setting_and_open_the_api_docs(
    browser_page, api, stack, tmp_path: Path
):
    from playwright.sync_api import expect

    owner = signup(api)
    page = browser_page
    page.goto(f"{stack.ui_url}/organization")
    page.get_by_role("textbox", name="Email").fill(owner.email)
    page.get_by_role("textbox", name="Password").fill(owner.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Organization", exact=True)).to_be_visible(
        timeout=WAIT_MS
    )
    limit = page.get_by_role("spinbutton", name=re.compile("Requests per user and minute"))
    expect(limit).to_have_value("0", timeout=WAIT_MS)
    limit.fill("750")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("750 requests per user and minute").first).to_be_visible(
        timeout=WAIT_MS
    )
    expect(page.get_by_text("Traceback")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "organization.png"), full_page=True)
    with ApiClient(stack.api_url) as client:
        client.login(owner.email, owner.password)
        assert client.organization(owner.org_id).rate_limit_per_minute == 750

    docs = page.get_by_role("link", name=re.compile("API docs"))
    expect(docs).to_be_visible(timeout=WAIT_MS)
    href = docs.get_attribute("href")
    assert href == f"{stack.api_url}/docs"
    answer = page.goto(href)
    assert answer is not None and answer.status == 200
    expect(page).to_have_title(re.compile("Swagger UI"), timeout=WAIT_MS)

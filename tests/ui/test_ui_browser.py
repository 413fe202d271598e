"""Smoke tests in a real browser: headless Chromium against the UI the stack serves."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import WAIT_MS


def log_in(page, stack) -> None:
    page.get_by_role("textbox", name="Email").fill(stack.admin_email)
    page.get_by_role("textbox", name="Password").fill(stack.admin_password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_and_see_the_overview(browser_page, stack, ui_hub, tmp_path: Path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(stack.ui_url)
    expect(page.get_by_role("heading", name="JetStream Console")).to_be_visible(timeout=WAIT_MS)
    log_in(page, stack)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Healthy", exact=True)).to_be_visible(timeout=WAIT_MS)  # a metric
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_a_deep_link_survives_the_login(browser_page, stack, tmp_path: Path):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{stack.ui_url}/clusters")
    log_in(page, stack)  # no "page not found" dialog in the way
    expect(page.get_by_role("heading", name="Clusters")).to_be_visible(timeout=WAIT_MS)
    assert page.url.rstrip("/").endswith("/clusters")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(tmp_path / "logged-out.png"), full_page=True)


def test_operations_show_live_progress_without_a_reload(
    browser_page, stack, ui_admin, ui_hub, tmp_path: Path
):
    """The list and details refresh themselves (a fragment on a timer) until the replay ends."""
    import re

    from playwright.sync_api import expect

    from .conftest import make_stream, remove_stream, unique

    name = unique("UI-BROWSER-REPLAY").upper()
    make_stream(stack, name, 400)
    try:
        ui_admin.start_replay(
            {
                "cluster_id": ui_hub.id,
                "stream": name,
                "rate_limit": 100,
                "destination": {"subject_prefix": f"{name}.copy"},
            }
        )
        page = browser_page
        page.goto(f"{stack.ui_url}/operations")
        log_in(page, stack)
        expect(page.get_by_role("heading", name="Operations")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("progressbar").first).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(re.compile(r"Running · \d+ of 400 messages"))).to_be_visible(
            timeout=WAIT_MS
        )
        page.screenshot(path=str(tmp_path / "operations-running.png"), full_page=True)
        # four seconds at 100 messages/s: the page gets there by itself, nobody reloads it
        expect(page.get_by_text("✔ Completed · 400 messages")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Traceback")).to_have_count(0)

        page.get_by_role("tab", name="Replay messages").click()
        # other tests may have registered clusters that do not answer: choose the hub
        page.get_by_role("combobox", name="Source cluster").click()
        page.get_by_role("option", name=re.compile(re.escape(ui_hub.name))).click()
        expect(page.get_by_role("combobox", name="Source stream")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Start replay")).to_be_visible(timeout=WAIT_MS)
        page.screenshot(path=str(tmp_path / "replay-form.png"), full_page=True)
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_the_replication_page_draws_the_topology_and_the_status_table(
    browser_page, stack, ui_admin, ui_hub, ui_dr, tmp_path: Path
):
    """A mirror from hub to dr: an edge of the picture (an SVG drawn by Graphviz in the browser)
    and a row of the Replication Status table."""
    import time

    from playwright.sync_api import expect

    from .conftest import make_stream, remove_stream, unique

    name = unique("UI-BROWSER-MIRROR").upper()
    make_stream(stack, name, 10)
    started = ui_admin.start_mirror(
        {
            "source_cluster_id": ui_hub.id,
            "source_stream": name,
            "target_cluster_id": ui_dr.id,
            "target_stream": name,
        }
    )
    try:
        deadline = time.monotonic() + 120
        while not ui_admin.get_operation(started.id).finished:
            assert time.monotonic() < deadline, "the mirror was not made in 120 s"
            time.sleep(0.5)
        page = browser_page
        page.goto(f"{stack.ui_url}/replication")
        log_in(page, stack)
        expect(page.get_by_role("heading", name="Replication & DR")).to_be_visible(timeout=WAIT_MS)
        picture = page.locator("svg").filter(has_text=name).first
        expect(picture).to_be_visible(timeout=WAIT_MS)
        expect(picture.get_by_text(ui_dr.name, exact=False).first).to_be_visible()
        expect(page.get_by_role("heading", name="Replication status")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Traceback")).to_have_count(0)
        shot = tmp_path / "replication.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        for mirror in ui_admin.list_mirrors():
            if mirror.source_stream == name:
                ui_admin.delete_mirror(mirror.id)
        remove_stream(ui_admin, ui_hub, name)

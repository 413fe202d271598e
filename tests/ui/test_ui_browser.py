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


def test_operations_show_live_progress_without_a_reload(browser_page, stack, ui_admin, ui_hub,
                                                        tmp_path: Path):
    """The list and details refresh themselves (a fragment on a timer) until the replay ends."""
    import re

    from playwright.sync_api import expect

    from .conftest import make_stream, remove_stream, unique

    name = unique("UI-BROWSER-REPLAY").upper()
    make_stream(stack, name, 400)
    try:
        ui_admin.start_replay({"cluster_id": ui_hub.id, "stream": name, "rate_limit": 100,
                               "destination": {"subject_prefix": f"{name}.copy"}})
        page = browser_page
        page.goto(f"{stack.ui_url}/operations")
        log_in(page, stack)
        expect(page.get_by_role("heading", name="Operations")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("progressbar").first).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(re.compile(r"Running · \d+ of 400 messages"))).to_be_visible(
            timeout=WAIT_MS)
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

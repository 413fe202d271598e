"""Smoke tests in a real browser: headless Chromium against the UI the stack serves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000


@pytest.fixture
def browser_page(stack):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); "
                    f"`which chromium` finds {shutil.which('chromium')!r}")
    from playwright.sync_api import sync_playwright

    assert stack.ui_url, "the stack was started without its UI"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


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

"""The main paths of a consumer's and a stream's changes in a real browser (headless Chromium
against the UI the stack serves): change a consumer from its form, pause and resume it, and purge
the stream after reading what its dry run says would go."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import WAIT_MS
from .test_ui_browser import log_in
from .test_ui_consumer_changes import (
    CONSUMER,
    consumer_on_server,
    drop_stream,
    messages_on_server,
    stream_with_consumer,
)


def test_change_pause_resume_a_consumer_and_purge_after_a_dry_run(
    browser_page, stack, ui_hub, tmp_path: Path
):
    from playwright.sync_api import expect

    name = stream_with_consumer(stack, "UI-BROWSER-CONSUMER", count=30)
    page = browser_page
    try:
        page.goto(f"{stack.ui_url}/stream")
        log_in(page, stack)
        expect(page.get_by_role("combobox", name="Cluster")).to_be_visible(timeout=WAIT_MS)
        # other tests may have registered clusters that do not answer: choose the hub
        page.get_by_role("combobox", name="Cluster").click()
        page.get_by_role("option", name=re.compile(re.escape(ui_hub.name))).click()
        page.get_by_role("combobox", name="Stream").click()
        page.get_by_role("option", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=f"Stream {name}")).to_be_visible(timeout=WAIT_MS)

        # change the consumer
        page.get_by_role("tab", name="Consumers").click()
        page.get_by_text(f"Change {CONSUMER}").click()
        edit = page.get_by_test_id("stExpander").filter(has_text=f"Change {CONSUMER}")
        ack_wait = edit.get_by_role(
            "textbox", name="Ack wait", exact=True
        )  # the create form has one too
        expect(ack_wait).to_have_value("30s", timeout=WAIT_MS)
        ack_wait.fill("1m")
        edit.get_by_role("textbox", name="Description", exact=True).fill("from the browser")
        edit.get_by_role("button", name="Save changes").click()
        expect(
            page.get_by_text(f"Consumer {CONSUMER} updated: ack_wait, description.")
        ).to_be_visible(timeout=WAIT_MS)
        config = consumer_on_server(stack, name).config
        assert config.ack_wait == 60 and config.description == "from the browser"
        page.screenshot(path=str(tmp_path / "consumer-changed.png"), full_page=True)

        # pause it for the hour offered, then resume it
        page.get_by_role("button", name="Pause…").click()
        expect(
            page.get_by_role("textbox", name=re.compile(f"^Pause {CONSUMER} for"))
        ).to_have_value("1h", timeout=WAIT_MS)
        page.get_by_role("button", name="Pause deliveries").click()
        expect(page.get_by_text(re.compile(f"^Consumer {CONSUMER} paused until "))).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page.get_by_text(re.compile("is paused until"))).to_be_visible(timeout=WAIT_MS)
        assert consumer_on_server(stack, name).paused
        page.screenshot(path=str(tmp_path / "consumer-paused.png"), full_page=True)
        page.get_by_role("button", name="Resume").click()
        expect(
            page.get_by_text(f"Consumer {CONSUMER} resumed: its messages are delivered again.")
        ).to_be_visible(timeout=WAIT_MS)
        assert not consumer_on_server(stack, name).paused

        # purge all but the newest 10: the dry run says 20, then the purge does it
        page.get_by_role("tab", name="Overview").click()
        page.get_by_text("Purge messages").click()
        page.get_by_text("All but the newest messages").click()
        keep = page.get_by_role("spinbutton", name="Keep the newest")
        expect(keep).to_be_visible(timeout=WAIT_MS)
        keep.fill("10")
        keep.press("Enter")
        page.get_by_role("button", name="Preview the purge").click()
        expect(page.get_by_text("20 messages", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(re.compile("Nothing was removed yet"))).to_be_visible()
        assert messages_on_server(stack, name) == 30
        page.screenshot(path=str(tmp_path / "purge-dry-run.png"), full_page=True)
        page.get_by_role("button", name="Yes, purge 20").click()
        expect(page.get_by_text(f"Purged 20 messages from {name}.")).to_be_visible(timeout=WAIT_MS)
        assert messages_on_server(stack, name) == 10
        expect(page.get_by_text("Traceback")).to_have_count(0)
    finally:
        drop_stream(stack, name)

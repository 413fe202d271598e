"""The assistant's main path in a real browser (headless Chromium): open the Assistant, ask, and
see the answer stream in. The model (the local Anthropic server, ``fake_claude``) writes the rest
of its answer only once the browser shows the beginning, so the page is seen mid-answer."""

from __future__ import annotations

import threading

from tests.ai.fake_anthropic import Text, ToolUse
from ui.assistant_panels.chat import PLACEHOLDER

from .conftest import WAIT_MS, make_stream, remove_stream, unique
from .test_ui_browser import log_in


def test_ask_and_see_the_answer_stream_in(browser_page, stack, ui_admin, ui_hub, fake_claude):
    from playwright.sync_api import expect

    name = unique("UI-AI-LIVE").upper()
    make_stream(stack, name, 5)
    question = f"How is {name} doing?"
    shown = threading.Event()

    def rest_of_the_answer(_request):
        shown.wait(timeout=20)  # written only once the browser showed the beginning
        return Text(
            f"{name} holds 5 messages and is doing fine." if shown.is_set() else "Too late."
        )

    fake_claude.script(
        question,
        [
            ToolUse("get_stream", {"cluster_id": ui_hub.id, "stream": name}, text="Let me look."),
            rest_of_the_answer,
        ],
    )
    page = browser_page
    try:
        page.goto(f"{stack.ui_url}/assistant")
        log_in(page, stack)
        expect(page.get_by_role("heading", name="Assistant")).to_be_visible(timeout=WAIT_MS)
        box = page.get_by_placeholder(PLACEHOLDER)
        box.fill(question)
        box.press("Enter")
        try:
            expect(page.get_by_text("Let me look.")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(f"{name} holds 5 messages")).to_have_count(0)
        finally:
            shown.set()
        expect(page.get_by_text(f"{name} holds 5 messages and is doing fine.")).to_be_visible(
            timeout=WAIT_MS
        )
        # the tool call, folded under the answer; opened, its summary
        folded = page.get_by_text("Looked at 1 thing: get_stream")
        expect(folded).to_be_visible(timeout=WAIT_MS)
        folded.click()
        expect(page.get_by_text(f"{name}: 5 messages")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Too late.")).to_have_count(0)
    finally:
        remove_stream(ui_admin, ui_hub, name)

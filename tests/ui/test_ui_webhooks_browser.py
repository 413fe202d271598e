"""The webhooks screen's main path in headless Chromium against the UI the stack serves, as the
admin of an organization of the test's own: create a webhook (the secret shown once), send a test
that a local receiver verifies with it, rotate the secret (the new one shown) and see a test
verify with both secrets during the grace, delete it after a confirmation."""

from __future__ import annotations

from pathlib import Path

from core.notify.webhooks import verify
from tests.api.orgs import signup
from tests.ui.conftest import WAIT_MS, unique
from tests.waiting import wait_until
from tests.webhook_receiver import Receiver


def test_create_and_rotate_in_a_browser(browser_page, api, stack, tmp_path: Path):
    from playwright.sync_api import expect

    owner = signup(api)
    name = unique("browser-hook")
    page = browser_page
    with Receiver() as receiver:
        page.goto(f"{stack.ui_url}/webhooks")
        page.get_by_role("textbox", name="Email").fill(owner.email)
        page.get_by_role("textbox", name="Password").fill(owner.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("No webhook yet. Create one below.")).to_be_visible(timeout=WAIT_MS)

        page.get_by_role("textbox", name="Name").fill(name)
        page.get_by_role("textbox", name="URL").fill(receiver.url)
        page.get_by_role("button", name="Create webhook").click()
        expect(page.get_by_text(f"Webhook {name} created.")).to_be_visible(timeout=WAIT_MS)
        shown = page.locator("pre code").first
        expect(shown).to_be_visible(timeout=WAIT_MS)
        secret = shown.inner_text().strip()
        assert len(secret) >= 40, secret
        page.screenshot(path=str(tmp_path / "webhook-created.png"), full_page=True)

        page.get_by_role("button", name="Send a test").click()
        expect(
            page.get_by_text(f"Test delivered to {name}: the receiver answered 200.")
        ).to_be_visible(timeout=WAIT_MS)
        [first] = receiver.received
        assert verify(
            secret,
            first.headers["x-jsc-timestamp"],
            first.body,
            first.headers["x-jsc-signature"],
            max_age_s=300,
        )

        page.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_text(f"The secret of {name} was rotated.")).to_be_visible(
            timeout=WAIT_MS
        )
        expect(shown).not_to_have_text(secret, timeout=WAIT_MS)
        rotated = shown.inner_text().strip()
        assert len(rotated) >= 40 and rotated != secret
        expect(
            page.get_by_text("deliveries are signed with the previous secret too")
        ).to_be_visible(timeout=WAIT_MS)
        page.screenshot(path=str(tmp_path / "webhook-rotated.png"), full_page=True)

        page.get_by_role("button", name="Send a test").click()
        wait_until(lambda: len(receiver.received) == 2, "the second test delivery", timeout=60)
        second = receiver.received[1]
        for key in (rotated, secret):  # during the grace, both
            assert verify(
                key,
                second.headers["x-jsc-timestamp"],
                second.body,
                second.headers["x-jsc-signature"],
                max_age_s=300,
            )

        page.get_by_role("button", name="Delete…").click()
        page.get_by_role("button", name="Yes, delete").click()
        expect(page.get_by_text(f"Webhook {name} deleted.")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("No webhook yet. Create one below.")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Traceback")).to_have_count(0)
    assert api.get("/api/v1/webhooks", headers=owner.headers).json()["items"] == []

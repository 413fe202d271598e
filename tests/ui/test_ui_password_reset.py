"""A forgotten password in the UI, through the real API and a real local mail server: the login
page mails a link, the link's page sets a new password (once), and the login takes it."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.api.orgs import PASSWORD, signup
from ui.session import CLIENT_KEY

from .conftest import APP, RUN_TIMEOUT, log_in, texts

NEW_PASSWORD = "ui-reset-Pass-4321"


def open_link(stack, monkeypatch, token: str) -> AppTest:
    """A fresh browser session at the mailed link (``/?reset=<token>``)."""
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["reset"] = token
    at.run()
    assert not at.exception, texts(at.exception)
    return at


def choose(at: AppTest, password: str, again: str | None = None) -> AppTest:
    at.text_input(key="reset_password").input(password)
    at.text_input(key="reset_password_again").input(password if again is None else again)
    return at.button(key="reset_submit").click().run()


def test_a_forgotten_password_is_reset_from_the_login_page(
    ui_app, api, stack, mailbox, monkeypatch
):
    owner = signup(api)
    ui_app.text_input(key="forgot_email").input(owner.email)
    ui_app.button(key="forgot_submit").click().run()
    assert not ui_app.exception
    [sent] = texts(ui_app.success)
    assert sent.startswith("If an account uses this address")
    link = re.search(r"\S+/\?reset=\S+", mailbox.wait_for(owner.email).text).group(0)
    token = link.split("?reset=", 1)[1]

    at = open_link(stack, monkeypatch, token)
    assert texts(at.subheader) == ["Choose a new password"]
    choose(at, NEW_PASSWORD, "something-else-123")
    assert texts(at.error) == ["The two passwords differ; type the same one twice."]
    choose(at, NEW_PASSWORD)
    assert not at.exception
    assert texts(at.success) == ["Your new password is set; log in with it."]
    assert "reset" not in at.query_params
    log_in(at, owner.email, PASSWORD)
    assert texts(at.title) == ["JetStream Console"]  # the old password no longer works
    log_in(at, owner.email, NEW_PASSWORD)
    assert texts(at.title) == ["Overview"], texts(at.error)
    assert at.session_state[CLIENT_KEY].tokens is not None

    used = open_link(stack, monkeypatch, token)
    choose(used, "third-Pass-0000")
    [refused] = texts(used.error)
    assert "already used" in refused and "Traceback" not in refused


def test_the_mailed_link_works_in_a_browser(browser_page, api, stack, mailbox):
    from playwright.sync_api import expect

    from .conftest import WAIT_MS

    owner, page = signup(api), browser_page
    page.goto(stack.ui_url)
    page.get_by_text("Forgot your password?").click()
    page.get_by_role("textbox", name="Account address").fill(owner.email)
    page.get_by_role("button", name="Mail me a reset link").click()
    expect(page.get_by_text("If an account uses this address")).to_be_visible(timeout=WAIT_MS)

    link = re.search(r"\S+/\?reset=\S+", mailbox.wait_for(owner.email).text).group(0)
    page.goto(link)  # what the person clicks in the mail
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("textbox", name="New password").fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="The same again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_text("Your new password is set; log in with it.")).to_be_visible(
        timeout=WAIT_MS
    )
    page.get_by_role("textbox", name="Email", exact=True).fill(owner.email)
    page.get_by_role("textbox", name="Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Traceback")).to_have_count(0)

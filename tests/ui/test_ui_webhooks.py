"""The webhooks screen under AppTest, against the stack's API and a local receiver: create a
webhook (its secret shown once, then gone), send a test (the receiver verifies the signature with
that secret), rotate the secret (the new one shown once; during the grace a test delivery verifies
with both), delete it after a confirmation; a form that cannot be right is refused before sending,
and a viewer reads the API's refusal. The webhooks are created disabled, so that no event of the
admin's organization (other tests make many) reaches the receiver, only the tests sent here."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.notify.webhooks import verify
from tests.ui.conftest import APP, RUN_TIMEOUT, log_in, open_page, texts, unique
from tests.webhook_receiver import Receiver
from ui import forms
from ui.client import ApiClient, ApiError


def _quietly_delete(admin: ApiClient, name: str) -> None:
    for hook in admin.webhooks():
        if hook.name == name:
            try:
                admin.delete_webhook(hook.id)
            except ApiError as err:
                if err.status != 404:
                    raise


def _last_test(receiver: Receiver):
    got = receiver.received[-1]
    assert got.headers["x-jsc-event"] == "test"
    return got.headers["x-jsc-timestamp"], got.body, got.headers["x-jsc-signature"]


def test_create_test_rotate_and_delete_a_webhook(ui_logged_in, ui_admin):
    name = unique("ui-hook")
    at = open_page(ui_logged_in, "webhooks.py", "Webhooks")
    with Receiver() as receiver:
        try:
            at.text_input(key="webhook_name").input(name)
            at.text_input(key="webhook_url").input(receiver.url)
            at.multiselect(key="webhook_events").select("approved").select("alert")
            at.checkbox(key="webhook_enabled").uncheck()
            at.button(key="webhook_submit").click().run()
            assert not at.exception, texts(at.exception)
            assert f"Webhook {name} created." in texts(at.success), texts(at.error)
            [secret] = texts(at.code)
            [hook] = [h for h in ui_admin.webhooks() if h.name == name]
            assert hook.events == ("approved", "alert") and hook.enabled is False
            row = at.dataframe[0].value.set_index("Name").loc[name]
            assert row["URL"] == receiver.url and row["Enabled"] == "No"
            assert row["Events"] == "Request approved, Alert fired or resolved"
            assert row["Previous secret signs until"] == "—"
            assert secret not in str(at.dataframe[0].value.to_dict())
            assert at.text_input(key="webhook_name").value == ""  # the form is ready for another

            at.button(key="webhooks_secret_done").click().run()
            assert not at.code  # gone for good

            assert at.selectbox(key="webhooks_selected").value == hook.id  # the new one
            at.button(key="webhooks_test").click().run()
            assert f"Test delivered to {name}: the receiver answered 200." in texts(at.success), (
                texts(at.error)
            )
            timestamp, body, signature = _last_test(receiver)
            assert verify(secret, timestamp, body, signature, max_age_s=300)

            at.selectbox(key="webhooks_selected").select(hook.id)
            at.button(key="webhooks_rotate").click().run()
            assert f"The secret of {name} was rotated." in texts(at.success), texts(at.error)
            [rotated] = texts(at.code)
            assert rotated != secret
            [grace] = [t for t in texts(at.info) if "previous secret too" in t]
            assert grace.startswith("Until 20")
            row = at.dataframe[0].value.set_index("Name").loc[name]
            assert row["Previous secret signs until"] != "—"

            at.button(key="webhooks_test").click().run()
            assert f"Test delivered to {name}: the receiver answered 200." in texts(at.success)
            timestamp, body, signature = _last_test(receiver)
            assert verify(rotated, timestamp, body, signature, max_age_s=300)
            assert verify(secret, timestamp, body, signature, max_age_s=300)  # the grace

            at.selectbox(key="webhooks_selected").select(hook.id)
            at.button(key="webhooks_delete").click().run()
            assert any(name in t for t in texts(at.warning)), texts(at.warning)
            assert name in [h.name for h in ui_admin.webhooks()]  # asked, not yet done
            at.button(key="webhooks_confirm_delete_yes").click().run()
            assert f"Webhook {name} deleted." in texts(at.success), texts(at.error)
            assert name not in [h.name for h in ui_admin.webhooks()]
            assert not at.code  # the secret of a deleted webhook is not shown any more
        finally:
            _quietly_delete(ui_admin, name)


def test_a_failing_receiver_is_reported(ui_logged_in, ui_admin):
    name = unique("ui-hook")
    with Receiver(status=500) as receiver:
        try:
            ui_admin.create_webhook({"name": name, "url": receiver.url, "enabled": False})
            at = open_page(ui_logged_in, "webhooks.py", "Webhooks")
            [hook] = [h for h in ui_admin.webhooks() if h.name == name]
            at.selectbox(key="webhooks_selected").select(hook.id)
            at.button(key="webhooks_test").click().run()
            assert f"The test to {name} failed: the receiver answered 500." in texts(at.error), (
                texts(at.error)
            )
            assert len(receiver.received) == 1
        finally:
            _quietly_delete(ui_admin, name)


def test_a_bad_webhook_is_refused_before_sending(ui_logged_in, ui_admin):
    name = unique("ui-hook")
    at = open_page(ui_logged_in, "webhooks.py", "Webhooks")
    at.text_input(key="webhook_name").input(name)
    at.text_input(key="webhook_url").input("hooks.example.com/x")
    at.text_input(key="webhook_secret").input("short")
    at.button(key="webhook_submit").click().run()
    errors = texts(at.error)
    assert any("is not an http:// or https:// URL" in e for e in errors), errors
    assert any("16 to 512 printable characters" in e for e in errors), errors
    assert name not in [h.name for h in ui_admin.webhooks()]
    # what only the API knows: where webhooks may point (loopback only, in the tests' stack)
    at.text_input(key="webhook_url").input("http://10.1.2.3/hook")
    at.text_input(key="webhook_secret").input("")
    at.button(key="webhook_submit").click().run()
    assert any("url" in e for e in texts(at.error)), texts(at.error)
    assert name not in [h.name for h in ui_admin.webhooks()]


async def test_a_viewer_reads_the_refusal(make_member, stack, monkeypatch):
    headers, _, _ = await make_member("viewer")
    with ApiClient(stack.api_url) as client:
        client._http.headers["Authorization"] = headers["Authorization"]
        email = client._http.get("/auth/me").json()["email"]
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, email, "member-Pass-1234")
    at = open_page(at, "webhooks.py", "Webhooks")
    [refusal] = texts(at.error)
    assert refusal.endswith(".") and "{" not in refusal, refusal
    assert not at.dataframe and not at.code
    assert "webhook_submit" not in [b.key for b in at.button]  # no form to fill in vain


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"name": " ", "url": "https://h.example"}, "Give the webhook a name"),
        ({"name": "x", "url": ""}, "Give the URL"),
        ({"name": "x", "url": "ftp://h.example"}, "is not an http:// or https:// URL"),
        ({"name": "x", "url": "https://"}, "is not an http:// or https:// URL"),
        ({"name": "x", "url": "https://h.example", "events": ["merged"]}, "Not an event: merged"),
        ({"name": "x", "url": "https://h.example", "secret": "has spaces in it 123"}, "no spaces"),
    ],
)
def test_the_form_names_what_to_fix(fields, problem):
    spec, problems = forms.check_webhook_form(**fields)
    assert spec is None and any(problem in p for p in problems), problems


def test_the_form_builds_the_body():
    assert forms.check_webhook_form(
        name=" ops ", url=" https://h.example/x ", events=["alert", "approved"], enabled=False
    ) == (
        {
            "name": "ops",
            "url": "https://h.example/x",
            "events": ["approved", "alert"],
            "enabled": False,
        },
        [],
    )
    spec, _ = forms.check_webhook_form(
        name="ops", url="http://127.0.0.1:9/x", secret="my-own-signing-secret-123"
    )
    assert spec == {
        "name": "ops",
        "url": "http://127.0.0.1:9/x",
        "events": [],
        "enabled": True,
        "secret": "my-own-signing-secret-123",
    }

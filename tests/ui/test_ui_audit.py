"""Audit log: an action shows up with who did it and what changed; a non-admin reads the API's
refusal as a sentence."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui.client import ApiClient

from .conftest import APP, RUN_TIMEOUT, log_in, open_page, remove_stream, rerun_until, texts, unique


def test_the_audit_page_shows_an_event(ui_logged_in, ui_admin, ui_hub, stack):
    name = unique("UI-AUDITED").upper()
    ui_admin.create_stream(
        ui_hub.id, {"name": name, "subjects": [f"{name}.>"], "storage": "memory"}
    )
    try:
        at = open_page(ui_logged_in, "audit.py", "Audit log")
        at.text_input(key="audit_action").input("stream.create").run()

        def listed(a) -> bool:
            return bool(a.dataframe) and name in list(a.dataframe[0].value["Resource"])

        # events reach the audit store through the internal event stream: give it a moment
        at = rerun_until(at, listed, timeout=20, what="the stream.create event")
        table = at.dataframe[0].value
        row = table[table["Resource"] == name].iloc[0]
        assert row["User"] == stack.admin_email and row["Outcome"] == "✔ Success"
        assert set(table["Action"]) == {"stream.create"}  # the filter holds

        event_id = next(
            e.id
            for e in ui_admin.audit_logs(action="stream.create").items
            if e.resource_name == name
        )
        at.selectbox(key="audit_selected").select(event_id).run()
        assert f'"name":"{name}"' in at.json[0].value.replace(" ", "")
    finally:
        remove_stream(ui_admin, ui_hub, name)


async def test_a_viewer_reads_the_refusal(make_member, stack, monkeypatch):
    headers, _, _ = await make_member("viewer")
    with ApiClient(stack.api_url) as client:
        client._http.headers["Authorization"] = headers["Authorization"]
        email = client._http.get("/auth/me").json()["email"]
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, email, "member-Pass-1234")
    at = open_page(at, "audit.py", "Audit log")
    [refusal] = texts(at.error)
    assert "viewer" in refusal or "not allowed" in refusal.lower(), refusal
    assert refusal.endswith(".") and "{" not in refusal
    assert not at.dataframe

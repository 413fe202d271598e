"""The approvals page shows the assistant's risk summary under the risk notes, with the model that
wrote it, once the summary workflow has written it (the model played by ``fake_claude``); the
model's words are shown as written, never rendered as Markdown of their own."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.ai.fake_anthropic import Text
from tests.approvals.setup import production_org
from tests.waiting import wait_until
from ui.approval_text import plain
from ui.screens.approvals import TAB_KEY

from .conftest import APP, RUN_TIMEOUT, log_in, open_page, texts, unique

MB = 1024 * 1024


@pytest.fixture
async def org(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.policy(
        {
            "name": "Stream changes",
            "priority": 1,
            "triggers": {"environments": ["production"], "kinds": ["stream"]},
            "groups": [{"name": "Admins", "count": 1, "roles": ["admin"]}],
        }
    )
    org.stream = unique("UI-RISK").upper().replace("-", "_")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"], max_bytes=MB)
    yield org
    await js.delete_stream(org.stream)


def test_the_queue_shows_the_assistants_risk_summary(org, fake_claude, stack, monkeypatch):
    words = f"{unique('ui-marker')}: ten times the **storage**; see [the runbook](http://x.test)."
    fake_claude.script(org.stream, [Text(words)])
    asked = org.api.patch(
        f"/api/v1/clusters/{org.cluster_id}/streams/{org.stream}",
        headers=org.admin.headers,
        json={"max_bytes": 10 * MB},
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]
    summary = wait_until(lambda: org.request(request_id)["risk_summary"], "the risk summary", 120)
    approver = org.member("admin", "approver")

    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, approver.email, approver.password)
    at.session_state[TAB_KEY] = "Queue"
    at = open_page(at, "approvals.py", "Approvals")
    assert not at.exception, texts(at.exception)
    shown = texts(at.markdown)
    notes = next(m for m in shown if m.startswith("**Risk notes**"))
    summary_md = next(m for m in shown if m.startswith("**Assistant's risk summary**"))
    assert shown.index(summary_md) > shown.index(notes)  # under the risk notes
    assert summary_md == "**Assistant's risk summary**\n\n" + plain(summary["text"])
    assert "[the runbook](http" not in summary_md and "**storage**" not in summary_md
    assert any(c.startswith(f"Written by {summary['model']} · ") for c in texts(at.caption))

    assert org.act(approver, request_id, "reject", "not now").status_code == 200

"""The approvals page against the real approval path: in an organization of its own (signed up
through the API, so the seeded "Production Changes" policy is its own), an editor creates a
consumer on a production cluster from the stream page and reads "Sent for approval"; the admin
finds it in the Queue with what it creates, the policy and its reasons, cannot reject it without a
reason, approves it, and the consumer exists; the requester sees it executed under My requests.
Withdraw, request changes, the API's refusal of a stale vote, and the All tab's filters too."""

from __future__ import annotations

import time

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.api.orgs import Account, invite, signup
from tests.ui.conftest import WAIT_MS
from ui import approval_text
from ui.approval_widgets import REASON_REQUIRED, submitted_sentence
from ui.client import ApiClient, ApiError, Cluster, RequestSubmitted
from ui.screens.approvals import TAB_KEY
from ui.screens.stream import TAB_KEY as STREAM_TAB
from ui.session import CLUSTER_KEY, STREAM_KEY

from .conftest import (
    APP,
    RUN_TIMEOUT,
    log_in,
    make_stream,
    on_hub,
    open_page,
    rerun_until,
    texts,
    unique,
)

CONSUMER = {"durable_name": "approved-reader", "ack_policy": "explicit"}


class Org:
    """An organization of its own: its admin (the approver), an editor (the requester), a
    production cluster on the stack's hub NATS server and a stream on it."""

    def __init__(self, api: httpx.Client, stack) -> None:
        self.stack = stack
        self.admin: Account = signup(api)
        self.editor: Account = invite(api, self.admin, "editor")
        self.admin_api = _client(stack, self.admin)
        self.editor_api = _client(stack, self.editor)
        self.cluster: Cluster = self.admin_api.create_cluster(
            {
                "name": unique("prod"),
                "environment": "production",
                "server_urls": [stack.env["JSC_HUB_URL"]],
                "jetstream_domain": "hub",
            }
        )
        self.stream = unique("UI-APPROVALS").upper()
        make_stream(stack, self.stream, 5)

    def request_consumer(self, name: str) -> RequestSubmitted:
        sent = self.editor_api.create_consumer(
            self.cluster.id, self.stream, {**CONSUMER, "durable_name": name}
        )
        assert isinstance(sent, RequestSubmitted) and sent.waiting, sent
        return sent

    def close(self) -> None:
        for request in self.editor_api.list_approvals(mine=True, status="waiting_approval"):
            self.editor_api.withdraw(request.id)  # no workflow left waiting
        # on NATS itself: through the API, deleting a production stream waits for approval
        on_hub(self.stack, lambda js: js.delete_stream(self.stream))
        self.admin_api.delete_cluster(self.cluster.id)
        self.admin_api.close()
        self.editor_api.close()


def _client(stack, account: Account) -> ApiClient:
    client = ApiClient(stack.api_url)
    client.login(account.email, account.password)
    return client


@pytest.fixture
def org(api, stack):
    made = Org(api, stack)
    try:
        yield made
    finally:
        made.close()


def app_as(account: Account, stack, monkeypatch) -> AppTest:
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, account.email, account.password)
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == ["Overview"], texts(at.error)
    return at


def approvals_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state[TAB_KEY] = tab
    return open_page(at, "approvals.py", "Approvals")


def written(at: AppTest) -> str:
    return "\n".join(texts(at.markdown) + texts(at.caption))


def test_a_consumer_is_sent_for_approval_then_approved_from_the_queue(org, stack, monkeypatch):
    # the editor asks from the stream page: the form reads the 202
    requester = app_as(org.editor, stack, monkeypatch)
    requester.session_state[CLUSTER_KEY] = org.cluster.id
    requester.session_state[STREAM_KEY] = org.stream
    requester.session_state[STREAM_TAB] = "Consumers"
    requester = open_page(requester, "stream.py", f"Stream {org.stream}")
    requester.text_input(key="sd_con_name").input("approved-reader")
    requester.button(key="sd_con_submit").click().run()
    assert not requester.exception, texts(requester.exception)
    title = f"Create consumer {org.stream}/approved-reader"
    sent = [s for s in texts(requester.success) if s.startswith("Sent for approval:")]
    assert len(sent) == 1, (texts(requester.success), texts(requester.error))
    sent = sent[0]
    assert sent.startswith(f"Sent for approval: {title}\n")
    assert "Policy 'Production Changes' (v1) applies." in sent
    [request] = org.editor_api.list_approvals(mine=True)
    assert request.title == title and request.status == "waiting_approval"

    # the requester cannot decide their own request: their queue is empty
    requester = approvals_tab(requester, "Queue")
    assert "Nothing waits for your decision." in texts(requester.info)
    requester = approvals_tab(requester, "My requests")
    assert list(requester.dataframe[0].value["Status"]) == ["◔ Waiting for approval"]
    assert f"apr_m_withdraw_{request.id}" in [b.key for b in requester.button]

    # the admin's queue: what it creates, which policy, why, who may approve
    approver = approvals_tab(app_as(org.admin, stack, monkeypatch), "Queue")
    text = written(approver)
    assert "**Pending approvals (1)**" in text
    assert f"**{title}** · ◔ Waiting for approval" in text
    assert (
        f"Requester: {org.editor.email} · Type: create consumer · Environment: production "
        f"· Cluster: {org.cluster.name}"
    ) in text
    assert "**Policy:** Production Changes (version 1) · SLA 4 hours" in text
    assert (
        "- Platform Team or Team Lead: 1 approval from: role admin or role team_lead or "
        "team platform"
    ) in text
    assert "**Escalation:** After 8 hours → notify @platform-oncall" in text
    assert "**Votes so far**\n\nnone yet" in text
    changes = approver.dataframe[0].value.set_index("Field")
    assert changes.loc["durable_name", "After"] == "approved-reader"
    assert changes.loc["durable_name", "Before"] == "—"

    # a rejection needs a reason: refused here, nothing sent
    approver.button(key=f"apr_q_reject_{request.id}").click().run()
    assert texts(approver.error) == [REASON_REQUIRED]
    assert org.admin_api.approval(request.id).status == "waiting_approval"

    approver.text_area(key=f"apr_q_comment_{request.id}").input("Looks right.")
    approver.button(key=f"apr_q_approve_{request.id}").click().run()
    assert not approver.exception, texts(approver.exception)
    [done] = texts(approver.success)
    assert done.startswith(f"You approved “{title}”."), texts(approver.error)
    assert "Nothing waits for your decision." in texts(approver.info)

    # the workflow applies it: the consumer exists, and the requester sees it executed
    deadline = time.monotonic() + 60
    while True:
        try:
            info = org.admin_api.consumer_info(org.cluster.id, org.stream, "approved-reader")
            break
        except ApiError as err:
            assert err.status == 404 and time.monotonic() < deadline, err
            time.sleep(0.5)
    assert info.name == "approved-reader"
    requester = rerun_until(
        requester,
        lambda a: list(a.dataframe[0].value["Status"]) == ["✔ Executed"],
        what="the request to be executed",
    )
    [vote] = org.editor_api.approval(request.id).votes
    assert (vote.voter.email, vote.action, vote.comment) == (
        org.admin.email,
        "approve",
        "Looks right.",
    )
    requester.selectbox(key="apr_m_selected").select(request.id).run()
    assert (
        f"- {org.admin.email} (admin) approved for Platform Team or Team Lead: “Looks right.”"
    ) in written(requester)

    # the approvers heard of the request, the requester of its execution
    def told(event: str):
        def check(at: AppTest) -> bool:
            if not at.dataframe:
                return False
            events = at.dataframe[0].value
            return event in set(events[events["Request"] == title]["Event"])

        return check

    approver = open_page(approver, "notifications.py", "Notifications")
    rerun_until(approver, told("New request"), what="the approver's notification")
    approver = open_page(approver, "approvals.py", "Approvals")
    assert [link.proto.label for link in approver.get("page_link")] == ["Notifications (1 unread)"]
    requester = open_page(requester, "notifications.py", "Notifications")
    requester = rerun_until(requester, told("Executed"), what="the requester's notification")
    events = requester.dataframe[0].value.set_index("Event")
    assert events.loc["Executed", ""] == "●"  # unread
    dots = sum(mark == "●" for mark in requester.dataframe[0].value[""])
    assert f"**{dots} unread**" in texts(requester.markdown)
    requester.button(key="notif_mark_read").click().run()
    assert "Every notification is marked read." in texts(requester.success), texts(requester.error)
    assert "Everything is read." in texts(requester.markdown)
    assert set(requester.dataframe[0].value[""]) == {""}
    assert org.editor_api.notifications(unread_only=True).unread == 0


def test_withdraw_request_changes_and_a_stale_vote_is_refused(org, stack, monkeypatch):
    first = org.request_consumer("withdrawn-reader")
    second = org.request_consumer("changed-reader")
    third = org.request_consumer("stale-reader")

    requester = approvals_tab(app_as(org.editor, stack, monkeypatch), "My requests")
    requester.button(key=f"apr_m_withdraw_{first.request_id}").click().run()
    assert f"You withdrew “{first.title}”." in texts(requester.success), texts(requester.error)
    assert org.editor_api.approval(first.request_id).status == "withdrawn"
    table = requester.dataframe[0].value.set_index("Request")
    assert table.loc[first.title, "Status"] == "↩ Withdrawn"

    approver = approvals_tab(app_as(org.admin, stack, monkeypatch), "Queue")
    assert "**Pending approvals (2)**" in written(approver)
    approver.text_area(key=f"apr_q_comment_{second.request_id}").input("Use a filter subject.")
    approver.button(key=f"apr_q_request_changes_{second.request_id}").click().run()
    [asked] = texts(approver.success)
    assert asked.startswith(f"You asked for changes to “{second.title}”."), texts(approver.error)
    assert org.admin_api.approval(second.request_id).status == "changes_requested"

    # the card on screen is stale once the requester withdraws: the API's sentence is shown
    assert f"apr_q_approve_{third.request_id}" in [b.key for b in approver.button]
    org.editor_api.withdraw(third.request_id)
    approver.button(key=f"apr_q_approve_{third.request_id}").click().run()
    [refusal] = texts(approver.error)
    assert refusal == ("This request is already withdrawn; it takes no more decisions."), refusal

    # All, filtered by status and cluster
    approver = approvals_tab(approver, "All")
    approver.selectbox(key="apr_f_status").select("changes_requested").run()
    assert list(approver.dataframe[0].value["Request"]) == [second.title]
    assert "Use a filter subject." in written(approver)
    approver.selectbox(key="apr_f_status").select("withdrawn").run()
    assert sorted(approver.dataframe[0].value["Request"]) == sorted([first.title, third.title])
    assert set(approver.dataframe[0].value["Cluster"]) == {org.cluster.name}


# --------------------------------------------------------------------------- the pure parts


def test_a_request_reads_field_by_field():
    assert approval_text.change_rows(
        {
            "max_bytes": {"before": 1024, "after": 2048},
            "subjects": {"before": ["a"], "after": ["a", "b"]},
        },
        {},
    ) == [
        {"Field": "max_bytes", "Before": "1024", "After": "2048"},
        {"Field": "subjects", "Before": '["a"]', "After": '["a", "b"]'},
    ]
    assert approval_text.change_rows(
        {}, {"config": {"name": "S", "description": "", "max_age": 0}}
    ) == [
        {"Field": "max_age", "Before": "—", "After": "0"},
        {"Field": "name", "Before": "—", "After": "S"},
    ]
    assert approval_text.change_rows({}, {"kind": "stream", "operation": "delete"}) == []
    sent = RequestSubmitted("r1", "o1", "waiting_approval", "Create stream S", ("Policy 'P'.",))
    assert submitted_sentence(sent) == "Sent for approval: Create stream S\n\n- Policy 'P'."
    auto = RequestSubmitted("r2", "o2", "auto_approved", "Raise quota streams to 20")
    assert submitted_sentence(auto) == "Approved automatically: Raise quota streams to 20"


# --------------------------------------------------------------------------- in a real browser


def test_the_queue_in_a_browser(browser_page, org, stack, tmp_path):
    """Headless Chromium against the UI the stack serves: the admin rejects a request from the
    queue; the page refuses a rejection without a reason first."""
    from playwright.sync_api import expect

    sent = org.request_consumer("browser-reader")
    page = browser_page
    page.goto(f"{stack.ui_url}/approvals")
    page.get_by_role("textbox", name="Email").fill(org.admin.email)
    page.get_by_role("textbox", name="Password").fill(org.admin.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Pending approvals (1)")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text(sent.title).first).to_be_visible()
    expect(page.get_by_text("Production Changes (version 1)")).to_be_visible()
    page.screenshot(path=str(tmp_path / "approval-queue.png"), full_page=True)

    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(REASON_REQUIRED)).to_be_visible(timeout=WAIT_MS)
    assert org.admin_api.approval(sent.request_id).status == "waiting_approval"

    page.get_by_role("textbox", name="Comment").fill("Not in production, please.")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(f"You rejected “{sent.title}”.")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Nothing waits for your decision.")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "approval-rejected.png"), full_page=True)
    rejected = org.admin_api.approval(sent.request_id)
    assert rejected.status == "rejected"
    assert [(v.action, v.comment) for v in rejected.votes] == [
        ("reject", "Not in production, please.")
    ]

"""The team portal against the real quota API: in an organization of its own, a team owning a
namespace on a cluster of the stack's hub NATS server, with one stream in it. Usage bars read the
live usage against the limits ("1 / 15 (7%)", storage in GB, "unlimited", "not measured"); an
admin sets limits (kept in the history); a member asks for more storage (auto-approved under the
policy's threshold, applied) and for many more streams (sent for approval), with a justification
the form requires."""

from __future__ import annotations

import httpx
import pytest
from nats.js.api import StreamConfig
from streamlit.testing.v1 import AppTest

from tests.api.orgs import Account, invite, signup
from ui import approval_text
from ui.approval_text import GB
from ui.client import ApiClient
from ui.screens.approvals import TAB_KEY as APPROVALS_TAB

from .conftest import APP, RUN_TIMEOUT, log_in, on_hub, open_page, rerun_until, texts, unique


class Portal:
    """An organization with a team (namespace ``<prefix>`` on a development cluster), its
    admin, a member of the team, and the stream ``<prefix>orders`` (2 GB reserved, 3 messages)."""

    def __init__(self, api: httpx.Client, stack) -> None:
        self.stack = stack
        self.admin: Account = signup(api)
        self.member: Account = invite(api, self.admin, "member")
        self.admin_api = ApiClient(stack.api_url)
        self.admin_api.login(self.admin.email, self.admin.password)
        self.cluster = self.admin_api.create_cluster(
            {
                "name": unique("tp"),
                "environment": "development",
                "server_urls": [stack.env["JSC_HUB_URL"]],
                "jetstream_domain": "hub",
            }
        )
        self.prefix = unique("tp").replace("-", "_") + "-"
        self.team = self.admin_api.create_team(
            {
                "name": unique("payments"),
                "namespaces": [{"cluster_id": self.cluster.id, "prefix": self.prefix}],
            }
        )
        self.admin_api.add_team_member(self.team.id, self.member.user_id)
        self.stream = f"{self.prefix}orders"

        async def work(js):
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[f"{self.stream}.>"],
                    storage="file",
                    max_bytes=2 * GB,
                )
            )
            for _i in range(3):
                await js.publish(f"{self.stream}.new", b"{}")

        on_hub(stack, work)
        self.admin_api.set_team_quotas(self.team.id, {"streams": 15, "storage_bytes": 100 * GB})

    def close(self) -> None:
        for request in self.admin_api.quota_requests(self.team.id):
            if request.waiting:
                self.admin_api.reject(request.id, "test over")
        on_hub(self.stack, lambda js: js.delete_stream(self.stream))
        self.admin_api.delete_team(self.team.id)
        self.admin_api.delete_cluster(self.cluster.id)
        self.admin_api.close()


@pytest.fixture
def portal(api, stack):
    made = Portal(api, stack)
    try:
        yield made
    finally:
        made.close()


def portal_as(account: Account, portal: Portal, stack, monkeypatch) -> AppTest:
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, account.email, account.password)
    assert not at.exception, texts(at.exception)
    at.session_state["tp_team"] = portal.team.id
    return open_page(at, "team_portal.py", "Team portal")


def bars(at: AppTest) -> dict[str, tuple[int, str]]:
    """Each quota's bar, by its label: (fill in percent, text)."""
    labels = [
        m.value.strip("*")
        for m in at.markdown
        if m.value.startswith("**") and m.value.strip("*") in LABELS
    ]
    return {label: (bar.value, bar.text) for label, bar in zip(labels, at.progress, strict=False)}


LABELS = {
    "Streams",
    "Consumers",
    "Total storage",
    "Messages",
    "Max message size",
    "Replicas (max)",
    "Inbound rate (msg/s)",
    "Outbound rate (msg/s)",
}


def test_usage_against_quotas_resources_and_an_admin_setting_limits(portal, stack, monkeypatch):
    at = portal_as(portal.admin, portal, stack, monkeypatch)
    shown = bars(at)
    assert shown["Streams"][1] == "1 / 15 (7%)"
    assert shown["Total storage"] == (2, "2 GB / 100 GB (2%)")
    assert shown["Messages"] == (0, "3 / unlimited")
    assert shown["Inbound rate (msg/s)"] == (0, "not measured / unlimited")
    [resource] = at.dataframe[0].value.to_dict("records")
    assert resource["Stream"] == portal.stream and resource["Cluster"] == portal.cluster.name
    assert resource["Storage limit"] == "2 GB" and resource["Messages"] == "3"
    assert resource["Consumers"] == 0

    # the limits form starts from the limits in force (storage in GB)
    assert at.number_input(key=f"tp_limit_{portal.team.id}_storage_bytes").value == 100.0
    assert at.number_input(key=f"tp_limit_{portal.team.id}_messages").value is None
    at.number_input(key=f"tp_limit_{portal.team.id}_streams").set_value(20)
    at.number_input(key=f"tp_limit_{portal.team.id}_messages").set_value(1000)
    at.button(key="tp_limits_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert f"Limits of {portal.team.name} saved: messages 1,000, streams 20." in texts(
        at.success
    ), texts(at.error)
    limits = {i.resource: i.limit for i in portal.admin_api.team_quotas(portal.team.id).items}
    assert (limits["streams"], limits["messages"], limits["storage_bytes"]) == (20, 1000, 100 * GB)
    assert bars(at)["Messages"] == (0, "3 / 1,000 (0%)")
    history = at.dataframe[-1].value
    assert list(history["Change"])[:2] in (
        ["15 → 20", "unlimited → 1,000"],
        ["unlimited → 1,000", "15 → 20"],
    )
    assert set(history["Reason"]) == {"set by admin"}
    assert set(history["By"]) == {portal.admin.email}


def test_a_member_requests_more_storage_then_many_more_streams(portal, stack, monkeypatch):
    at = portal_as(portal.member, portal, stack, monkeypatch)
    assert "tp_limits_submit" not in [b.key for b in at.button]  # admins only
    at.selectbox(key="tp_req_resource").select("consumers").run()  # no consumers limit
    assert "Current limit: **unlimited** · usage 0" in texts(at.markdown)
    assert approval_text.UNLIMITED_ALREADY in texts(at.caption)
    at.number_input(key="tp_req_limit_consumers").set_value(20)
    at.button(key="tp_req_submit").click().run()
    assert texts(at.error) == [
        approval_text.UNLIMITED_ALREADY,
        "Say why the team needs it: a justification is required.",
    ]

    at.selectbox(key="tp_req_resource").select("storage_bytes").run()
    assert "Current limit: **100 GB** · usage 2 GB" in texts(at.markdown)
    at.number_input(key="tp_req_limit_storage_bytes").set_value(200.0)
    at.button(key="tp_req_submit").click().run()
    assert texts(at.error) == ["Say why the team needs it: a justification is required."]
    assert portal.admin_api.quota_requests(portal.team.id) == []

    at.text_area(key="tp_req_justification").input("Two new payment processors next month.")
    at.button(key="tp_req_submit").click().run()
    assert not at.exception, texts(at.exception)
    assert texts(at.success) == [
        "Approved automatically: Raise quota storage_bytes to "
        "200 GB\n\n- No approval policy matches this change and "
        "it stays within the team's quota."
    ], texts(at.error)
    at = rerun_until(
        at,
        lambda a: bars(a)["Total storage"][1] == "2 GB / 200 GB (1%)",
        what="the approved limit to apply",
    )
    history = at.dataframe[-1].value.to_dict("records")
    assert history[0]["Change"] == "100 GB → 200 GB" and history[0]["By"]

    at.selectbox(key="tp_req_resource").select("streams").run()
    at.number_input(key="tp_req_limit_streams").set_value(10)
    at.text_area(key="tp_req_justification").input("Fewer?")
    at.button(key="tp_req_submit").click().run()
    assert texts(at.error) == ["The requested limit must be above the current one (15)."]

    at.number_input(key="tp_req_limit_streams").set_value(40)
    at.text_area(key="tp_req_justification").input("One stream per payment processor.")
    at.button(key="tp_req_submit").click().run()
    [sent] = texts(at.success)
    assert sent.startswith("Sent for approval: Raise quota streams to 40\n"), texts(at.error)
    assert "Policy 'Large Quota Requests' (v1) applies." in sent
    waiting = [r for r in portal.admin_api.quota_requests(portal.team.id) if r.waiting]
    assert [(r.title, r.justification) for r in waiting] == [
        ("Raise quota streams to 40", "One stream per payment processor.")
    ]
    table = [d.value for d in at.dataframe if "Justification" in d.value.columns][0]
    assert table.iloc[0]["Status"] == "◔ Waiting for approval"
    assert bars(at)["Streams"][1] == "1 / 15 (7%)"  # nothing changes before it is approved

    # the admin's queue: the quota, its justification and the risk notes policy computed
    admin = portal_as(portal.admin, portal, stack, monkeypatch)
    admin.session_state[APPROVALS_TAB] = "Queue"
    admin = open_page(admin, "approvals.py", "Approvals")
    card = "\n".join(texts(admin.markdown))
    assert "**Raise quota streams to 40** · ◔ Waiting for approval" in card
    assert "**Justification:** One stream per payment processor." in card
    assert "**Policy:** Large Quota Requests (version 1)" in card
    assert "- The streams limit rises from 15 to 40 (+167%, 2.7× the current limit)." in card, card
    change = admin.dataframe[0].value.to_dict("records")
    assert change == [{"Field": "streams", "Before": "15", "After": "40"}]


# --------------------------------------------------------------------------- the pure parts


@pytest.mark.parametrize(
    "resource, usage, limit, percent, label",
    [
        ("streams", 8, 15, 53.3, "8 / 15 (53%)"),
        ("storage_bytes", 45 * GB, 100 * GB, 45.0, "45 GB / 100 GB (45%)"),
        ("messages", 125_000_000, 500_000_000, 25.0, "125M / 500M (25%)"),
        ("inbound_rate", 5000, 10_000, 50.0, "5,000/s / 10K/s (50%)"),
        ("consumers", 24, None, None, "24 / unlimited"),
        ("outbound_rate", None, 20_000, None, "not measured / 20K/s"),
        ("max_msg_size", 1024, 8 * 1024 * 1024, 0.0, "1 KiB / 8 MiB (0%)"),
    ],
)
def test_usage_labels(resource, usage, limit, percent, label):
    assert approval_text.usage_label(resource, usage, limit, percent) == label


def test_the_quota_forms_build_their_bodies():
    body, problems = approval_text.check_quota_request(
        team_id="t1", resource="storage_bytes", requested=1.5, justification=" growth ", current=GB
    )
    assert problems == [] and body == {
        "team_id": "t1",
        "resource": "storage_bytes",
        "requested_limit": GB * 3 // 2,
        "justification": "growth",
    }
    assert approval_text.check_quota_request(
        team_id="t1", resource="streams", requested=None, justification=""
    )[1] == ["Enter the limit you need.", "Say why the team needs it: a justification is required."]
    assert approval_text.check_limits({"streams": 20, "storage_bytes": 0.5, "messages": None}) == (
        {"streams": 20, "storage_bytes": GB // 2, "messages": None},
        [],
    )
    assert approval_text.check_limits({"streams": -1})[1] == [
        "The limit of streams must be 0 or more."
    ]

"""A quota request must raise a limit, against the real stack: from an unlimited limit it is
refused (422 naming ``requested_limit``, saying the limit is already unlimited), as is one that
does not raise the limit; a raise from a limit of zero goes for approval, and nothing an approver
reads about it (reasons, risk notes, title, the approval view, the UI card) says "inf" or "nan".
Each role, and another organization (whose team is a 404)."""

from __future__ import annotations

import re

import pytest

from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.waiting import wait_until
from ui import approval_text
from ui.approval_widgets import request_caption
from ui.client.approvals import Approval

NOT_A_NUMBER = re.compile(r"\b(inf|infinity|nan)\b|∞", re.IGNORECASE)
# teams:read lets a team's member ask; the admin may ask for any team
ASKS = {"admin": True, "member": True, "editor": False, "viewer": False, "operator": False}


@pytest.fixture
def org(api, stack):
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    org.roles = {role: org.member(role) for role in ASKS}
    org.payments = org.team(
        unique("payments"),
        [a for r, a in org.roles.items() if r != "admin"],
        prefix=unique("pay").lower() + "-",
    )
    limits = api.put(
        f"/api/v1/teams/{org.payments['id']}/quotas",
        headers=org.admin.headers,
        json={"limits": {"streams": 10, "consumers": 0}},
    )
    assert limits.status_code == 200, limits.text
    return org


def ask(org, who, resource: str, limit: int, team_id: str | None = None):
    return org.api.post(
        "/api/v1/quota-requests",
        headers=who.headers,
        json={
            "team_id": team_id or org.payments["id"],
            "resource": resource,
            "requested_limit": limit,
            "justification": "onboarding three payment processors",
        },
    )


def refused_field(reply) -> tuple[int, list[str], str]:
    body = reply.json()
    return reply.status_code, [e["field"] for e in body.get("errors") or []], body["detail"]


@pytest.mark.parametrize("role", list(ASKS))
def test_each_role_asks_from_unlimited_and_without_a_raise(org, role):
    who = org.roles[role]
    unlimited = ask(org, who, "messages", 20)  # no messages limit: unlimited
    equal, lower = ask(org, who, "streams", 10), ask(org, who, "streams", 5)
    if not ASKS[role]:
        assert [r.status_code for r in (unlimited, equal, lower)] == [403, 403, 403], role
        return
    status, fields, detail = refused_field(unlimited)
    assert (status, fields) == (422, ["requested_limit"]), unlimited.text
    assert "requested_limit" in detail and "already unlimited" in detail, detail
    for reply in (equal, lower):
        status, fields, detail = refused_field(reply)
        assert (status, fields) == (422, ["requested_limit"]), reply.text
        assert "already 10" in detail, detail
    listed = org.api.get(
        "/api/v1/quota-requests", headers=org.admin.headers, params={"team_id": org.payments["id"]}
    ).json()["items"]
    assert listed == []  # nothing refused was filed


def test_another_organizations_team_is_not_found(org, api, stack):
    other = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    for who in (other.admin, other.member("member")):
        reply = ask(org, who, "streams", 20)
        assert reply.status_code == 404, reply.text
    assert (
        org.api.get(
            "/api/v1/quota-requests",
            headers=org.admin.headers,
            params={"team_id": org.payments["id"]},
        ).json()["items"]
        == []
    )


def test_a_raise_from_zero_goes_for_approval_and_no_text_reads_inf(org):
    sent = ask(org, org.roles["member"], "consumers", 20)
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "waiting_approval"
    view = org.request(sent.json()["request_id"])
    reasons = view["decision"]["reasons"]
    assert "The requested limit of 20 is more than 2× the current limit of 0." in reasons
    assert "The consumers limit rises from 0 to 20." in view["risk_notes"]
    assert view["diff"] == {"consumers": {"before": 0, "after": 20}}
    card = approval_text.change_rows(view["diff"], view["spec"])
    assert card == [{"Field": "consumers", "Before": "0", "After": "20"}]
    texts = [
        view["title"],
        *reasons,
        *view["risk_notes"],
        *sent.json()["reasons"],
        request_caption(Approval.from_json(view), {}, {}),
        *(cell for row in card for cell in row.values()),
    ]
    found = [t for t in texts if NOT_A_NUMBER.search(t)]
    assert found == [], found

    def audited():
        return [
            e
            for e in org.api.get(
                "/api/v1/audit/logs",
                headers=org.admin.headers,
                params={"action": "approval.request", "limit": 50},
            ).json()["items"]
            if e["resource_id"] == sent.json()["request_id"]
        ]

    wait_until(audited, "the audit record of the quota request")

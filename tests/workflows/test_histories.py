"""Every committed history replays with the current code, one per released version of each
workflow: a missing history fails (never skips), and none is ever re-recorded. The approval
workflow's two unmarked versions (before and since 9e0499f) both replay, as do runs of the current
code, which carry the patch marker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.workflows.recorded import COMMITTED, DIR, load, record_new, replay_failure
from workflows.worker import WORKFLOWS

OTHER_HISTORIES = Path(__file__).parents[1] / "operations" / "histories"  # ReplayWorkflow's


def recorded_type(path: Path) -> str:
    first = json.loads(path.read_text())["events"][0]
    return first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]


@pytest.mark.parametrize("name", sorted(COMMITTED))
async def test_every_committed_history_replays(name):
    history = load(name)
    assert recorded_type(DIR / name) == COMMITTED[name][0]
    failure = await replay_failure(history, WORKFLOWS)
    assert failure is None, f"{name} ({COMMITTED[name][1]}) no longer replays: {failure}"


def test_the_folder_holds_exactly_the_listed_histories():
    """A history added without saying which version it records, or one removed, fails here."""
    assert sorted(p.name for p in DIR.glob("*.json")) == sorted(COMMITTED)


def test_every_workflow_has_a_committed_history():
    recorded = {
        recorded_type(p) for folder in (DIR, OTHER_HISTORIES) for p in folder.glob("*.json")
    }
    names = {w.__temporal_workflow_definition.name for w in WORKFLOWS}
    assert names <= recorded, f"no committed history for {sorted(names - recorded)}"


async def test_an_approved_quota_request_replays(api, stack):
    """QuotaRequestWorkflow (the approval workflow under its own name) from a real run."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    dev = org.member("member", "dev")
    team = org.team(unique("payments"), [dev], prefix=unique("pay").lower() + "-")
    limits = api.put(
        f"/api/v1/teams/{team['id']}/quotas",
        headers=org.admin.headers,
        json={"limits": {"storage_bytes": 100 * 1024**3}},
    )
    assert limits.status_code == 200, limits.text
    asked = api.post(
        "/api/v1/quota-requests",
        headers=dev.headers,
        json={
            "team_id": team["id"],
            "resource": "storage_bytes",
            "requested_limit": 1000 * 1024**3,
            "justification": "a recorded history",
        },
    )
    assert asked.status_code == 202 and asked.json()["status"] == "waiting_approval", asked.text
    rid = asked.json()["request_id"]
    assert org.act(org.admin, rid, "approve").status_code == 200
    org.wait_status(rid, "executed")

    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    operation = api.get(
        f"/api/v1/operations/{asked.json()['operation_id']}", headers=org.admin.headers
    ).json()
    history = await client.get_workflow_handle(operation["workflow_id"]).fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    record_new(history, "quota_request_single_input.json")

"""Change requests through the API against the real stack: a production change waits for
approval (202), the approval workflow enforces four-eyes, roles, one vote per person, N-of-M and
groups in sequence, and the change is applied once, by the worker, only when approved."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest

from tests.api.orgs import signup
from tests.approvals.setup import consumer_exists, consumer_path, production_org
from tests.fixtures import unique, wait_for_audit


@pytest.fixture
async def prod(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.stream = unique("PROD")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"])
    yield org
    await js.delete_stream(org.stream)


def notified(org, who, request_id: str, expected: set[str], timeout: float = 60) -> set[str]:
    """The events of the request in the person's notifications, once ``expected`` have come (or
    what came by the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        items = org.api.get("/api/v1/notifications", headers=who.headers).json()["items"]
        events = {n["event"] for n in items if n["request_id"] == request_id}
        if expected <= events or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def ask_for_consumer(org, who, name: str):
    reply = org.api.post(
        consumer_path(org, org.stream),
        headers=who.headers,
        json={"durable_name": name, "ack_policy": "explicit"},
    )
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["status"] == "waiting_approval" and body["request_id"] and body["operation_id"]
    return body


async def test_production_change_waits_and_four_eyes_applies_it(prod, hub_nc):
    second = prod.member("admin", "second")
    pending = ask_for_consumer(prod, prod.admin, "c1")
    assert not await consumer_exists(hub_nc, prod.stream, "c1")

    request = prod.request(pending["request_id"])
    assert request["decision"]["policy"]["name"] == "Production Changes"
    assert request["current_group"]["roles"] == ["admin", "team_lead"]
    assert request["can_vote"] is False and request["can_withdraw"] is True  # the requester

    own = prod.act(prod.admin, pending["request_id"], "approve")
    assert own.status_code == 403 and "own request" in own.json()["detail"]
    assert prod.request(pending["request_id"])["votes"] == []  # a refused vote leaves no trace

    waiting = prod.api.get(
        "/api/v1/approvals", headers=second.headers, params={"waiting_for_me": True}
    ).json()["items"]
    assert [r["id"] for r in waiting] == [pending["request_id"]]
    approved = prod.act(second, pending["request_id"], "approve", "looks right")
    assert approved.status_code == 200, approved.text
    done = prod.wait_status(pending["request_id"], "executed")
    assert done["votes"][0]["voter"]["email"] == second.email
    assert await consumer_exists(hub_nc, prod.stream, "c1")
    # The request is marked executed first; the operation ends right after (its own record).
    deadline = time.monotonic() + 60
    while True:
        operation = prod.api.get(
            f"/api/v1/operations/{pending['operation_id']}", headers=prod.admin.headers
        ).json()
        if operation["status"] != "running" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert operation["status"] == "completed" and operation["type"] == "approval"

    again = prod.act(second, pending["request_id"], "approve")
    assert again.status_code == 409
    # The requester (an admin too) hears the outcome, not the call for approvers; the approver
    # heard that call.
    assert notified(prod, prod.admin, pending["request_id"], {"approved", "executed"}) == {
        "approved",
        "executed",
    }
    assert notified(prod, second, pending["request_id"], {"created"}) == {"created"}
    wait_for_audit(
        prod.api,
        prod.admin.headers,
        action="approval.approve",
        resource_id=pending["request_id"],
        user_email=second.email,
    )
    wait_for_audit(
        prod.api,
        prod.admin.headers,
        action="approval.request",
        resource_id=pending["request_id"],
        user_email=prod.admin.email,
    )


async def test_wrong_role_is_refused_and_a_reason_is_required_to_reject(prod, hub_nc):
    editor, viewer, second = prod.member("editor"), prod.member("viewer"), prod.member("admin")
    pending = ask_for_consumer(prod, editor, "c2")
    refused = prod.act(viewer, pending["request_id"], "approve")
    assert refused.status_code == 403, refused.text
    assert "role admin or role team_lead" in refused.json()["detail"]
    own = prod.act(editor, pending["request_id"], "approve")
    assert own.status_code == 403 and "own request" in own.json()["detail"]
    no_reason = prod.act(second, pending["request_id"], "reject")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    rejected = prod.act(second, pending["request_id"], "reject", "use the shared consumer")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    closed = prod.act(prod.admin, pending["request_id"], "approve")
    assert closed.status_code == 409 and "rejected" in closed.json()["detail"]
    done = prod.wait_status(pending["request_id"], "rejected")
    assert done["votes"][0]["comment"] == "use the shared consumer"
    assert not await consumer_exists(hub_nc, prod.stream, "c2")


async def test_n_of_m_then_a_second_group_in_sequence(prod, hub_nc):
    editor = prod.member("editor")
    a2, a3 = prod.member("admin", "a2"), prod.member("admin", "a3")
    finance = prod.member("viewer", "finance")
    prod.team("finance", [finance])
    prod.policy(
        {
            "name": "Two admins then finance",
            "priority": 1,
            "triggers": {"environments": ["production"], "kinds": ["consumer"]},
            "groups": [
                {"name": "Two admins", "count": 2, "roles": ["admin"]},
                {"name": "Finance", "count": 1, "teams": ["finance"]},
            ],
        }
    )
    pending = ask_for_consumer(prod, editor, "c3")
    rid = pending["request_id"]
    assert prod.act(prod.admin, rid, "approve").status_code == 200
    twice = prod.act(prod.admin, rid, "approve")
    assert twice.status_code == 409 and "already voted" in twice.json()["detail"]
    assert prod.request(rid)["current_group"]["name"] == "Two admins"
    early = prod.act(finance, rid, "approve")  # finance's turn comes after the admins
    assert early.status_code == 403
    assert prod.act(a2, rid, "approve").status_code == 200
    state = prod.request(rid)
    assert state["status"] == "waiting_approval" and state["current_group"]["name"] == "Finance"
    assert prod.act(a3, rid, "approve").status_code == 403  # an admin, but not finance
    assert not await consumer_exists(hub_nc, prod.stream, "c3")
    assert prod.act(finance, rid, "approve").status_code == 200
    done = prod.wait_status(rid, "executed")
    assert [v["group"] for v in done["votes"]] == ["Two admins", "Two admins", "Finance"]
    assert await consumer_exists(hub_nc, prod.stream, "c3")


async def test_concurrent_approvals_apply_the_change_once(prod, hub_nc, stack):
    editor = prod.member("editor")
    admins = [prod.member("admin", f"a{i}") for i in range(2)]
    pending = ask_for_consumer(prod, editor, "c4")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda a: prod.act(a, pending["request_id"], "approve"), admins))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 409], [r.text for r in replies]
    prod.wait_status(pending["request_id"], "executed")
    from temporalio.client import Client

    client = await Client.connect(stack.env["JSC_TEMPORAL_ADDRESS"])
    operation = prod.api.get(
        f"/api/v1/operations/{pending['operation_id']}", headers=prod.admin.headers
    ).json()
    history = await client.get_workflow_handle(operation["workflow_id"]).fetch_history()
    applied = [
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "apply_change"
    ]
    assert len(applied) == 1


async def test_withdraw_and_request_changes_change_nothing(prod, hub_nc):
    editor, second = prod.member("editor"), prod.member("admin")
    first = ask_for_consumer(prod, editor, "c5")
    other = prod.act(second, first["request_id"], "withdraw")
    assert other.status_code == 403 and "requester" in other.json()["detail"]
    mine = prod.api.get("/api/v1/approvals", headers=editor.headers, params={"mine": True})
    assert first["request_id"] in [r["id"] for r in mine.json()["items"]]
    withdrawn = prod.act(editor, first["request_id"], "withdraw", "not needed after all")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"

    second_ask = ask_for_consumer(prod, editor, "c6")
    changes = prod.act(second, second_ask["request_id"], "request-changes", "add a filter")
    assert changes.status_code == 200 and changes.json()["status"] == "changes_requested"
    for rid in (first["request_id"], second_ask["request_id"]):
        prod.wait_status(rid, "withdrawn", "changes_requested")
    assert not await consumer_exists(hub_nc, prod.stream, "c5")
    assert not await consumer_exists(hub_nc, prod.stream, "c6")


async def test_policy_auto_rejects_and_development_applies_at_once(api, stack, hub_nc, prod):
    # A production stream with fewer than 3 replicas is refused by the seeded policy.
    refused = prod.api.post(
        f"/api/v1/clusters/{prod.cluster_id}/streams",
        headers=prod.admin.headers,
        json={"name": unique("R1"), "subjects": [f"{unique('r1')}.>"]},
    )
    assert refused.status_code == 403, refused.text
    assert "at least 3 replicas" in refused.json()["detail"]
    # A development cluster applies the same change directly: one of another organization (the
    # same organization's second registration of this server would be judged as production).
    other = signup(api)
    dev = api.post(
        "/api/v1/clusters",
        headers=other.headers,
        json={
            "name": unique("dev"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
            "jetstream_domain": "hub",
        },
    ).json()
    created = api.post(
        f"/api/v1/clusters/{dev['id']}/streams/{prod.stream}/consumers",
        headers=other.headers,
        json={"durable_name": "direct"},
    )
    assert created.status_code == 201, created.text
    assert await consumer_exists(hub_nc, prod.stream, "direct")


async def test_a_production_replay_waits_then_runs_as_its_own_operation(prod, hub_nc):
    second = prod.member("admin", "second")
    js = hub_nc.jetstream()
    copy = unique("COPY")
    await js.add_stream(name=copy, subjects=[f"{copy}.>"])
    try:
        for i in range(5):
            await js.publish(f"{prod.stream}.orders", f"m{i}".encode())
        asked = prod.api.post(
            "/api/v1/operations/replay",
            headers=prod.admin.headers,
            json={
                "cluster_id": prod.cluster_id,
                "stream": prod.stream,
                "destination": {"stream": copy, "subject_prefix": copy},
            },
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "waiting_approval"
        assert (await js.stream_info(copy)).state.messages == 0
        assert prod.act(second, asked.json()["request_id"], "approve").status_code == 200
        done = prod.wait_status(asked.json()["request_id"], "executed")
        replay_id = done["result"]["operation_id"]
        for _ in range(150):
            replay = prod.api.get(f"/api/v1/operations/{replay_id}", headers=prod.admin.headers)
            if replay.status_code == 200 and replay.json()["status"] == "completed":
                break
            await asyncio.sleep(0.2)
        assert replay.json()["type"] == "replay" and replay.json()["result"]["replayed"] == 5
        assert (await js.stream_info(copy)).state.messages == 5
    finally:
        await js.delete_stream(copy)

"""The approval workflow's SLA and escalation tiers under Temporal's time-skipping test server:
hours pass in a moment, each tier notifies its target (in the app and by a signed webhook), and
the request keeps waiting. The activities are the real ones, on the stack's PostgreSQL and Redis.
(Updates are not supported under time skipping; votes are tested against the dev server.)"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.changes.models import ApprovalTicket, ChangeSpec, ticket_context
from core.changes.requests import open_request
from core.notify.webhooks import verify
from core.policy import ApprovalGroup, Decision, Escalation
from tests.approvals.setup import production_org
from tests.fixtures import wait_for_audit
from tests.webhook_receiver import Receiver
from workflows.approval import ApprovalWorkflow
from workflows.inputs import ApprovalInput
from workflows.worker import running_worker

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def events(receiver: Receiver, name: str) -> list:
    return [r for r in receiver.received if r.headers.get("x-jsc-event") == name]


async def notifications(api, who, request_id: str) -> list[str]:
    reply = api.get("/api/v1/notifications", headers=who.headers)
    assert reply.status_code == 200, reply.text
    return [n["event"] for n in reply.json()["items"] if n["request_id"] == request_id]


async def eventually(check, timeout: float = 20):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)
    return result


async def test_sla_then_escalation_notify_and_the_request_keeps_waiting(
    api, stack, db_sessions, receiver
):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    oncall = org.member("viewer", "oncall")
    org.team("platform-oncall", [oncall])
    hook = api.post(
        "/api/v1/webhooks",
        headers=org.admin.headers,
        json={"name": "slack", "url": receiver.url, "events": []},
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]

    decision = Decision(
        outcome="needs_approval",
        groups=[ApprovalGroup(name="Admins", roles=["admin"])],
        reasons=["test"],
        sla_hours=4,
        escalation=[Escalation(after_hours=8, notify="@platform-oncall")],
    )
    spec = ChangeSpec(
        kind="consumer",
        operation="create",
        cluster_id=uuid.UUID(org.cluster_id),
        name="late",
        stream="NOPE",
        config={"durable_name": "late"},
    )
    ticket = ApprovalTicket(
        request_id=str(uuid.uuid4()),
        requester_id=oncall.user_id,
        requester_email=oncall.email,
        title=spec.title(),
        spec=spec,
        decision=decision,
    )
    async with db_sessions() as db:
        _, op = await open_request(
            db,
            org_id=uuid.UUID(org.admin.org_id),
            ticket=ticket,
            environment="production",
            team_id=None,
            diff={},
            risk_notes=[],
        )
        await db.commit()
    rid = ticket.request_id

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    try:
        queue = f"sla-{uuid.uuid4().hex[:8]}"
        async with running_worker(env.client, stack.settings, task_queue=queue):
            handle = await env.client.start_workflow(
                ApprovalWorkflow.run,
                ApprovalInput(
                    context=ticket_context(ticket, org.admin.org_id, str(op.id)), ticket=ticket
                ),
                id=op.workflow_id,
                task_queue=queue,
            )

            async def view() -> dict:
                return await handle.query(ApprovalWorkflow.view)

            await eventually(lambda: _status_is(view, "waiting_approval"))
            await eventually(lambda: _has(receiver, "created", 1))
            await env.sleep(timedelta(hours=3))
            assert (await view())["escalations"] == []

            await env.sleep(timedelta(hours=2))  # 5 h: past the 4 h SLA
            first = (await view())["escalations"]
            assert [(e["tier"], e["target"]) for e in first] == [(1, None)]
            assert "escalated" in await eventually(lambda: notifications(api, org.admin, rid))
            assert "escalated" not in await notifications(api, oncall, rid)

            await env.sleep(timedelta(hours=4))  # 9 h: past the 8 h escalation
            state = await view()
            assert [(e["tier"], e["target"]) for e in state["escalations"]] == [
                (1, None),
                (2, "@platform-oncall"),
            ]
            assert state["request_status"] == "waiting_approval"  # it keeps waiting
            assert "escalated" in await eventually(lambda: notifications(api, oncall, rid))
            await eventually(lambda: _has(receiver, "escalated", 2))
            await handle.terminate("test over")
    finally:
        await env.shutdown()

    assert receiver.received
    for delivery in receiver.received:
        headers = delivery.headers
        assert verify(secret, headers["x-jsc-timestamp"], delivery.body, headers["x-jsc-signature"])
        assert not verify(
            "another-secret", headers["x-jsc-timestamp"], delivery.body, headers["x-jsc-signature"]
        )
    escalated = json.loads(events(receiver, "escalated")[-1].body)
    assert escalated["request_id"] == rid and "@platform-oncall" in escalated["text"]
    wait_for_audit(api, org.admin.headers, action="approval.escalated", resource_id=str(op.id))


async def _status_is(view, status: str) -> bool:
    return (await view())["status"] == status


async def _has(receiver: Receiver, event: str, count: int) -> bool:
    return len(events(receiver, event)) >= count

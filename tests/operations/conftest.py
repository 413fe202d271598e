"""Replay tests: streams with known contents on the real clusters, and readers that check the
destination message by message."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

FINISHED = ("completed", "failed", "cancelled")


async def make_stream(nc, name: str, subjects: list[str], **config):
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=name, subjects=subjects, **config))
    return js


async def fill(js, subjects: list[str], count: int, size: int = 16, headers=None) -> None:
    """``count`` messages, round-robin over ``subjects``; payload ``<i>:`` padded to ``size``."""
    batch = []
    for i in range(count):
        payload = f"{i}:".encode().ljust(size, b"x")
        batch.append(await js.publish_async(subjects[i % len(subjects)], payload, headers=headers))
        if len(batch) >= 2000:
            for fut in batch:
                await fut
            batch.clear()
    for fut in batch:
        await fut


async def read_all(nc, stream: str, batch: int = 1000) -> list:
    """Every message of ``stream`` through an ephemeral AckNone consumer (limits streams)."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    sub = await js.pull_subscribe(
        "",
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=10,
            mem_storage=True,
        ),
    )
    out = []
    try:
        while len(out) < info.state.messages:
            out.extend(await sub.fetch(batch, timeout=5))
    finally:
        await sub.unsubscribe()
    return out


def start_replay(api, headers, body: dict, key: str | None = None) -> dict:
    extra = {"Idempotency-Key": key} if key else {}
    reply = api.post("/api/v1/operations/replay", json=body, headers={**headers, **extra})
    assert reply.status_code == 202, reply.text
    return reply.json()


def wait_operation(api, headers, op_id: str, until=FINISHED, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        op = api.get(f"/api/v1/operations/{op_id}", headers=headers).json()
        if op["status"] in until:
            return op
        assert time.monotonic() < deadline, f"operation stayed {op['status']}: {op}"
        time.sleep(0.2)


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    return {"src": f"src-{tag}", "dst": f"dst-{tag}", "tag": tag}


async def start_replay_with(
    stack, db_sessions, api, headers, body: dict, carry, released: bool = False
) -> str:
    """Starts a ReplayWorkflow the way the API does (an operations row, then the workflow), but
    with a ``ReplayCarry`` of the test's own: shorter runs or longer chunks than production's.
    ``released``: with the positional arguments releases before ``ReplayInput`` started it with
    (``[context, request, carry]``), as a run still going since then was. Returns the operation
    id; read it back through the API."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from core.db.models import Operation
    from core.operations import OperationContext, workflow_id_for
    from core.replay.models import ReplayRequest
    from workflows.inputs import ReplayInput
    from workflows.replay import ReplayWorkflow

    me = api.get("/api/v1/auth/me", headers=headers).json()
    request = ReplayRequest.model_validate(body)
    op_id = uuid.uuid4()
    workflow_id = workflow_id_for("replay", op_id)
    async with db_sessions() as db, db.begin():
        db.add(
            Operation(
                id=op_id,
                org_id=uuid.UUID(me["organization"]["id"]),
                type="replay",
                workflow_id=workflow_id,
                status="pending",
                progress={},
                input=request.model_dump(mode="json"),
                cluster_id=request.cluster_id,
                started_by=uuid.UUID(me["id"]),
            )
        )
    context = OperationContext(
        operation_id=str(op_id),
        org_id=me["organization"]["id"],
        user_id=me["id"],
        user_email=me["email"],
        type="replay",
    )
    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    if released:
        await client.start_workflow(
            "ReplayWorkflow",
            args=[context, request, carry],
            id=workflow_id,
            task_queue=stack.settings.task_queue,
        )
    else:
        await client.start_workflow(
            ReplayWorkflow.run,
            ReplayInput(context=context, request=request, carry=carry),
            id=workflow_id,
            task_queue=stack.settings.task_queue,
        )
    return str(op_id)


def source_seqs(msgs) -> Counter[int]:
    """How many times each source sequence is at the destination (Nats-Replay-Source)."""
    return Counter(int(m.headers["Nats-Replay-Source"].split(":")[1]) for m in msgs)

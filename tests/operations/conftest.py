"""Replay tests: streams with known contents on the real clusters, and readers that check the
destination message by message."""

from __future__ import annotations

import time
import uuid

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
    sub = await js.pull_subscribe("", stream=stream, config=ConsumerConfig(
        ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=10,
        mem_storage=True))
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

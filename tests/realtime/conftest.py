"""Real-time tests: clients of the SSE endpoint and the WebSocket on the real stack, and samples
published to the real ``JSC_LIVE`` stream with ``LivePublisher`` (as the collector will)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import nats
import pytest
import websockets

from core.live import subjects
from core.live.publisher import LivePublisher, ensure_live_stream
from core.live.samples import ClusterSample, ConsumerSample, StreamSample


class SseClient:
    """Reads one SSE connection in the background: ``events`` (id, event, data), ``comments``."""

    def __init__(self, base_url: str, params: dict, headers: dict | None = None):
        self.base_url, self.params, self.headers = base_url, params, headers or {}
        self.events: list[dict] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.body = b""
        self.opened = asyncio.Event()
        self.ended = asyncio.Event()

    async def run(self) -> None:
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=httpx.Timeout(30, read=None)
            ) as client:
                async with client.stream(
                    "GET", "/api/v1/stream/metrics", params=self.params, headers=self.headers
                ) as reply:
                    self.status = reply.status_code
                    if reply.status_code != 200:
                        self.body = await reply.aread()
                        return
                    self.opened.set()
                    event: dict = {}
                    async for line in reply.aiter_lines():
                        if line == "":
                            if "data" in event:
                                self.events.append(event)
                            event = {}
                        elif line.startswith(":"):
                            self.comments.append(line[1:].strip())
                        else:
                            key, _, value = line.partition(":")
                            value = value[1:] if value.startswith(" ") else value
                            event[key] = (
                                int(value)
                                if key == "id"
                                else (json.loads(value) if key == "data" else value)
                            )
        except httpx.TransportError:
            pass
        finally:
            self.opened.set()
            self.ended.set()

    def of(self, event_type: str | None = None) -> list[dict]:
        return [e for e in self.events if event_type is None or e.get("event") == event_type]

    @property
    def last_id(self) -> int | None:
        return self.events[-1]["id"] if self.events else None


@asynccontextmanager
async def sse(stack, params: dict, headers: dict | None = None):
    client = SseClient(stack.api_url, params, headers)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(client.opened.wait(), 60)
        yield client
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check, what: str, timeout: float = 60.0, poll=None):
    """Wait (without blocking the loop) until ``check()`` is truthy; fail naming ``what``.
    ``poll``: a coroutine function awaited before each check (to refresh what it reads)."""
    deadline = time.monotonic() + timeout
    while True:
        if poll is not None:
            await poll()
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting {timeout:g}s for {what}"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def websocket(stack, token: str):
    url = stack.api_url.replace("http://", "ws://") + "/ws/v1/realtime"
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        yield ws


async def ws_next(ws, kind: str | None = None, timeout: float = 60.0) -> dict:
    """The next message of ``kind`` (heartbeats skipped unless asked for)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind or 'message'} within {timeout:g}s"
        message = json.loads(await asyncio.wait_for(ws.recv(), left))
        if kind is None and message["type"] != "heartbeat" or message["type"] == kind:
            return message


def bearer(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


@pytest.fixture(scope="session")
async def live(stack):
    nc = await nats.connect(stack.settings.events_nats_url)
    await ensure_live_stream(nc)
    yield LivePublisher(nc)
    await nc.close()


def stream_sample(org, cluster, stream: str, n: int, consumers=("c1", "c2"), **extra) -> dict:
    """A valid ``StreamSample`` (the metrics ingester stores it too), plus ``extra`` fields."""
    now = datetime.now(UTC)
    sample = StreamSample(
        id=uuid.uuid4(),
        org_id=org,
        cluster_id=cluster,
        stream=stream,
        timestamp=now,
        messages=max(n, 0),
        bytes=max(n, 0) * 10,
        first_seq=1,
        last_seq=max(n, 0),
        consumer_count=len(consumers),
        consumers=[
            ConsumerSample(
                name=c,
                pending=max(n, 0),
                ack_pending=0,
                redelivered=0,
                waiting=0,
                delivered=0,
                acked=0,
                lag=max(n, 0),
            )
            for c in consumers
        ],
    )
    return {**sample.model_dump(mode="json"), "sent_at": time.time(), **extra}


def cluster_sample(org, cluster, n: int) -> dict:
    sample = ClusterSample(
        id=uuid.uuid4(),
        org_id=org,
        cluster_id=cluster,
        timestamp=datetime.now(UTC),
        reachable=True,
        streams=n,
    )
    return {**sample.model_dump(mode="json"), "sent_at": time.time()}


async def publish_stream(live, org, cluster, stream: str, n: int, **extra) -> int:
    return await live.publish(
        subjects.stream_sample(org, cluster, stream),
        stream_sample(org, cluster, stream, n, **extra),
        uuid.uuid4().hex,
    )


async def publish_cluster(live, org, cluster, n: int) -> int:
    return await live.publish(
        subjects.cluster_sample(org, cluster), cluster_sample(org, cluster, n), uuid.uuid4().hex
    )

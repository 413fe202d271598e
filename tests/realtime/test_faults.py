"""Real-time faults: a client that stops reading is dropped while a fast one keeps receiving (and
resumes without loss); an SSE client resumes without loss after the API restarts."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import urlencode, urlparse

import websockets

from core.live import subjects
from core.live.subjects import STREAM
from tests.durability.faults import api_ready, wait_until
from tests.fixtures import unique
from tests.realtime.conftest import bearer, publish_stream, sse, until

BIG = "x" * 16_000  # fills a slow client's buffers in a few thousand samples


async def _publish_many(live, org, cid, name: str, count: int) -> list[int]:
    return [await publish_stream(live, org, cid, name, n, padding=BIG) for n in range(count)]


def _slow_socket(stack, path: str) -> socket.socket:
    """An HTTP client that sends its request, then reads nothing until told (tiny buffers)."""
    url = urlparse(stack.api_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
    sock.settimeout(60)
    opened = b""
    while b": connected" not in opened:  # its reader is live: from now on it misses nothing
        chunk = sock.recv(4096)
        assert chunk, opened
        opened += chunk
    return sock


def _read_to_end(sock: socket.socket, timeout: float) -> bytes:
    """Everything until the server closes the connection (fails after ``timeout``)."""
    sock.settimeout(timeout)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    raise AssertionError(f"the server did not close the slow client's connection in {timeout}s")


async def _count_readers(live, org, cid, name: str, out: list) -> None:
    """How many consumers of JSC_LIVE read exactly this stream's samples (into ``out``)."""
    wanted = subjects.stream_sample(org, cid, name)
    infos = await live.js.consumers_info(STREAM)
    out[:] = [sum(1 for info in infos if info.config.filter_subject == wanted)]


async def test_a_slow_client_is_dropped_while_a_fast_one_keeps_receiving(
    stack, api, admin_headers, admin_org_id, hub_cluster, live
):
    cid, name = hub_cluster["id"], unique("rt-slow")
    channel = f"metrics:stream:{cid}:{name}"
    token = api.post("/api/v1/stream/token", headers=admin_headers).json()["token"]
    settings = stack.settings
    count = settings.realtime_queue_size + 700  # more than its queue, and its socket buffers
    readers: list[int] = []
    async with sse(stack, {"channels": channel}, admin_headers) as fast:
        await until(lambda: "connected" in fast.comments, "the fast client to open")
        slow = await asyncio.to_thread(
            _slow_socket,
            stack,
            "/api/v1/stream/metrics?" + urlencode({"channels": channel, "token": token}),
        )
        try:
            seqs = await _publish_many(live, admin_org_id, cid, name, count)
            await until(
                lambda: fast.last_id == seqs[-1], "the fast client to get every sample", timeout=120
            )
            assert [e["id"] for e in fast.events] == seqs
            # the slow one is dropped (its queue full for realtime_slow_client_s): its reader's
            # consumer goes, the fast one's stays; then its connection ends once it reads what
            # was sent before
            await until(
                lambda: readers == [1],
                "the slow client's reader to go",
                timeout=120,
                poll=lambda: _count_readers(live, admin_org_id, cid, name, readers),
            )
            body = await asyncio.to_thread(
                _read_to_end, slow, settings.realtime_slow_client_s + 120
            )
        finally:
            slow.close()
        got = [
            int(line[4:])
            for line in body.decode(errors="replace").splitlines()
            if line.startswith("id: ")
        ]
        assert got and got == seqs[: len(got)] and len(got) < len(seqs), len(got)
        # it resumes from its last id and gets exactly the rest
        async with sse(
            stack, {"channels": channel, "last_event_id": got[-1]}, admin_headers
        ) as resumed:
            await until(lambda: resumed.last_id == seqs[-1], "the rest after the drop", timeout=120)
            assert [e["id"] for e in resumed.events] == seqs[len(got) :]
        later = await publish_stream(live, admin_org_id, cid, name, 0)
        await until(lambda: fast.last_id == later, "the fast client to go on receiving")


async def test_an_sse_client_resumes_without_loss_after_the_api_restarts(
    stack, api, admin_headers, admin_org_id, hub_cluster, live
):
    cid, name = hub_cluster["id"], unique("rt-restart")
    channel = {"channels": f"metrics:stream:{cid}:{name}"}
    before = [await publish_stream(live, admin_org_id, cid, name, n) for n in range(3)]
    async with sse(stack, {**channel, "last_event_id": before[0] - 1}, admin_headers) as client:
        await until(lambda: client.last_id == before[-1], "the samples before the restart")
        stack.kill("api")
        await until(lambda: client.ended.is_set(), "the connection to end with the API")
    last_seen = client.last_id
    during = [await publish_stream(live, admin_org_id, cid, name, n) for n in range(3, 6)]
    await asyncio.to_thread(wait_until, lambda: api_ready(api), "the API to be back", 180)
    async with sse(stack, channel, {**admin_headers, "Last-Event-ID": str(last_seen)}) as again:
        assert again.status == 200, again.body
        await until(lambda: again.last_id == during[-1], "the samples missed during the restart")
        after = await publish_stream(live, admin_org_id, cid, name, 6)
        await until(lambda: again.last_id == after, "live samples after the restart")
        assert [e["id"] for e in client.events + again.events] == before + during + [after]


async def test_a_websocket_that_stops_reading_is_closed_and_its_reader_goes(
    stack, admin_headers, admin_org_id, hub_cluster, live
):
    cid, name = hub_cluster["id"], unique("rt-wsslow")
    readers: list[int] = []
    url = stack.api_url.replace("http://", "ws://") + "/ws/v1/realtime"
    # a client that buffers one message and reads nothing more: the server's sends back up
    async with websockets.connect(url, max_size=None, max_queue=1) as ws:
        await ws.send(json.dumps({"type": "auth", "token": bearer(admin_headers)}))
        assert json.loads(await ws.recv())["type"] == "auth_ok"
        await ws.send(
            json.dumps({"type": "subscribe", "channels": [f"metrics:stream:{cid}:{name}"]})
        )
        assert json.loads(await ws.recv())["type"] == "subscribed"
        seqs = await _publish_many(
            live, admin_org_id, cid, name, stack.settings.realtime_queue_size + 700
        )
        await until(
            lambda: readers == [0],
            "the slow WebSocket's reader to go",
            timeout=120,
            poll=lambda: _count_readers(live, admin_org_id, cid, name, readers),
        )
        got, closed = [], False
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "stream_metrics":
                    got.append(message["id"])
        except websockets.ConnectionClosed:
            closed = True
        assert closed and got == seqs[: len(got)] and len(got) < len(seqs), len(got)

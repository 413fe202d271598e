"""A full backup: the server's own snapshot of a stream (``STREAM.SNAPSHOT``), received with
flow control and handed on in chunks of up to 8 MiB.

The server sends ``window_size / chunk_size`` messages ahead of our acknowledgements and gives up
after 5 s without one. Messages are acknowledged as soon as they are in a chunk being gathered;
complete chunks wait in a bounded queue (``queue_chunks``) for the caller, who writes them to a
target at its own pace. So a slow write does not stop the acknowledgements until the queue is
full, and memory holds at most ``queue_chunks + 1`` chunks plus the server's window — never the
stream. Only a target slower than that buffer for 5 s makes the server abort (``SnapshotFailed``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from core.jetstream.api import JetStreamApi, JetStreamError

CHUNK_BYTES = 8 * 1024 * 1024
SERVER_CHUNK = 1024 * 1024  # the largest message the server sends (it clamps to 1 MiB)
WINDOW = 16 * 1024 * 1024
QUEUE_CHUNKS = 3
STALL_S = 60.0


class SnapshotFailed(Exception):
    """The server refused or aborted the snapshot; the message is its own reason."""


class Snapshot:
    """``async with Snapshot(js, stream) as snap``: ``snap.config``/``snap.state`` as the server
    answered (the state the snapshot holds), then ``async for chunk in snap.chunks()``."""

    def __init__(
        self,
        js: JetStreamApi,
        stream: str,
        *,
        consumers: bool = True,
        chunk_bytes: int = CHUNK_BYTES,
        server_chunk: int = SERVER_CHUNK,
        window: int = WINDOW,
        queue_chunks: int = QUEUE_CHUNKS,
    ):
        self.js, self.stream, self.consumers = js, stream, consumers
        self.chunk_bytes, self.server_chunk, self.window = chunk_bytes, server_chunk, window
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_chunks)
        self._buffer = bytearray()
        self._sub: Subscription | None = None
        self.config: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.received = 0

    async def __aenter__(self) -> Snapshot:
        nc = self.js.nc
        inbox = nc.new_inbox()
        self._sub = await nc.subscribe(
            inbox, cb=self._on_message, pending_bytes_limit=4 * self.window + 64 * 1024 * 1024
        )
        request = {
            "deliver_subject": inbox,
            "no_consumers": not self.consumers,
            "chunk_size": self.server_chunk,
            "window_size": self.window,
        }
        try:
            reply = await self.js.request(f"STREAM.SNAPSHOT.{self.stream}", request)
        except JetStreamError as exc:
            await self._close()
            if exc.not_found:
                raise
            raise SnapshotFailed(
                f"the server refused to snapshot stream '{self.stream}': {exc.description}"
            ) from exc
        except BaseException:
            await self._close()
            raise
        self.config, self.state = reply.get("config") or {}, reply.get("state") or {}
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._close()

    async def _close(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # the connection may be gone; the server stops without acks
                pass
            self._sub = None

    async def _on_message(self, msg: Msg) -> None:
        if not msg.data:  # the end: a status header says how it went (none for a tiny one)
            headers = msg.headers or {}
            status = str(headers.get("Status", "204"))
            if status != "204":
                reason = headers.get("Description") or f"status {status}"
                await self._queue.put(
                    SnapshotFailed(
                        f"the server aborted the snapshot of stream '{self.stream}': {reason}"
                    )
                )
                return
            if self._buffer:
                await self._queue.put(bytes(self._buffer))
                self._buffer.clear()
            await self._queue.put(None)
            return
        self._buffer += msg.data
        self.received += len(msg.data)
        if len(self._buffer) >= self.chunk_bytes:
            chunk = bytes(self._buffer[: self.chunk_bytes])
            del self._buffer[: self.chunk_bytes]
            await self._queue.put(chunk)  # waits while the queue is full: acks stop too
        if msg.reply:
            await self.js.nc.publish(msg.reply, b"")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The snapshot's bytes as the server sent them, in chunks of ``chunk_bytes`` (the last
        one shorter)."""
        while True:
            try:
                async with asyncio.timeout(STALL_S):  # not wait_for: it can swallow a cancel
                    item = await self._queue.get()
            except TimeoutError:
                raise SnapshotFailed(
                    f"the snapshot of stream '{self.stream}' stalled: nothing "
                    f"received for {STALL_S:g} s"
                ) from None
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

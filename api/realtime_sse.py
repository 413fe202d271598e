"""The server-sent events response of ``GET /api/v1/stream/metrics``: one live reader's messages as
``id:`` (the ``JSC_LIVE`` sequence) / ``event:`` / ``data:`` events, a comment line every
``heartbeat_s`` so that proxies keep an idle connection open, and an end to the connection when
the reader drops a client that does not keep up (it reconnects with ``Last-Event-ID``), or when
the client goes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi.responses import StreamingResponse

from api.realtime_access import Channel, Scope, events_of
from api.realtime_auth import still_signed_in
from core.live.reader import LiveReader

log = logging.getLogger(__name__)
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    # never reused: a stream that ends (a client dropped as too slow) ends its connection
    "Connection": "close",
    # The UI (another origin) opens it with EventSource: the token is in the query and no
    # cookie is ever read, so any origin may.
    "Access-Control-Allow-Origin": "*",
}
RETRY_MS = 1000  # how soon an EventSource reconnects


def sse_lines(seq: int, event: str, data: Any) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class EventStream(StreamingResponse):
    """An ASGI response that owns its reader and closes it however the connection ends."""

    def __init__(
        self, reader: LiveReader, channels: list[Channel], scope: Scope, heartbeat_s: float
    ):
        super().__init__(iter(()), media_type="text/event-stream", headers=HEADERS)
        self.reader, self.channels, self.scope, self.heartbeat_s = (
            reader,
            channels,
            scope,
            heartbeat_s,
        )
        self.signed_out = asyncio.Event()

    async def _write(self, send) -> None:
        async def chunk(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        await chunk(f"retry: {RETRY_MS}\n: connected\n\n")
        while True:
            msg = await self.reader.next(self.heartbeat_s)
            if msg is None:
                if not await still_signed_in(self.scope.services, self.scope.principal):
                    self.signed_out.set()  # the client reconnects and is refused
                    return
                await chunk(": heartbeat\n\n")
                continue
            seen, out = set(), []
            for event in await events_of(msg, self.channels, self.scope):
                text = sse_lines(event.seq, event.type, event.data)
                if text not in seen:  # one message that two channels want is sent once
                    seen.add(text)
                    out.append(text)
            if out:
                await chunk("".join(out))

    @staticmethod
    async def _until_disconnect(receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        tasks = {
            asyncio.create_task(self._write(send)),
            asyncio.create_task(self._until_disconnect(receive)),
            asyncio.create_task(self.reader.dropped.wait()),
            asyncio.create_task(self.signed_out.wait()),
        }
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.info("event stream ended: %r", task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.reader.close()
        try:  # the end of the body; a client that reads nothing any more is not waited for
            await asyncio.wait_for(
                send({"type": "http.response.body", "body": b"", "more_body": False}), 2
            )
        except Exception:  # gone already, or not reading
            pass

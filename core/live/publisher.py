"""Publishing to ``JSC_LIVE`` over a connection to the internal account
(``settings.events_nats_url``)."""

from __future__ import annotations

import json
from typing import Any

import nats
from nats.aio.client import Client as NATS

from core.events import ensure_internal_stream
from core.live.subjects import STREAM_CONFIG


async def ensure_live_stream(nc: NATS) -> None:
    await ensure_internal_stream(nc, STREAM_CONFIG)


class LivePublisher:
    def __init__(self, nc: NATS, timeout: float = 5.0):
        self.nc = nc
        self.js = nc.jetstream(timeout=timeout)

    async def publish(self, subject: str, body: dict[str, Any] | str, msg_id: str) -> int:
        """Stored once (``msg_id`` de-duplicates a retry); answers the stream sequence."""
        data = body if isinstance(body, str) else json.dumps(body, default=str)
        ack = await self.js.publish(subject, data.encode(), headers={"Nats-Msg-Id": msg_id})
        return ack.seq

    async def publish_many(self, items: list[tuple[str, str, str]]) -> None:
        """(subject, JSON body, msg id) each, pipelined: waits for every acknowledgement."""
        futures = [
            await self.js.publish_async(subject, body.encode(), headers={"Nats-Msg-Id": mid})
            for subject, body, mid in items
        ]
        for future in futures:
            await future


async def connect_live(url: str, name: str) -> NATS:
    nc = await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2
    )
    await ensure_live_stream(nc)
    return nc

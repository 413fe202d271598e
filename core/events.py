"""The internal event stream: every process publishes platform events (audit records for now)
to the ``JSC_EVENTS`` JetStream stream; the one ingester moves them into ClickHouse.

A publish returns only once JetStream has stored the event, so an event survives a crash of the
publisher or of the ingester. ``Nats-Msg-Id`` is the event id: a retried publish is stored once.

The stream holds every organization's audit events, so it lives where no registered cluster can
reach it: the ``JSC`` account of hub (DESIGN.md §2.8). Every client of it connects with
``settings.events_nats_url`` (``JSC_INTERNAL_NATS_URL``, credentials of the ``jsc`` user included);
an anonymous connection would not fail but would create a second ``JSC_EVENTS`` in the tenants'
account, so there is no fallback to a cluster's URL.
"""

from __future__ import annotations

import json
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

STREAM = "JSC_EVENTS"
SUBJECT_PREFIX = "jsc.events"
STREAM_CONFIG = StreamConfig(
    name=STREAM,
    subjects=[f"{SUBJECT_PREFIX}.>"],
    retention=RetentionPolicy.LIMITS,
    storage=StorageType.FILE,
    max_age=7 * 24 * 3600,
    duplicate_window=120,
    description="JetStream Console internal events (audit), consumed by the ClickHouse ingester",
)


async def ensure_internal_stream(nc: NATS, config: StreamConfig) -> None:
    """Create one of the console's internal streams, or bring an existing one to ``config``."""
    js = nc.jetstream()
    try:
        await js.add_stream(config)
    except BadRequestError:  # exists with another config: bring it to ours
        await js.update_stream(config)


async def ensure_stream(nc: NATS) -> None:
    await ensure_internal_stream(nc, STREAM_CONFIG)


class EventsUnavailable(Exception):
    """The internal event stream did not store an event."""


class EventPublisher:
    def __init__(self, nc: NATS):
        self.nc = nc
        self.js = nc.jetstream(timeout=5)

    @classmethod
    async def connect(cls, url: str) -> EventPublisher:
        nc = await nats.connect(
            url,
            name="jsc:events",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
        )
        await ensure_stream(nc)
        return cls(nc)

    async def publish(self, kind: str, event_id: str, body: dict[str, Any]) -> None:
        """Stored once JetStream acknowledged it; ``EventsUnavailable`` at once while the
        connection is down (the caller owes it to the outbox rather than waiting a timeout out:
        hub, which holds the stream, may be down for long, e.g. during a disaster recovery)."""
        if not self.nc.is_connected:
            raise EventsUnavailable("the internal event stream is not connected (reconnecting)")
        try:
            await self.js.publish(
                f"{SUBJECT_PREFIX}.{kind}",
                json.dumps(body, default=str).encode(),
                headers={"Nats-Msg-Id": event_id},
            )
        except nats.errors.Error as exc:
            raise EventsUnavailable(str(exc) or type(exc).__name__) from exc

    async def close(self) -> None:
        await self.nc.close()

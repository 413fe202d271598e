"""Helpers of the durability fault tests: wait for the API to answer again, keep a backing service
stopped for the length of a ``with`` block (restarted however the block ends), and make the
internal event stream refuse publishes."""

from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager, contextmanager

import httpx

from tests.waiting import wait_until  # noqa: F401 (the durability tests wait through it)


def api_ready(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def stopped(stack, name: str):
    stack.stop_service(name)
    try:
        yield
    finally:
        stack.start_service(name)


@asynccontextmanager
async def events_refused(url: str):
    """The internal event stream refuses every publish (full, discarding new messages) for the
    length of the block, then takes them again."""
    import nats
    from nats.js.api import DiscardPolicy

    from core.events import STREAM

    nc = await nats.connect(url)
    js = nc.jetstream()
    config = (await js.stream_info(STREAM)).config
    state = (await js.stream_info(STREAM)).state
    try:
        await js.update_stream(
            dataclasses.replace(config, max_msgs=max(state.messages, 1), discard=DiscardPolicy.NEW)
        )
        yield
    finally:
        await js.update_stream(config)
        await nc.close()

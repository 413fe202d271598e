"""The overview's live part in a real browser: a sample published on the server appears on the
open page, pushed through the server-sent events, without a reload."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import nats

from core.live import subjects
from core.live.publisher import LivePublisher
from core.live.samples import StreamSample, sample_id

from .conftest import WAIT_MS, unique
from .test_ui_browser import log_in


def publish_sample(stack, org_id: uuid.UUID, cluster_id: str, stream: str, messages: int) -> None:
    async def go():
        nc = await nats.connect(stack.settings.events_nats_url)
        try:
            now = datetime.now(UTC)
            cid = uuid.UUID(cluster_id)
            sample = StreamSample(
                id=sample_id(cid, "stream", stream, now),
                org_id=org_id,
                cluster_id=cid,
                stream=stream,
                timestamp=now,
                messages=messages,
                bytes=messages * 10,
                first_seq=1,
                last_seq=messages,
                consumer_count=0,
                messages_rate=123.0,
            )
            await LivePublisher(nc).publish(
                subjects.stream_sample(org_id, cid, stream),
                sample.model_dump_json(),
                str(sample.id),
            )
        finally:
            await nc.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's loop
        pool.submit(asyncio.run, go()).result()


def test_a_published_sample_appears_on_the_open_overview(browser_page, stack, ui_hub, admin_org_id):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(stack.ui_url)
    log_in(page, stack)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)
    live = page.frame_locator("iframe[srcdoc*='EventSource']")
    expect(live.get_by_text("live: pushed by the server")).to_be_visible(timeout=WAIT_MS)
    page.evaluate("window.__not_reloaded = true")

    name = unique("LIVE").replace("-", "_").upper()
    started = time.monotonic()
    publish_sample(stack, admin_org_id, ui_hub.id, name, 4242)
    expect(live.get_by_text(name)).to_be_visible(timeout=WAIT_MS)
    seen = time.monotonic() - started
    print(
        f"\nsample published -> shown on the overview in {seen * 1000:.0f} ms "
        "(the issue's figure: under 1 s; measured, not asserted)"
    )
    expect(live.get_by_text("4.2k")).to_be_visible(timeout=WAIT_MS)  # its messages, formatted
    assert page.evaluate("window.__not_reloaded") is True  # the same page: pushed, not reloaded

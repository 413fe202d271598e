"""A streamed response holds no database connection while it streams: fifty KV watches, or more
message exports or object downloads than the API's pool has connections, stay open, and the API
still answers everything else; the watches still deliver, the transfers still finish whole."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json

import httpx
import pytest

from tests.api.test_kv import kv_path, make_bucket  # noqa: F401 (fixture)
from tests.api.test_messages import make_stream, messages_path, streams_path  # noqa: F401
from tests.api.test_objects import make_store, objects_path  # noqa: F401 (fixture)

POOL = 10 + 10  # the API's SQLAlchemy pool: size + overflow (core/db/base.py)
WATCHES = 50
TRANSFERS = POOL + 4
# Far more than the loopback socket buffers hold, so a transfer the client stops reading stays
# open in the API (its body not yet sent) until the client reads on or goes away.
BIG = 8 * 1024 * 1024


async def first_event(lines, wanted: str) -> dict:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == wanted:
            return json.loads(line[6:])
    raise AssertionError("the event stream ended")


async def answers_the_rest(client: httpx.AsyncClient, headers: dict, cluster: dict) -> None:
    """Database-backed reads answer while the streams are open (a starved pool would make them
    wait 30 s and fail)."""
    listed = await client.get("/api/v1/clusters", headers=headers, timeout=20)
    assert listed.status_code == 200, listed.text
    streams = await client.get(streams_path(cluster), headers=headers, timeout=20)
    assert streams.status_code == 200, streams.text


async def test_fifty_open_watches_leave_the_api_answering(
    stack, admin_headers, hub_cluster, make_bucket
):  # noqa: F811
    bucket = make_bucket()
    async with contextlib.AsyncExitStack() as open_streams:
        client = await open_streams.enter_async_context(
            httpx.AsyncClient(
                base_url=stack.api_url,
                timeout=60,
                limits=httpx.Limits(max_connections=WATCHES + 10),
            )
        )
        watches = []
        for _ in range(WATCHES):
            reply = await open_streams.enter_async_context(
                client.stream(
                    "GET",
                    kv_path(hub_cluster, bucket, "watch"),
                    headers=admin_headers,
                    params={"key": "probe.>"},
                )
            )
            assert reply.status_code == 200, await reply.aread()
            lines = reply.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 30) == ": watching"
            watches.append(lines)

        # Reads and a change (audited through the outbox), while every watch is open.
        await answers_the_rest(client, admin_headers, hub_cluster)
        put = await client.put(
            kv_path(hub_cluster, bucket, "keys", "probe.1"),
            headers=admin_headers,
            json={"value": "seen"},
            timeout=20,
        )
        assert put.status_code in (200, 201), put.text

        entries = await asyncio.wait_for(
            asyncio.gather(*(first_event(lines, "entry") for lines in watches)), 60
        )
        assert {(e["key"], e["value"]) for e in entries} == {("probe.1", "seen")}


async def big_export(cluster, hub_nc, make_stream) -> tuple[str, int]:  # noqa: F811
    """A stream of 8 MB of messages: its export path and how many lines it has. Few large
    messages (256 of 32 KiB): the export stays inline, under the test stack's
    JSC_EXPORT_INLINE_MAX_MESSAGES (300), above which it would run as an operation."""
    name, count = make_stream(), BIG // 32768
    js = hub_nc.jetstream()
    payload = b"x" * 32768
    await asyncio.gather(*(js.publish(f"{name}.data", payload) for _ in range(count)))
    return messages_path(cluster, name, "export"), count


async def big_object(api, headers, cluster, make_store) -> tuple[str, str]:  # noqa: F811
    """An 8 MB object: its path and its digest."""
    path = objects_path(cluster, make_store(), "files", "big.bin")
    data = hashlib.sha256(b"seed").digest() * (BIG // 32)
    up = api.put(path, headers=headers, content=data, timeout=120)
    assert up.status_code == 201, up.text
    return path, "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()


@pytest.mark.parametrize("kind", ["export", "download"])
async def test_open_transfers_leave_the_api_answering(
    stack,
    api,
    admin_headers,
    hub_cluster,
    hub_nc,
    make_stream,
    make_store,  # noqa: F811
    kind,
):
    if kind == "export":
        path, lines = await big_export(hub_cluster, hub_nc, make_stream)
    else:
        path, digest = await big_object(api, admin_headers, hub_cluster, make_store)
    async with contextlib.AsyncExitStack() as open_transfers:
        client = await open_transfers.enter_async_context(
            httpx.AsyncClient(
                base_url=stack.api_url,
                timeout=60,
                limits=httpx.Limits(max_connections=TRANSFERS + 10),
            )
        )
        transfers = []
        for _ in range(TRANSFERS):
            reply = await open_transfers.enter_async_context(
                client.stream("GET", path, headers=admin_headers)
            )
            assert reply.status_code == 200, await reply.aread()
            chunks = reply.aiter_bytes()
            first = await asyncio.wait_for(anext(chunks), 30)  # started, then left unread
            transfers.append((first, chunks))

        await answers_the_rest(client, admin_headers, hub_cluster)

        # A transfer read on after all that is whole: it needed nothing more of the database.
        first, chunks = transfers[0]
        body = first + b"".join([chunk async for chunk in chunks])
        if kind == "export":
            records = [json.loads(line) for line in body.decode().splitlines()]
            assert [r["seq"] for r in records] == list(range(1, lines + 1))
        else:
            assert len(body) == BIG
            assert (
                "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode()
                == digest
            )
    # Every other transfer was dropped half-way; the API is none the worse for it.
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as client:
        await answers_the_rest(client, admin_headers, hub_cluster)

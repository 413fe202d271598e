"""A streamed response holds no database connection while it streams: fifty KV watches and a
message export stay open, and the API still answers everything else; the watches still deliver."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx

from tests.api.test_kv import kv_path, make_bucket  # noqa: F401 (fixture)

WATCHES = 50  # more than the API's pool (10 + 10 overflow) could hold


async def first_event(lines, wanted: str) -> dict:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == wanted:
            return json.loads(line[6:])
    raise AssertionError("the event stream ended")


async def test_fifty_open_watches_leave_the_api_answering(stack, admin_headers, hub_cluster,
                                                          hub_nc, make_bucket):  # noqa: F811
    bucket = make_bucket()
    async with contextlib.AsyncExitStack() as open_streams:
        client = await open_streams.enter_async_context(httpx.AsyncClient(
            base_url=stack.api_url, timeout=60, limits=httpx.Limits(max_connections=WATCHES + 10)))
        watches = []
        for _ in range(WATCHES):
            reply = await open_streams.enter_async_context(client.stream(
                "GET", kv_path(hub_cluster, bucket, "watch"), headers=admin_headers,
                params={"key": "probe.>"}))
            assert reply.status_code == 200, await reply.aread()
            lines = reply.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 30) == ": watching"
            watches.append(lines)

        # A database-backed read and a change, while every watch is open.
        listed = await client.get("/api/v1/clusters", headers=admin_headers, timeout=20)
        assert listed.status_code == 200, listed.text
        put = await client.put(kv_path(hub_cluster, bucket, "keys", "probe.1"),
                               headers=admin_headers, json={"value": "seen"}, timeout=20)
        assert put.status_code in (200, 201), put.text

        # ... and export holds none either, while it streams.
        stream = f"exp-{bucket}"
        await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
        export = await open_streams.enter_async_context(client.stream(
            "GET", f"/api/v1/clusters/{hub_cluster['id']}/streams/{stream}/messages/export",
            headers=admin_headers))
        assert export.status_code == 200
        again = await client.get("/api/v1/clusters", headers=admin_headers, timeout=20)
        assert again.status_code == 200, again.text

        entries = await asyncio.wait_for(asyncio.gather(
            *(first_event(lines, "entry") for lines in watches)), 60)
        assert {(e["key"], e["value"]) for e in entries} == {("probe.1", "seen")}

"""Reading one cluster: the JetStream account, every stream with its state, every stream's
consumers, and the servers' ``varz`` when the cluster has a monitoring URL.

The monitoring URL is a user's input: it is fetched only at an address the cluster policy allows
(``JSC_ALLOWED_CLUSTER_NETWORKS``), pinned to the address that was checked, without redirects,
with a small body limit."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.jetstream.api import JetStreamApi, JetStreamError
from core.netpolicy import OutboundPolicy
from core.pinned_http import pin

VARZ_LIMIT = 1024 * 1024
CONCURRENCY = 16  # CONSUMER.LIST requests in flight per cluster


@dataclass
class ClusterRead:
    account: dict[str, Any]
    streams: list[dict[str, Any]]
    consumers: dict[str, list[dict[str, Any]]]
    varz: list[dict[str, Any]] = field(default_factory=list)
    varz_error: str | None = None


async def read_consumers(js: JetStreamApi, streams: list[dict[str, Any]]) -> dict[str, list[Any]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> tuple[str, list[Any]]:
        async with gate:
            try:
                return name, await js.consumer_list(name)
            except JetStreamError as exc:
                if exc.not_found:  # deleted between the two reads
                    return name, []
                raise

    wanted = [s["config"]["name"] for s in streams if (s.get("state") or {}).get("consumer_count")]
    return dict(await asyncio.gather(*(one(n) for n in wanted)))


async def read_cluster(
    js: JetStreamApi, monitoring_url: str | None, policy: OutboundPolicy
) -> ClusterRead:
    account = await js.account_info()
    account.pop("type", None)
    streams = await js.stream_list()
    consumers = await read_consumers(js, streams)
    read = ClusterRead(account=account, streams=streams, consumers=consumers)
    if monitoring_url:
        try:
            read.varz = [await fetch_varz(monitoring_url, policy)]
        except Exception as exc:  # noqa: BLE001 - the metrics of JetStream still count
            read.varz_error = f"varz: {exc or type(exc).__name__}"
    return read


async def fetch_varz(
    monitoring_url: str, policy: OutboundPolicy, timeout: float = 2.0
) -> dict[str, Any]:
    pinned = await pin(monitoring_url.rstrip("/") + "/varz", policy)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        async with client.stream(
            "GET",
            pinned.at(pinned.addresses[0]),
            headers=pinned.headers,
            extensions=pinned.extensions,
        ) as reply:
            reply.raise_for_status()
            body = b""
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > VARZ_LIMIT:
                    raise ValueError("the monitoring endpoint answered more than 1 MiB")
    varz: dict[str, Any] = json.loads(body)
    return varz

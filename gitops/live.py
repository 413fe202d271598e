"""What a cluster runs, in the shapes git describes it: streams and their durable consumers with
JetStream's own configs, key-value buckets and object stores with the console's bucket fields (the
shapes ``gitops.loader`` validates), ready for ``gitops.planner.plan``.

A bucket's stream (``KV_<bucket>``, ``OBJ_<bucket>``) is the bucket, not also a stream; consumers of
buckets and ephemeral consumers are no one's configuration and are left out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.kv import bucket_status
from core.jetstream.objects import store_status
from gitops.planner import Live

KV_FIELDS = (
    "bucket",
    "description",
    "history",
    "ttl",
    "max_value_size",
    "max_bytes",
    "replicas",
    "storage",
    "compression",
    "metadata",
)
STORE_FIELDS = (
    "bucket",
    "description",
    "ttl",
    "max_bytes",
    "replicas",
    "storage",
    "compression",
    "metadata",
)
CONCURRENCY = 32


def _is_kv(config: dict[str, Any]) -> bool:
    name = config["name"]
    return name.startswith("KV_") and config.get("subjects") == [f"$KV.{name[3:]}.>"]


def _is_store(config: dict[str, Any]) -> bool:
    name = config["name"]
    return name.startswith("OBJ_") and f"$O.{name[4:]}.M.>" in (config.get("subjects") or [])


def _fields(status: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: status[k] for k in names if status.get(k) is not None}


def resource_of(info: dict[str, Any]) -> Live:
    """One stream's info as the resource it is: a stream, a KV bucket or an object store."""
    config = info["config"]
    if _is_kv(config):
        return Live("kv", config["name"][3:], None, _fields(bucket_status(info), KV_FIELDS))
    if _is_store(config):
        return Live(
            "object_store", config["name"][4:], None, _fields(store_status(info), STORE_FIELDS)
        )
    return Live("stream", config["name"], None, dict(config))


async def _consumers(
    js: JetStreamApi, stream: str, gate: asyncio.Semaphore, created: dict | None
) -> list[Live]:
    async with gate:
        try:
            infos = await js.consumer_list(stream)
        except JetStreamError as exc:
            if exc.not_found:  # deleted while we read
                return []
            raise
    out = []
    for info in infos:
        if info.get("config", {}).get("durable_name"):
            out.append(Live("consumer", info["name"], stream, dict(info["config"])))
            if created is not None and info.get("created"):
                created[("consumer", stream, info["name"])] = info["created"]
    return out


async def read_live(js: JetStreamApi, created: dict | None = None) -> list[Live]:
    """Every stream, durable consumer, KV bucket and object store of the account. ``created``,
    when given, gets each one's creation time as the server says it (RFC 3339), keyed
    ``(kind, stream, name)``: what a drift report can say of a change made outside the console."""
    infos = await js.stream_list()
    resources = [resource_of(info) for info in infos]
    if created is not None:
        for resource, info in zip(resources, infos, strict=False):
            if info.get("created"):
                created[(resource.kind, None, resource.name)] = info["created"]
    gate = asyncio.Semaphore(CONCURRENCY)
    consumers = await asyncio.gather(
        *(_consumers(js, r.name, gate, created) for r in resources if r.kind == "stream")
    )
    return resources + [c for group in consumers for c in group]

"""The live state of a cluster as the planner compares it with git: ``read_live(js)``.

One ``planner.Live`` per stream, durable consumer, KV bucket and object store, each config in the
shape ``gitops.loader`` validates desired resources into:

* streams and consumers: the server's own config JSON (JetStream field names, durations in
  nanoseconds), as ``$JS.API.STREAM.INFO`` / ``CONSUMER.LIST`` return it;
* KV buckets (streams ``KV_<bucket>``) and object stores (``OBJ_<bucket>``): the console's bucket
  models' field names (``history``, ``ttl``, ``replicas``, ``compression: bool``...), read back from
  their stream the way ``core.jetstream.kv.bucket_status`` / ``objects.store_status`` do. These
  streams are reported as buckets only, never also as streams.

Ephemeral consumers (no ``durable_name``: watchers, fetches, the console's own readers) are not
configuration and are left out. Consumer lists are read concurrently, a few streams at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterable

from core.jetstream.api import JetStreamApi, JetStreamError
from gitops.planner import KINDS, Desired, Kind, Live

ALL_KINDS: tuple[Kind, ...] = ("stream", "consumer", "kv", "object_store")
KV_PREFIX, OBJECT_PREFIX = "KV_", "OBJ_"
CONCURRENCY = 16


def kind_of(stream_name: str) -> tuple[Kind, str]:
    """(kind, resource name) of a stream: a KV bucket, an object store or a plain stream."""
    if stream_name.startswith(KV_PREFIX) and len(stream_name) > len(KV_PREFIX):
        return "kv", stream_name[len(KV_PREFIX):]
    if stream_name.startswith(OBJECT_PREFIX) and len(stream_name) > len(OBJECT_PREFIX):
        return "object_store", stream_name[len(OBJECT_PREFIX):]
    return "stream", stream_name


def _common_bucket(bucket: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "bucket": bucket, "description": config.get("description"),
        "ttl": config.get("max_age", 0), "max_bytes": config.get("max_bytes", -1),
        "replicas": config.get("num_replicas", 1), "storage": config.get("storage"),
        "compression": config.get("compression", "none") != "none",
        "metadata": config.get("metadata") or {},
    }


def kv_config(bucket: str, config: dict[str, Any]) -> dict[str, Any]:
    """A KV bucket's settings (``KvBucketConfig`` names) from its stream's config."""
    return {**_common_bucket(bucket, config), "history": config.get("max_msgs_per_subject", 1),
            "max_value_size": config.get("max_msg_size", -1)}


def object_store_config(bucket: str, config: dict[str, Any]) -> dict[str, Any]:
    """An object store's settings (``ObjectStoreConfig`` names) from its stream's config."""
    return _common_bucket(bucket, config)


def live_of_stream(info: dict[str, Any]) -> Live:
    """The resource one ``STREAM.INFO`` reply describes."""
    config = info["config"]
    kind, name = kind_of(config["name"])
    if kind == "kv":
        return Live("kv", name, None, kv_config(name, config))
    if kind == "object_store":
        return Live("object_store", name, None, object_store_config(name, config))
    return Live("stream", name, None, dict(config))


def live_of_consumer(stream: str, info: dict[str, Any]) -> Live | None:
    """A durable consumer's resource (None for an ephemeral one)."""
    config = info.get("config") or {}
    name = config.get("durable_name")
    if not name:
        return None
    return Live("consumer", name, stream, dict(config))


async def _consumers(js: JetStreamApi, stream: str, gate: asyncio.Semaphore) -> list[Live]:
    async with gate:
        try:
            infos = await js.consumer_list(stream)
        except JetStreamError as exc:
            if exc.not_found:  # deleted between the stream list and now
                return []
            raise
    found = (live_of_consumer(stream, info) for info in infos)
    return [c for c in found if c is not None]


async def read_live(js: JetStreamApi, kinds: Iterable[str] = ALL_KINDS) -> list[Live]:
    """Every resource of the kinds asked for on the cluster ``js`` talks to, sorted by kind in
    apply order (streams, kv, object stores, consumers), then stream and name. Raises
    ``JetStreamUnavailable`` when the cluster does not answer."""
    wanted = set(kinds)
    unknown = wanted - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; use {list(ALL_KINDS)}")
    infos = await js.stream_list()
    out: list[Live] = []
    for info in infos:
        live = live_of_stream(info)
        if live.kind in wanted:
            out.append(live)
    if "consumer" in wanted:
        gate = asyncio.Semaphore(CONCURRENCY)
        names = sorted(info["config"]["name"] for info in infos)
        for found in await asyncio.gather(*(_consumers(js, n, gate) for n in names)):
            out.extend(found)
    out.sort(key=lambda r: (KINDS.index(r.kind), r.stream or "", r.name))
    return out


def stream_of(kind: str, name: str, stream: str | None = None) -> str:
    """The JetStream stream a resource is (or, for a consumer, lives in)."""
    if kind == "kv":
        return KV_PREFIX + name
    if kind == "object_store":
        return OBJECT_PREFIX + name
    return stream if kind == "consumer" and stream else name


async def read_one(js: JetStreamApi, kind: str, name: str, stream: str | None = None
                   ) -> Live | None:
    """One resource as ``read_live`` shows it, or None when the cluster does not have it."""
    try:
        if kind == "consumer":
            info = await js.consumer_info(stream or "", name)
            return live_of_consumer(stream or "", info) or Live("consumer", name, stream,
                                                                 dict(info.get("config") or {}))
        return live_of_stream(await js.stream_info(stream_of(kind, name)))
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise


def desired_of(resources: Iterable[Any]) -> list[Desired]:
    """The loader's resources (``gitops.manifests.Resource``) as the planner's desired side."""
    return [Desired(r.kind, r.name, r.stream, r.config) for r in resources]

"""Read-only tools over clusters, streams, consumers and messages. Each calls the console's API
as the caller; what comes from a cluster (names, descriptions, configs, payloads, headers) is
masked and wrapped as untrusted data before the model reads it."""

from __future__ import annotations

from typing import Any

from ai.analyzers.figures import size
from ai.tools.base import (
    CLUSTER_ID,
    CONSUMER,
    STREAM,
    Tool,
    ToolContext,
    ToolOutcome,
    bounded,
    cluster_of,
    data,
    get,
    schema,
    stream_of,
    text,
)

MAX_SAMPLE = 20
SAMPLE_PAYLOAD_BYTES = 512


def _stream_brief(info: dict[str, Any]) -> dict[str, Any]:
    config, state = info.get("config", {}), info.get("state", {})
    brief = {
        "name": config.get("name"),
        "subjects": config.get("subjects"),
        "description": config.get("description"),
        "retention": config.get("retention"),
        "storage": config.get("storage"),
        "num_replicas": config.get("num_replicas"),
        "max_bytes": config.get("max_bytes"),
        "max_msgs": config.get("max_msgs"),
        "max_age_ns": config.get("max_age"),
        "messages": state.get("messages"),
        "bytes": state.get("bytes"),
        "first_seq": state.get("first_seq"),
        "last_seq": state.get("last_seq"),
        "last_ts": state.get("last_ts"),
        "consumer_count": state.get("consumer_count"),
    }
    for key in ("mirror", "sources"):
        if info.get(key) or config.get(key):
            brief[key] = info.get(key) or config.get(key)
    return {k: v for k, v in brief.items() if v not in (None, [], {})}


async def list_clusters(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    items = (await get(ctx, "/api/v1/clusters"))["items"]
    rows = [
        {
            "id": c["id"],
            "name": c["name"],
            "environment": c["environment"],
            "status": c["status"],
            "version": c.get("version"),
            "jetstream_domain": c.get("jetstream_domain"),
        }
        for c in items
    ]
    return data("clusters", rows, f"{len(rows)} cluster(s)")


async def cluster_health(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid = cluster_of(ctx, given)
    health = await get(ctx, f"/api/v1/clusters/{cid}/health")
    return data(f"cluster {cid} health", health, f"cluster {health.get('status', '?')}")


async def list_streams(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid = cluster_of(ctx, given)
    items = (await get(ctx, f"/api/v1/clusters/{cid}/streams"))["items"]
    rows = [_stream_brief(s) for s in items[:200]]
    more = f" (first 200 of {len(items)})" if len(items) > 200 else ""
    return data(f"streams of cluster {cid}", rows, f"{len(items)} stream(s){more}")


async def get_stream(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid, name = cluster_of(ctx, given), stream_of(ctx, given)
    info = await get(ctx, f"/api/v1/clusters/{cid}/streams/{name}")
    state = info.get("state", {})
    summary = (
        f"{name}: {state.get('messages', 0):,} messages, {size(state.get('bytes', 0))}, "
        f"{state.get('consumer_count', 0)} consumer(s)"
    )
    return data(
        f"stream {name}",
        {
            "config": info.get("config"),
            "state": state,
            **{k: info[k] for k in ("mirror", "sources", "cluster") if info.get(k)},
        },
        summary,
    )


def _consumer_brief(c: dict[str, Any]) -> dict[str, Any]:
    config = c.get("config", {})
    return {
        "name": c.get("name"),
        "num_pending": c.get("num_pending"),
        "num_ack_pending": c.get("num_ack_pending"),
        "num_redelivered": c.get("num_redelivered"),
        "num_waiting": c.get("num_waiting"),
        "delivered": c.get("delivered"),
        "ack_floor": c.get("ack_floor"),
        "paused": c.get("paused"),
        "health": c.get("health"),
        "filter_subject": config.get("filter_subject"),
        "filter_subjects": config.get("filter_subjects"),
        "ack_policy": config.get("ack_policy"),
        "max_ack_pending": config.get("max_ack_pending"),
        "max_deliver": config.get("max_deliver"),
        "ack_wait_ns": config.get("ack_wait"),
        "deliver_policy": config.get("deliver_policy"),
        "description": config.get("description"),
    }


async def list_consumers(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid, name = cluster_of(ctx, given), stream_of(ctx, given)
    items = (await get(ctx, f"/api/v1/clusters/{cid}/streams/{name}/consumers"))["items"]
    rows = [_consumer_brief(c) for c in items[:200]]
    lagging = sum(1 for c in items if (c.get("num_pending") or 0) > 0)
    return data(
        f"consumers of {name}",
        rows,
        f"{len(items)} consumer(s) on {name}, {lagging} with pending messages",
    )


async def get_consumer(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid, name = cluster_of(ctx, given), stream_of(ctx, given)
    consumer = text(given.get("consumer") or ctx.context.consumer, "consumer", required=True)
    info = await get(ctx, f"/api/v1/clusters/{cid}/streams/{name}/consumers/{consumer}")
    summary = (
        f"{consumer}: {info.get('num_pending', 0):,} pending, "
        f"{info.get('num_ack_pending', 0):,} awaiting ack, "
        f"{info.get('num_redelivered', 0):,} redelivered"
    )
    return data(
        f"consumer {consumer} of {name}",
        {"config": info.get("config"), **_consumer_brief(info)},
        summary,
    )


async def sample_messages(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    cid, name = cluster_of(ctx, given), stream_of(ctx, given)
    subject = text(given.get("subject"), "subject")
    limit = bounded(given.get("limit"), "limit", 5, 1, MAX_SAMPLE)
    direction = "forward" if given.get("from") == "oldest" else "backward"
    page = await get(
        ctx,
        f"/api/v1/clusters/{cid}/streams/{name}/messages",
        subject=subject,
        limit=limit,
        direction=direction,
        payload_limit=SAMPLE_PAYLOAD_BYTES,
    )
    rows = [
        {
            k: m.get(k)
            for k in (
                "seq",
                "subject",
                "time",
                "headers",
                "size",
                "payload",
                "encoding",
                "truncated",
            )
        }
        for m in page["items"]
    ]
    return data(
        f"messages of stream {name}",
        rows,
        f"{len(rows)} message(s) of {name}, payloads cut at {SAMPLE_PAYLOAD_BYTES} bytes "
        f"and masked",
    )


def tools() -> list[Tool]:
    scope = schema(cluster_id=CLUSTER_ID)
    on_stream = schema(["stream"], cluster_id=CLUSTER_ID, stream=STREAM)
    return [
        Tool(
            "list_clusters",
            "The clusters the person can see: id, name, environment "
            "(development, staging, production), status.",
            schema(),
            list_clusters,
        ),
        Tool(
            "cluster_health",
            "Whether a cluster is reachable, JetStream on, round trip, server version.",
            scope,
            cluster_health,
        ),
        Tool(
            "list_streams",
            "The streams of a cluster with their subjects, limits and state "
            "(messages, bytes, last message time, consumer count).",
            scope,
            list_streams,
        ),
        Tool(
            "get_stream",
            "One stream's full configuration and state, mirror or sources included.",
            on_stream,
            get_stream,
        ),
        Tool(
            "list_consumers",
            "The consumers of a stream with pending, ack pending, "
            "redelivered, filters, limits and health score.",
            on_stream,
            list_consumers,
        ),
        Tool(
            "get_consumer",
            "One consumer's full configuration and state.",
            schema(["stream", "consumer"], cluster_id=CLUSTER_ID, stream=STREAM, consumer=CONSUMER),
            get_consumer,
        ),
        Tool(
            "sample_messages",
            f"A few messages of a stream (at most {MAX_SAMPLE}; newest "
            f"first unless from='oldest'), optionally of one subject. Payloads are cut at "
            f"{SAMPLE_PAYLOAD_BYTES} bytes and values that look like secrets, tokens, card "
            f"numbers or e-mail addresses are masked.",
            schema(
                ["stream"],
                cluster_id=CLUSTER_ID,
                stream=STREAM,
                subject={"type": "string", "description": "a subject filter (wildcards ok)"},
                limit={"type": "integer", "minimum": 1, "maximum": MAX_SAMPLE},
                **{"from": {"type": "string", "enum": ["newest", "oldest"]}},
            ),
            sample_messages,
        ),
    ]

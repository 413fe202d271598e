"""Helpers of the replication map tests: a console-style durable mirror made with the primitives of
``core.replication.mirrors`` (consumer on the source, mirror stream on the target, a ``mirrors``
row), a DR pair row, and reading the map through the API until it says what a test waits for."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx

from core.db.models import DrPair, Mirror
from core.jetstream.api import JetStreamApi
from core.replication.mirrors import (
    consumer_name,
    deliver_subject,
    mirror_stream_config,
    source_consumer_config,
)
from core.replication.models import MirrorRequest

MAP = "/api/v1/replication"


async def console_mirror(
    db_sessions,
    org_id,
    hub: JetStreamApi,
    dr: JetStreamApi,
    hub_cluster: dict,
    dr_cluster: dict,
    source: str,
    target: str,
    pair_id: uuid.UUID | None = None,
) -> Mirror:
    """``target`` on dr mirrors ``source`` on hub through a durable consumer, as the console's
    MirrorWorkflow makes it; the row says the console made it."""
    request = MirrorRequest(
        source_cluster_id=hub_cluster["id"],
        source_stream=source,
        target_cluster_id=dr_cluster["id"],
        target_stream=target,
    )
    mirror_id = uuid.uuid4()
    source_info = await hub.stream_info(source)
    await hub.consumer_create(
        source,
        source_consumer_config(request, mirror_id, source_info["state"]["last_seq"]),
        action="create",
    )
    await dr.stream_create(
        mirror_stream_config(request, mirror_id, source_info["config"], "hub", cross_domain=True)
    )
    row = Mirror(
        id=mirror_id,
        org_id=org_id,
        source_cluster_id=uuid.UUID(hub_cluster["id"]),
        source_stream=source,
        target_cluster_id=uuid.UUID(dr_cluster["id"]),
        target_stream=target,
        consumer_name=consumer_name(mirror_id),
        deliver_subject=deliver_subject(mirror_id),
        spec=request.model_dump(mode="json"),
        state="active",
        pair_id=pair_id,
    )
    async with db_sessions() as db, db.begin():
        db.add(row)
    return row


async def dr_pair(
    db_sessions,
    org_id,
    hub_cluster: dict,
    dr_cluster: dict,
    name: str,
    streams: list[dict],
    rpo_seconds: float = 5,
) -> DrPair:
    pair = DrPair(
        id=uuid.uuid4(),
        org_id=org_id,
        name=name,
        primary_cluster_id=uuid.UUID(hub_cluster["id"]),
        standby_cluster_id=uuid.UUID(dr_cluster["id"]),
        active_cluster_id=uuid.UUID(hub_cluster["id"]),
        streams=streams,
        rpo_seconds=rpo_seconds,
        rto_seconds=30,
    )
    async with db_sessions() as db, db.begin():
        db.add(pair)
    return pair


async def forget_rows(db_sessions, *rows) -> None:
    async with db_sessions() as db, db.begin():
        for row in rows:
            found = await db.get(type(row), row.id)
            if found is not None:
                await db.delete(found)
                await db.flush()


def read_map(api: httpx.Client, headers: dict, **params) -> dict:
    reply = api.get(MAP, headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def edge(view: dict, target_stream: str, kind: str = "mirror") -> dict | None:
    return next(
        (e for e in view["edges"] if e["target_stream"] == target_stream and e["kind"] == kind),
        None,
    )


def cluster(view: dict, cluster_id: str) -> dict | None:
    return next((c for c in view["clusters"] if c["id"] == cluster_id), None)


def pair(view: dict, pair_id) -> dict | None:
    return next((p for p in view["pairs"] if p["id"] == str(pair_id)), None)


async def wait_map(
    api: httpx.Client,
    headers: dict,
    what: str,
    check: Callable[[dict], bool],
    timeout: float = 90,
    **params,
) -> dict:
    """Read the map until ``check`` holds for it (every reading measures afresh)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = read_map(api, headers, **params)
        if check(last):
            return last
        assert time.monotonic() < deadline, f"the map never showed {what}; last: {last}"
        await asyncio.sleep(0.3)

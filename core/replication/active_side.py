"""Where a DR pair's clients write: the ``jsc_dr_active`` key-value bucket, kept on both clusters
of the pair, so a client reads it from whichever side it can reach.

Key: the pair id (a request without a pair: :func:`pairless_key`, the same for the two clusters
and the stream names whichever way they fail over). Value (JSON): ``{pair_id, pair_name,
active_cluster_id, active_domain, streams, epoch, changed_at, operation_id}``; ``streams`` are the
stream names on the active side, ``epoch`` grows by one at every change, so a client keeps the
value with the highest epoch it has seen when the two sides disagree (one was unreachable when the
other changed).

A client watches the key (nats-py: ``kv.watch(key)``) and publishes to the cluster it names; the
README's "Disaster recovery" section shows the few lines. Writing is idempotent per operation: a
retry finds its own value and leaves it.

A pair's first value is written when the pair is made (:func:`first`: the primary active, epoch
0, no operation), so a client can start from the key before any failover; a failover then writes
epoch 1. Deleting the pair purges its key (:func:`forget`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.buckets import BucketNotFound
from core.jetstream.kv import KeyNotFound, KvBucket, KvBucketConfig, create_bucket

BUCKET = "jsc_dr_active"
HISTORY = 5
_PAIRLESS = uuid.UUID("a1f3c2d4-5b6e-4f70-8a91-b2c3d4e5f601")


class ActiveSide(BaseModel):
    model_config = ConfigDict(extra="allow")
    pair_id: str
    pair_name: str | None = None
    active_cluster_id: str
    active_domain: str | None = None
    streams: list[str] = Field(default_factory=list)
    epoch: int = 0
    changed_at: str
    operation_id: str | None = None


def pairless_key(cluster_ids: list[str], streams: list[str]) -> str:
    """The key of a failover asked for by primary and streams, without a pair: the same both
    ways, so failing back moves the same key."""
    return str(
        uuid.uuid5(_PAIRLESS, f"{','.join(sorted(cluster_ids))}:{','.join(sorted(set(streams)))}")
    )


async def bucket(js: JetStreamApi) -> KvBucket:
    """The bucket on this cluster, made when missing."""
    try:
        return await KvBucket.open(js, BUCKET)
    except BucketNotFound:
        try:
            await create_bucket(
                js,
                KvBucketConfig(
                    bucket=BUCKET,
                    history=HISTORY,
                    description="JetStream Console: the active side of each disaster-recovery pair",
                ),
            )
        except JetStreamError as exc:
            if "already in use" not in exc.description:  # made meanwhile by someone else
                raise
        return await KvBucket.open(js, BUCKET)


async def read(js: JetStreamApi, key: str) -> ActiveSide | None:
    try:
        entry = await (await bucket(js)).get(key, payload_limit=None)
    except KeyNotFound:
        return None
    value = entry.get("value")
    data = value if isinstance(value, (dict, list)) else json.loads(value or "{}")
    return ActiveSide.model_validate(data)


async def announce(js: JetStreamApi, key: str, side: ActiveSide) -> dict[str, Any]:
    """Write ``side`` under ``key`` unless this operation's value is there already."""
    current = await read(js, key)
    if (
        current is not None
        and current.operation_id == side.operation_id
        and current.active_cluster_id == side.active_cluster_id
    ):
        return {"written": False, "epoch": current.epoch}
    kv = await bucket(js)
    revision = await kv.put(key, side.model_dump_json().encode())
    return {"written": True, "epoch": side.epoch, "revision": revision}


def first(
    pair_id: str, pair_name: str | None, cluster_id: str, domain: str | None, streams: list[str]
) -> ActiveSide:
    """A new pair's value: its primary is active, epoch 0 (the first failover writes 1)."""
    return ActiveSide(
        pair_id=pair_id,
        pair_name=pair_name,
        active_cluster_id=cluster_id,
        active_domain=domain,
        streams=streams,
        epoch=0,
        changed_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
    )


async def forget(js: JetStreamApi, key: str) -> bool:
    """Purge the key (its history too); False when this cluster has no live value for it."""
    try:
        kv = await KvBucket.open(js, BUCKET)
    except BucketNotFound:
        return False
    if not await kv.exists(key):
        return False
    await kv.delete(key, purge=True)
    return True

"""The samples a collection pass publishes: one per cluster, one per stream (its consumers
inside). Counters are JetStream's own; rates and deltas are over the time since the collector's
previous sample of the same thing (None on the first one, or when a counter went backwards: the
stream was purged or recreated).

``id`` is deterministic (cluster, stream, pass time): the publish is de-duplicated by JetStream and
the ingester stores a sample at most once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

SAMPLE_NAMESPACE = uuid.UUID("8c1f0f7e-4a59-4e43-9a44-2f6c6f0b2d11")


def sample_id(cluster_id: uuid.UUID, kind: str, name: str, at: datetime) -> uuid.UUID:
    return uuid.uuid5(SAMPLE_NAMESPACE, f"{cluster_id}/{kind}/{name}/{at.isoformat()}")


class ConsumerSample(BaseModel):
    name: str
    pending: int = Field(description="messages not yet delivered (num_pending)")
    ack_pending: int = Field(description="delivered, not yet acknowledged")
    redelivered: int
    waiting: int = Field(description="pull requests waiting")
    delivered: int = Field(description="delivered.consumer_seq")
    acked: int = Field(description="ack_floor.consumer_seq")
    lag: int = Field(description="messages not yet processed: pending + ack_pending")
    delivered_delta: int | None = None
    acked_delta: int | None = None
    delivered_rate: float | None = None  # per second
    ack_rate: float | None = None
    lag_trend: float | None = Field(None, description="change of lag per second")
    paused: bool = False
    push_bound: bool = False


class MirrorState(BaseModel):
    name: str
    lag: int
    active_ms: float | None = Field(None, description="since the mirror last heard its source")
    error: str | None = Field(
        None, description="why the mirror cannot reach its source, as the server says"
    )


class StreamSample(BaseModel):
    kind: str = "stream"
    id: uuid.UUID
    org_id: uuid.UUID
    cluster_id: uuid.UUID
    stream: str
    timestamp: datetime
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    consumer_count: int
    subjects: list[str] = []
    max_bytes: int = -1
    max_msgs: int = -1
    messages_in: int | None = Field(None, description="messages stored since the previous sample")
    bytes_in: int | None = None
    messages_rate: float | None = None  # in, per second
    bytes_rate: float | None = None
    messages_out_rate: float | None = Field(None, description="delivered by its consumers, per s")
    mirror: MirrorState | None = None
    consumers: list[ConsumerSample] = []


class ServerSample(BaseModel):
    server_id: str
    server_name: str
    cpu_percent: float = 0.0
    memory_bytes: int = 0
    connections: int = 0
    subscriptions: int = 0
    slow_consumers: int = 0
    in_msgs: int = 0
    out_msgs: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    in_msgs_rate: float | None = None
    out_msgs_rate: float | None = None
    in_bytes_rate: float | None = None
    out_bytes_rate: float | None = None


class ClusterSample(BaseModel):
    kind: str = "cluster"
    id: uuid.UUID
    org_id: uuid.UUID
    cluster_id: uuid.UUID
    timestamp: datetime
    reachable: bool
    error: str | None = Field(None, description="why the cluster could not be read (for people)")
    streams: int = 0
    consumers: int = 0
    messages: int = 0
    bytes: int = 0
    messages_rate: float | None = None  # in, all streams, per second
    bytes_rate: float | None = None
    messages_out_rate: float | None = None
    account: dict[str, Any] = Field(
        default_factory=dict, description="JetStream account info: usage, limits"
    )
    servers: list[ServerSample] = []
    collector: str = Field("", description="the collector that took it (its share of clusters)")

"""What ``GET /api/v1/replication`` answers: the organization's clusters as nodes, every mirror
and source between them as an edge with its lag and status, and each DR pair with whether its RPO
holds right now (the contract's "Replication map")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.replication.lag import Status


class ClusterNode(BaseModel):
    id: uuid.UUID
    name: str
    environment: str
    jetstream_domain: str | None
    reachable: bool
    error: str | None = Field(description="why the cluster could not be read now")


class EdgeView(BaseModel):
    kind: Literal["mirror", "source"]
    source_cluster_id: uuid.UUID | None = Field(
        description="null when the source is in no cluster of your organization"
    )
    source_domain: str | None
    source_stream: str
    target_cluster_id: uuid.UUID
    target_stream: str
    managed: bool = Field(description="made by the console (a row of /mirrors)")
    mirror_id: uuid.UUID | None
    pair_id: uuid.UUID | None
    filter_subjects: list[str]
    lag_messages: int | None = Field(description="source messages not on the target yet")
    lag_seconds: float | None = Field(description="age of the oldest of them; 0 when in sync")
    catch_up_rate_per_s: float | None = Field(
        description="source sequences copied per second since the previous measurement"
    )
    status: Status
    error: str | None = Field(
        description="the server's own message, or why the status is what it is"
    )
    source_last_seq: int | None
    target_last_seq: int | None
    measured_at: datetime = Field(
        description="when the lag figures were measured (earlier than "
        "now when they are the last known ones)"
    )
    last_contact_s: float | None = Field(
        default=None, description="seconds since the target last heard from its source"
    )


class PairStreamView(BaseModel):
    stream: str
    mirror_stream: str
    status: Status
    lag_messages: int | None
    lag_seconds: float | None


class PairView(BaseModel):
    id: uuid.UUID
    name: str
    primary_cluster_id: uuid.UUID
    standby_cluster_id: uuid.UUID
    active_cluster_id: uuid.UUID
    rpo_seconds: float
    rto_seconds: float
    rpo_ok: bool | None = Field(description="null while a side cannot be read")
    data_at_risk_messages: int | None = Field(
        description="messages written on the active side and not yet on the other (the last "
        "known figure while a side cannot be read)"
    )
    worst_lag_seconds: float | None
    last_drill: dict[str, Any] | None
    streams: list[PairStreamView]


class ReplicationMap(BaseModel):
    clusters: list[ClusterNode]
    edges: list[EdgeView]
    pairs: list[PairView]

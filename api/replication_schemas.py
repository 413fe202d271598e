"""Request and response bodies of the mirror and DR-pair routes (``api/routers/mirrors.py``,
``api/routers/dr_pairs.py``). A mirror's request itself is ``core.replication.models``'
``MirrorRequest``, shared with the workflow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.change_gate import ApprovalPending
from core.db.models import DrPair, Mirror
from core.labels import Description
from core.replication.models import PairStream

PAIR_NAME = r"^[A-Za-z0-9][A-Za-z0-9 _.:-]*$"
WEEK_S = 7 * 24 * 3600


class MirrorStarted(BaseModel):
    id: uuid.UUID
    workflow_id: str
    status: str
    mirror_id: uuid.UUID


class MirrorOut(BaseModel):
    id: uuid.UUID
    source_cluster_id: uuid.UUID
    source_stream: str
    target_cluster_id: uuid.UUID
    target_stream: str
    state: str
    filter_subjects: list[str]
    subject_transforms: list[dict[str, str]]
    start: Any
    overrides: dict[str, Any]
    pair_id: uuid.UUID | None
    operation_id: uuid.UUID | None
    consumer_name: str | None
    created_at: datetime
    updated_at: datetime


def mirror_out(row: Mirror) -> MirrorOut:
    spec = row.spec or {}
    return MirrorOut(
        id=row.id,
        source_cluster_id=row.source_cluster_id,
        source_stream=row.source_stream,
        target_cluster_id=row.target_cluster_id,
        target_stream=row.target_stream,
        state=row.state,
        filter_subjects=spec.get("filter_subjects") or [],
        subject_transforms=spec.get("subject_transforms") or [],
        start=spec.get("start", "all"),
        overrides={k: v for k, v in (spec.get("overrides") or {}).items() if v is not None},
        pair_id=row.pair_id,
        operation_id=row.operation_id,
        consumer_name=row.consumer_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _distinct(streams: list[PairStream]) -> None:
    sources = [s.stream for s in streams]
    mirrors = [s.standby_name for s in streams]
    for what, names in (("stream", sources), ("mirror_stream", mirrors)):
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"each {what} may appear once in 'streams': {', '.join(twice)} "
                "appear more than once"
            )


class DrPairIn(BaseModel):
    """A DR pair: ``streams`` of the primary, each protected by a mirror of the same name (or
    ``mirror_stream``) on the standby; ``create_missing_mirrors`` makes those that do not exist
    yet, in one operation."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255, pattern=PAIR_NAME)
    description: Description = Field(default="", max_length=4096)
    primary_cluster_id: uuid.UUID
    standby_cluster_id: uuid.UUID
    streams: list[PairStream] = Field(min_length=1, max_length=500)
    rpo_seconds: float = Field(
        default=5, gt=0, le=WEEK_S, description="data it may lose, in seconds of writes"
    )
    rto_seconds: float = Field(
        default=30, gt=0, le=WEEK_S, description="how long a failover may take"
    )
    create_missing_mirrors: bool = True

    @model_validator(mode="after")
    def _two_sides(self) -> DrPairIn:
        if self.primary_cluster_id == self.standby_cluster_id:
            raise ValueError("the standby cluster must differ from the primary cluster")
        _distinct(self.streams)
        return self


class DrPairPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Description | None = Field(default=None, max_length=4096)
    rpo_seconds: float | None = Field(default=None, gt=0, le=WEEK_S)
    rto_seconds: float | None = Field(default=None, gt=0, le=WEEK_S)
    streams: list[PairStream] | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _distinct_streams(self) -> DrPairPatch:
        if self.streams:
            _distinct(self.streams)
        return self


class PairStreamOut(BaseModel):
    stream: str
    mirror_stream: str


class DrPairOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    primary_cluster_id: uuid.UUID
    standby_cluster_id: uuid.UUID
    active_cluster_id: uuid.UUID
    streams: list[PairStreamOut]
    rpo_seconds: float
    rto_seconds: float
    last_drill: dict[str, Any] | None
    last_failover: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class DrPairCreated(DrPairOut):
    operation_id: uuid.UUID | None = Field(
        description="the MirrorWorkflow making the missing "
        "mirrors (or, when their creation waits "
        "for approval, the approval's operation)"
    )
    missing_mirrors: list[str] = Field(description="the standby streams it makes")
    approval: ApprovalPending | None = None
    announced: dict[str, bool] = Field(
        default_factory=dict,
        description="cluster id -> whether the pair's active side (its "
        "primary, epoch 0) was written in that cluster's "
        "jsc_dr_active bucket",
    )
    announce_errors: dict[str, str] = Field(
        default_factory=dict, description="cluster id -> why it could not be written there"
    )


def stored_streams(streams: list[PairStream]) -> list[dict[str, str]]:
    return [{"stream": s.stream, "mirror_stream": s.standby_name} for s in streams]


def pair_out(row: DrPair) -> DrPairOut:
    return DrPairOut(
        id=row.id,
        name=row.name,
        description=row.description or "",
        primary_cluster_id=row.primary_cluster_id,
        standby_cluster_id=row.standby_cluster_id,
        active_cluster_id=row.active_cluster_id,
        streams=[
            PairStreamOut(stream=s["stream"], mirror_stream=s.get("mirror_stream") or s["stream"])
            for s in row.streams or []
        ],
        rpo_seconds=row.rpo_seconds,
        rto_seconds=row.rto_seconds,
        last_drill=row.last_drill,
        last_failover=row.last_failover,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )

"""Typed requests of replication: a mirror, a DR pair, a failover (API bodies and workflow
inputs alike; a workflow receives them as plain JSON and validates them again)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.jetstream.config import Duration, Name
from core.labels import Description
from core.schema_rules import not_both, rules

Subject = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\s]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartAtSequence(_Model):
    seq: int = Field(ge=1, description="the first source sequence to copy")


class StartAtTime(_Model):
    time: datetime = Field(description="copy what was stored at or after this time")


MirrorStart = Literal["all", "new"] | StartAtSequence | StartAtTime


class SubjectTransform(_Model):
    src: Subject
    dest: Subject


class MirrorOverrides(_Model):
    """What the mirror stream does differently from its source (JetStream's field names;
    ``max_age`` in nanoseconds or a duration string such as "72h")."""

    num_replicas: int | None = Field(default=None, ge=1, le=5)
    storage: Literal["file", "memory"] | None = None
    max_bytes: int | None = Field(default=None, ge=-1)
    max_age: Duration | None = None


class MirrorRequest(_Model):
    """``POST /api/v1/operations/mirror``: ``target_stream`` on ``target_cluster_id`` mirrors
    ``source_stream`` of ``source_cluster_id`` (the same cluster, or another one reached through
    its JetStream domain)."""

    model_config = ConfigDict(
        json_schema_extra=rules(not_both("filter_subjects", "subject_transforms", truthy=True))
    )

    source_cluster_id: uuid.UUID
    source_stream: Name
    target_cluster_id: uuid.UUID
    target_stream: Name
    filter_subjects: list[Subject] = Field(default_factory=list, max_length=64)
    subject_transforms: list[SubjectTransform] = Field(default_factory=list, max_length=64)
    start: MirrorStart = "all"
    overrides: MirrorOverrides = Field(default_factory=MirrorOverrides)
    description: Description = Field(default="", max_length=4096)

    @model_validator(mode="after")
    def _one_way_to_filter(self) -> MirrorRequest:
        if self.filter_subjects and self.subject_transforms:
            raise ValueError("give either 'filter_subjects' or 'subject_transforms', not both")
        if (
            self.source_cluster_id == self.target_cluster_id
            and self.source_stream == self.target_stream
        ):
            raise ValueError("a stream cannot mirror itself: choose another 'target_stream'")
        return self


class MirrorJob(_Model):
    """The input of ``MirrorWorkflow``: one or many mirrors made together (a DR pair's missing
    mirrors are one operation). ``mirror_ids`` are the console's rows, position by position."""

    mirrors: list[MirrorRequest] = Field(min_length=1, max_length=500)
    mirror_ids: list[str] = Field(default_factory=list)
    pair_id: str | None = None


class PairStream(_Model):
    stream: Name
    mirror_stream: Name | None = Field(default=None, description="defaults to the same name")

    @property
    def standby_name(self) -> str:
        return self.mirror_stream or self.stream


class FailoverRequest(_Model):
    """``POST /api/v1/operations/failover``: a pair, or a primary cluster and some of its
    streams, fail over to ``target_cluster_id``."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            not_both("pair_id", "primary_cluster_id"),
            not_both("pair_id", "streams", truthy=True),
            not_both("drill", "reverse", truthy=True),
        )
    )

    pair_id: uuid.UUID | None = None
    primary_cluster_id: uuid.UUID | None = None
    streams: list[Name] = Field(default_factory=list, max_length=500)
    target_cluster_id: uuid.UUID
    mode: Literal["planned", "emergency"] = "planned"
    reverse: bool = False
    max_data_loss_messages: int | None = Field(default=None, ge=0)
    drill: bool = False
    fence_timeout_s: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="how long a planned failover waits for the "
        "mirrors to catch up before it unfences and aborts",
    )

    @model_validator(mode="after")
    def _pair_or_streams(self) -> FailoverRequest:
        if self.pair_id is None and (self.primary_cluster_id is None or not self.streams):
            raise ValueError("give 'pair_id', or 'primary_cluster_id' with 'streams'")
        if self.pair_id is not None and (self.primary_cluster_id or self.streams):
            raise ValueError("give 'pair_id' alone, or 'primary_cluster_id' with 'streams'")
        if (
            self.primary_cluster_id is not None
            and self.primary_cluster_id == self.target_cluster_id
        ):
            raise ValueError("the target cluster is the primary: choose the standby")
        if self.drill and self.reverse:
            raise ValueError("a drill touches neither side: it cannot 'reverse'")
        return self

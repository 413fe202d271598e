"""The replay request, its plan and checkpoint: pure pydantic models shared by the API, the
workflow and the activities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.jetstream.config import Name
from core.operations import OperationContext
from core.schema_rules import not_both, rules

SOURCE_HEADER = "Nats-Replay-Source"
ORIGINAL_TIME_HEADER = "Nats-Replay-Original-Time"
DEFAULT_REDRIVE_HEADER = "Nats-Original-Subject"
MAX_FAILURES_KEPT = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplayDestination(_Model):
    """Where messages go. ``subject``: every message to this subject; ``subject_prefix``: the
    original subject behind this prefix (``<prefix>.<subject>``); neither: the original subject
    (on another cluster). ``stream``, when given, must be the stream that stores them."""

    model_config = ConfigDict(
        json_schema_extra=rules(not_both("subject", "subject_prefix", truthy=True))
    )

    cluster_id: uuid.UUID | None = Field(default=None, description="default: the source cluster")
    stream: Name | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[^\s*>]+$")
    subject_prefix: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=r"^[^\s*>]*[^\s*>.]$"
    )

    @model_validator(mode="after")
    def _one_mapping(self) -> ReplayDestination:
        if self.subject and self.subject_prefix:
            raise ValueError("give either 'subject' or 'subject_prefix', not both")
        return self


class Redrive(_Model):
    """Dead-letter redrive: each message goes to the subject named in this header."""

    header: str = Field(default=DEFAULT_REDRIVE_HEADER, min_length=1, max_length=100)


class ReplayRequest(_Model):
    cluster_id: uuid.UUID
    stream: Name
    subjects: list[str] = Field(
        default_factory=list,
        max_length=32,
        description="subject filters with wildcards; empty: all",
    )
    start_seq: int | None = Field(default=None, ge=1)
    end_seq: int | None = Field(default=None, ge=1)
    start_time: datetime | None = None
    end_time: datetime | None = None
    destination: ReplayDestination = Field(default_factory=ReplayDestination)
    rate_limit: float | None = Field(default=None, gt=0, le=1_000_000, description="messages/s")
    add_source_header: bool = True
    keep_original_time: bool = True
    dry_run: bool = False
    redrive: Redrive | None = None

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, subjects: list[str]) -> list[str]:
        for subject in subjects:
            if not subject or " " in subject:
                raise ValueError(f"'{subject}' is not a subject filter")
        return subjects

    @field_validator("start_time", "end_time")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without an offset is UTC, as JetStream's own times are."""
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @model_validator(mode="after")
    def _ranges(self) -> ReplayRequest:
        if self.start_seq and self.end_seq and self.end_seq < self.start_seq:
            raise ValueError("end_seq is before start_seq")
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise ValueError("end_time is before start_time")
        if self.redrive and (self.destination.subject or self.destination.subject_prefix):
            raise ValueError(
                "redrive takes each subject from a header: give no destination "
                "subject or subject_prefix"
            )
        same_cluster = self.destination.cluster_id in (None, self.cluster_id)
        if (
            same_cluster
            and not self.redrive
            and not self.destination.subject
            and not self.destination.subject_prefix
        ):
            raise ValueError(
                "on the same cluster the original subjects would land back in the "
                "source stream: give destination.subject or subject_prefix"
            )
        return self

    @property
    def destination_cluster_id(self) -> uuid.UUID:
        return self.destination.cluster_id or self.cluster_id


class ReplayPlan(BaseModel):
    """The sequence range resolved from the request (times become sequences)."""

    first_seq: int
    last_seq: int  # inclusive; first_seq > last_seq means nothing to replay
    estimated_total: int
    exact: bool = True  # False: estimated_total is an upper bound


class ReplayCheckpoint(BaseModel):
    """How far a replay got: everything below ``next_seq`` is stored at the destination, and the
    destination held nothing of this replay beyond ``dest_seq`` (per destination stream)."""

    next_seq: int
    done: int = 0
    bytes: int = 0
    failed: int = 0
    dest_seqs: dict[str, int] = Field(default_factory=dict)
    failures: list[dict[str, Any]] = Field(default_factory=list)  # the first few, for the result
    rate_per_s: float | None = None  # measured over the last seconds, for live progress


class ReplayChunk(BaseModel):
    operation_id: str
    org_id: str
    request: ReplayRequest
    plan: ReplayPlan
    checkpoint: ReplayCheckpoint
    max_seconds: float = 5.0


class ReplayChunkResult(BaseModel):
    checkpoint: ReplayCheckpoint
    exhausted: bool
    elapsed_s: float
    # On the last chunk, when fewer messages were copied than planned: how many, and why.
    missing: dict[str, Any] | None = None


class DryRunResult(BaseModel):
    count: int
    bytes: int
    first_seq: int | None
    last_seq: int | None
    estimated_duration_s: float | None


class ReplayStart(BaseModel):
    context: OperationContext
    request: ReplayRequest


class ReplayPlanned(BaseModel):
    plan: ReplayPlan
    checkpoint: ReplayCheckpoint


class ReplayCarry(BaseModel):
    """What a replay carries into its next run when it continues as new (its history stays
    small however long it runs), and the tuning a test may lower."""

    planned: ReplayPlanned | None = None
    checkpoint: ReplayCheckpoint | None = None
    paused: bool = False
    stop_requested: bool = False
    runs: int = 0
    chunks_per_run: int = 300
    chunk_seconds: float = 5.0

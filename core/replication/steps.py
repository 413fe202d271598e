"""What ``MirrorWorkflow`` and its activities pass each other (``activities.mirror``): the plan of
each mirror found by the preparing step, what creating one left, and how far each has caught up.

Everything here is plain JSON through Temporal, so a history recorded once replays unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.operations import OperationContext
from core.replication.models import MirrorJob, MirrorRequest


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MirrorPlan(_Model):
    """One mirror as the preparing step found it: which way it reads its source and where the
    source ended then (``start: new`` starts after that sequence, on every retry)."""

    mirror_id: str
    request: MirrorRequest
    cross_domain: bool
    source_domain: str | None = None
    source_last_seq: int = 0


class PrepareInput(_Model):
    context: OperationContext
    job: MirrorJob


class Prepared(_Model):
    plans: list[MirrorPlan]


class CreateInput(_Model):
    context: OperationContext
    plan: MirrorPlan


class MirrorRef(_Model):
    """A created mirror, as measuring and pausing it needs it."""

    mirror_id: str
    source_cluster_id: str
    source_stream: str
    target_cluster_id: str
    target_stream: str
    consumer: str
    created_at: float = Field(description="epoch seconds when its stream was created")


class Measurement(_Model):
    """How far a mirror has got, read from its source consumer and its stream.

    ``copied`` is what the mirror stream holds, ``remaining`` what the source consumer has not
    delivered yet plus what it delivered that the mirror has not stored (the mirror's own
    ``lag`` reads 0 while paused or cut off: the consumer is the truth)."""

    mirror_id: str
    copied: int = 0
    bytes: int = 0
    remaining: int = 0
    caught_up: bool = False
    gone: bool = Field(default=False, description="its stream or consumer no longer exists")
    paused: bool = False
    delivered_seq: int = Field(
        default=0, description="the last source sequence the consumer delivered"
    )
    target_last_seq: int = 0
    caught_up_in_s: float | None = None


class WaitInput(_Model):
    context: OperationContext
    mirrors: list[MirrorRef]
    settled_done: int = Field(
        default=0,
        description="messages copied by mirrors already caught up (for the progress heartbeats)",
    )
    max_seconds: float = 300


class WaitResult(_Model):
    measurements: list[Measurement]
    elapsed_s: float


class ControlInput(_Model):
    context: OperationContext
    mirrors: list[MirrorRef]
    action: Literal["pause", "resume"]


class MarkInput(_Model):
    """Set the console's rows of these mirrors to ``state`` (only from the states listed in
    ``only_from``, when given)."""

    context: OperationContext
    mirror_ids: list[str]
    state: Literal["creating", "active", "paused", "failed", "removed"]
    only_from: list[str] = Field(default_factory=list)

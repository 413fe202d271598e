"""What a failover works from and what it reports, shared by the API, ``FailoverWorkflow`` and its
activities (plain JSON between them, validated again on each side).

- :class:`FailoverPlan`: the request resolved (the pair, or the primary and its streams; both
  clusters with their JetStream domains; which mirror on the target protects which stream) and
  what was measured when it was asked for. It is the change request's ``config`` a production
  failover's approvers read, and the workflow's input.
- :class:`StreamMeasure` / :class:`Measured`: step 1, per stream and in all.
- :class:`FailoverTask`: the input of every failover activity.
- :class:`Step`: one named step of the operation, as ``progress.steps`` lists them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.replication.models import FailoverRequest

STEP_NAMES = (
    "measure",
    "approve",
    "fence",
    "catch_up",
    "promote",
    "switch",
    "verify",
    "cleanup",
    "reverse",
)
# A reverse alone (``FailoverPlan.reverse_only``): the pair failed over without ``reverse`` earlier.
REVERSE_ONLY_STEPS = ("measure", "approve", "reverse")
StepName = Literal[
    "measure",
    "approve",
    "fence",
    "catch_up",
    "promote",
    "switch",
    "verify",
    "cleanup",
    "reverse",
    "rollback",
]
StepStatus = Literal["pending", "running", "done", "failed", "skipped"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClusterRef(_Model):
    cluster_id: str
    name: str
    domain: str | None = None
    environment: str = "development"


class PlanStream(_Model):
    """``stream`` on the primary is protected by ``mirror_stream`` on the target. ``mirror_id``
    is the console's mirror row (None for a mirror made elsewhere); ``consumer`` the durable
    consumer on the primary it reads through (None for a server-made mirror consumer)."""

    stream: str
    mirror_stream: str
    mirror_id: str | None = None
    consumer: str | None = None


class StreamMeasure(_Model):
    """One stream, as step 1 found it. ``lag_messages`` is exact when the primary was read
    (its last sequence minus the mirror's); otherwise it is the mirror's last report from the
    primary (``lag_exact`` false), or None when nothing is known. ``source`` is what promotion
    sets (the primary's subjects, de-duplication window, ...), read from the primary or, when
    it cannot be reached, from the mirror's own record (``source_from``)."""

    stream: str
    mirror_stream: str
    primary_reachable: bool
    primary_last_seq: int | None = None
    primary_messages: int | None = None
    standby_last_seq: int | None = None
    standby_messages: int | None = None
    lag_messages: int | None = None
    lag_exact: bool = False
    pending: int | None = None
    paused: bool = False
    consumer: str | None = None
    last_contact_s: float | None = None
    source: dict[str, Any] | None = None
    source_from: Literal["primary", "mirror_record"] | None = None
    problems: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Measured(_Model):
    streams: list[StreamMeasure]
    primary_reachable: bool
    measured_at: str
    data_at_risk_messages: int | None = None
    data_at_risk_exact: bool = False
    problems: list[str] = Field(default_factory=list, description="of the plan as a whole")

    @property
    def refusals(self) -> list[str]:
        return [*self.problems, *(f"{m.stream}: {p}" for m in self.streams for p in m.problems)]

    @property
    def warnings(self) -> list[str]:
        return [f"{m.stream}: {w}" for m in self.streams for w in m.warnings]

    def of(self, stream: str) -> StreamMeasure:
        return next(m for m in self.streams if m.stream == stream)


class FailoverPlan(_Model):
    """A failover (or drill) resolved. ``key`` names the pair's entry in the ``jsc_dr_active``
    bucket (the pair id, or a stable id of the primary and its streams for a request without a
    pair). ``approval`` says how it got past the change gate: at once by policy (``auto``), or
    through a change request.

    ``reverse_only``: the pair is active on the target already (it failed over without
    ``reverse``), and only the reverse step runs: ``primary`` is the old primary, which becomes a
    mirror of ``target``, its data kept aside; each stream's ``mirror_stream`` is the promoted
    stream on the target."""

    request: FailoverRequest
    pair_id: str | None = None
    pair_name: str | None = None
    key: str
    primary: ClusterRef
    target: ClusterRef
    streams: list[PlanStream] = Field(min_length=1)
    measured: Measured | None = None
    approval: Literal["auto", "request"] = "request"
    reverse_only: bool = False
    # The request's, repeated at the top for readers of the operation's input and of the change
    # request's config (``input.drill``): always equal to ``request``'s.
    drill: bool = False
    mode: Literal["planned", "emergency"] = "planned"

    @model_validator(mode="after")
    def _as_requested(self) -> FailoverPlan:
        self.drill, self.mode = self.request.drill, self.request.mode
        return self

    @property
    def cross_domain(self) -> bool:
        return self.primary.cluster_id != self.target.cluster_id

    @property
    def glances_at_primary(self) -> bool:
        """An emergency failover only glances at its primary (said to be down); a reverse alone
        needs its old primary, whatever the mode."""
        return self.mode == "emergency" and not self.drill and not self.reverse_only

    @property
    def title(self) -> str:
        return self.pair_name or f"{self.primary.name}: {', '.join(s.stream for s in self.streams)}"


class FencePoint(_Model):
    """Where a stream stood when it was fenced (or, in a drill, when its fence point was taken):
    nothing is stored on the primary after ``last_seq``. ``subjects`` are its own subjects."""

    stream: str
    mirror_stream: str
    last_seq: int
    messages: int
    subjects: list[str] = Field(default_factory=list)
    at: str
    fenced: bool = True


class FailoverTask(_Model):
    """The input of the failover activities: the operation, its plan, and what earlier steps
    produced (fence points, the catch-up deadline, a drill's copies)."""

    operation_id: str
    org_id: str
    plan: FailoverPlan
    points: list[FencePoint] = Field(default_factory=list)
    deadline: str | None = None
    promoted: list[str] = Field(default_factory=list)  # mirror streams promoted
    announcement: dict[str, Any] | None = None
    record: dict[str, Any] | None = None  # last_failover / last_drill of the pair

    @property
    def short(self) -> str:
        """Eight hex digits of the operation id: the suffix of the names it makes."""
        return self.operation_id.replace("-", "")[:8]


class Step(_Model):
    name: StepName
    status: StepStatus = "pending"
    started_at: str | None = None
    finished_at: str | None = None
    detail: Any = None

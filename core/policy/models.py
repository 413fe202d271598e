"""Typed inputs and outputs of the approval decision: change requests, policies, decisions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.labels import Description, Label, readable

Kind = Literal[
    "stream",
    "consumer",
    "kv_bucket",
    "object_store",
    "purge",
    "replay",
    "quota",
    "mirror",
    "failover",
    "restore",
    "gitops_sync",
]
Operation = Literal[
    "create", "update", "delete", "purge", "replay", "increase", "failover", "restore", "sync"
]
Environment = Literal["production", "staging", "development"]
Outcome = Literal["auto_approved", "auto_rejected", "needs_approval"]

GB = 1024**3
"""One GB in this module is 2**30 bytes (a GiB), as JetStream reports sizes."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """Refuse what PostgreSQL cannot store or nobody means: NUL characters, absurd numbers."""
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and "\x00" in item:
                raise ValueError("must not contain NUL characters")
            if isinstance(item, float) and not (item == 0 or 1e-6 <= abs(item) <= 1e15):
                raise ValueError("is out of range (between 0.000001 and 1e15, or 0)")
        return value


class ChangeRequest(_Model):
    """One change, whoever asks for it (UI, CLI, git push, assistant). ``after`` is the full
    config of a create or update, ``before`` the current config of an update or delete. A quota
    request names ``quota_resource`` (a key of ``quota``) with its current and requested limit.
    ``usage`` and ``quota`` are the team's live usage and limits by quota name."""

    kind: Kind
    operation: Operation
    environment: Environment
    team_prefixes: list[str] = Field(default_factory=list)
    namespace_exempt: bool = False  # the requester's grant is organization-wide, not per team
    resource_name: str = ""
    stream_name: str | None = None  # the parent stream of a consumer, for namespace checks
    requester_id: str
    requester_roles: list[str] = Field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    quota_resource: str | None = None
    current_limit: float | None = None
    requested_limit: float | None = None
    usage: dict[str, float] = Field(default_factory=dict)
    quota: dict[str, float] = Field(default_factory=dict)


class Triggers(_Model):
    """When a policy applies. Empty lists match anything; the lists are ANDed. Thresholds, when any
    is set, must have at least one hit (they are ORed, as the source design lists them)."""

    environments: list[Environment] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list)
    operations: list[Operation] = Field(default_factory=list)
    storage_increase_gt_bytes: int | None = None
    quota_multiplier_gt: float | None = None
    replicas_changed: bool = False
    monthly_cost_gt: float | None = None

    def has_thresholds(self) -> bool:
        return (
            self.storage_increase_gt_bytes is not None
            or self.quota_multiplier_gt is not None
            or self.replicas_changed
            or self.monthly_cost_gt is not None
        )


class ApprovalGroup(_Model):
    """``count`` approvals from anyone holding one of ``roles``, belonging to one of ``teams`` or
    listed in ``users``. Groups of a policy are passed in order (sequence). A group with
    ``when_monthly_cost_gt`` is required only above that monthly cost.

    ``roles`` and ``teams`` are names, as people read them; ``role_ids`` and ``team_ids`` (same
    length, position by position; ``""`` where the name named nothing when the policy was saved)
    are what decides who may approve: a built-in role's id is its name, a custom role's and a
    team's their database id, so renaming a role or a team changes nothing. A group without ids
    (``None``) was decided before ids existed and is matched by name (``core.policy.refs``)."""

    name: Label
    count: int = Field(default=1, ge=1, le=100)
    roles: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    when_monthly_cost_gt: float | None = None
    role_ids: list[str] | None = None
    team_ids: list[str] | None = None

    @model_validator(mode="after")
    def _parallel(self) -> ApprovalGroup:
        for names, ids, field in (
            (self.roles, self.role_ids, "role_ids"),
            (self.teams, self.team_ids, "team_ids"),
        ):
            if ids is not None and len(ids) != len(names):
                raise ValueError(f"{field} must have one entry per name ({len(names)})")
        return self


class AutoApprove(_Model):
    """One auto-approve rule; every field set must hold (AND). A policy's rules are ORed."""

    environments: list[Environment] = Field(default_factory=list)
    within_quota: bool = False
    change_under_pct: float | None = Field(default=None, ge=0, le=10_000)
    requested_limit_below_bytes: int | None = None


class AutoReject(_Model):
    """One auto-reject rule; ``kinds``/``environments`` narrow it, then any check that fails
    rejects: ``min_replicas`` (the new config has fewer replicas), ``outside_namespace`` (the name
    does not start with one of the team's prefixes)."""

    environments: list[Environment] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list)
    min_replicas: int | None = None
    outside_namespace: bool = False


class Escalation(_Model):
    after_hours: float = Field(gt=0, le=87_600)
    notify: str = Field(min_length=1, max_length=320)


class ApprovalPolicy(_Model):
    """Lower ``priority`` is evaluated first; ties go by name."""

    name: Label = Field(min_length=1, max_length=255)
    version: int = Field(default=1, ge=1, le=1_000_000)
    priority: int = Field(default=100, ge=-1_000_000, le=1_000_000)
    enabled: bool = True
    description: Description = Field(default="", max_length=4000)
    triggers: Triggers = Field(default_factory=Triggers)
    groups: list[ApprovalGroup] = Field(default_factory=list)
    auto_approve: list[AutoApprove] = Field(default_factory=list)
    auto_reject: list[AutoReject] = Field(default_factory=list)
    sla_hours: float | None = Field(default=None, ge=0, le=87_600)
    escalation: list[Escalation] = Field(default_factory=list)


def stored_policy(definition: dict[str, Any]) -> dict[str, Any]:
    """A stored policy's definition, its names and description readable (control characters
    saved before they were refused are shown as U+FFFD) so it validates again."""
    readable_names = {
        key: readable(definition[key])
        for key in ("name", "description")
        if isinstance(definition.get(key), str)
    }
    groups = [
        {**g, "name": readable(g["name"])}
        if isinstance(g, dict) and isinstance(g.get("name"), str)
        else g
        for g in definition.get("groups") or []
    ]
    return {**definition, **readable_names, **({"groups": groups} if groups else {})}


class PolicyRef(_Model):
    name: str
    version: int


class Decision(_Model):
    outcome: Outcome
    policy: PolicyRef | None = None
    groups: list[ApprovalGroup] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    sla_hours: float | None = Field(default=None, ge=0, le=87_600)
    escalation: list[Escalation] = Field(default_factory=list)


class QuotaViolation(_Model):
    """``would_be`` is None when the change makes the usage unbounded (a stream without
    ``max_bytes`` under a storage quota)."""

    quota: str
    usage: float
    limit: float
    would_be: float | None

    def sentence(self) -> str:
        after = "unbounded" if self.would_be is None else f"{self.would_be:g}"
        return (
            f"Quota '{self.quota}' would be exceeded: usage {self.usage:g}, limit "
            f"{self.limit:g}, after this change {after}."
        )


class HistoryEntry(_Model):
    """A past change of one quota (or of a stream's ``max_bytes``): from ``before`` to ``after``."""

    resource: str
    before: float
    after: float
